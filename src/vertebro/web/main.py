"""ASGI entry point for multi-worker servers: ``uvicorn vertebro.web.main:app``."""

from vertebro.web.app import create_app

app = create_app()
