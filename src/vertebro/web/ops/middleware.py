"""The request id, the access log line and the request metrics, for every HTTP request.

The id is the client's (or the proxy's) ``X-Request-ID`` when it is sane (1 to 64 letters, digits and
``._:-``), otherwise a new random one; it is echoed in the response's ``X-Request-ID``, written in every
audit row of the request (``audit_log.request_id``) and in the request's JSON log line.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vertebro.logs import ACCESS_LOGGER
from vertebro.metrics import REQUEST_SECONDS, REQUESTS
from vertebro.store.context import request_id

SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = b"x-request-id"
UNMATCHED = "unmatched"  # one label for every path no route matched (no label per scanned URL)

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """Return the request's ``X-Request-ID`` if it is sane, else a new id (32 hex digits)."""
    for name, value in headers:
        if name.lower() == HEADER:
            text = value.decode("latin-1")
            if SANE_ID.match(text):
                return text
            break
    return secrets.token_hex(16)


def route_of(scope: Scope) -> str:
    """Return the route template the request matched (``/patients/{patient_id}``), not its concrete path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestContext:
    """Pure ASGI middleware: sets the request id, times the request, logs it and counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope.get("headers", []))
        token = request_id.set(rid)
        # Kept in the scope too: the 500 handler runs outside this middleware, after the variable is reset.
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_of(scope), scope["method"]
            REQUEST_SECONDS.labels(method, route).observe(seconds)
            REQUESTS.labels(method, route, str(status)).inc()
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": method,
                        "route": route,  # the template, never the path: paths can hold tokens (activation links)
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    }
                },
            )
            request_id.reset(token)
