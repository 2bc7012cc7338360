"""What the current request or job is, for the audit log: a context variable set at the boundary.

The web middleware sets :data:`request_id` for each request (``X-Request-ID`` when sane, else a new one)
and a background job sets it to its job id, so every audit row written meanwhile names the request or
job behind it (``audit_log.request_id``). Context variables follow the request into the worker threads
FastAPI runs endpoints in.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("vertebro_request_id", default=None)


def current_request_id() -> str | None:
    """Return the id of the request or job being served, or None outside one (CLI commands)."""
    return request_id.get()
