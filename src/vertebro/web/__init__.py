"""The staff web app (server-rendered pages with htmx) and the JSON API under /api."""
