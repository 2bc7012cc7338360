"""ASGI entry point for multi-worker servers: ``uvicorn vertebro.web.main:app``."""

from vertebro.logs import configure_json_logging
from vertebro.web.app import create_app

configure_json_logging()
app = create_app()
