"""Request limits applied before a request reaches a route: the body's size and the nesting depth of JSON.

A body larger than its limit is refused with 413 as soon as that is known: from ``Content-Length`` before any
of it is read, or, for a chunked body, when the bytes read pass the limit (never more than the limit plus one
chunk is held). A JSON body nested deeper than the depth limit is refused with 400 before any parser sees it:
Python's JSON parser and the code walking its result recurse once per level, and 100,000 nested ``[`` would
exhaust the stack (a RecursionError, an error 500). Form bodies (``application/x-www-form-urlencoded``,
``multipart/form-data``) are not JSON and are only size-checked.

The transaction and batch endpoint (``POST /fhir``, a Bundle of many resources) has its own, larger, size limit.
The limits are settings: ``VERTEBRO_MAX_BODY_BYTES``, ``VERTEBRO_MAX_FHIR_BODY_BYTES``,
``VERTEBRO_MAX_JSON_DEPTH``.
"""

from __future__ import annotations

import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.responses import FhirResponse
from vertebro.web.errors.schemas import ErrorOut

BULK_PATHS = frozenset({"/fhir", "/fhir/"})  # transaction and batch Bundles: the larger limit
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Return True when JSON text nests arrays and objects more than ``limit`` levels deep.

    Brackets inside strings do not count. Malformed text is measured as it stands (an unclosed ``[`` counts as
    a level), so that it is refused without being parsed when it is too deep, and left to the parser otherwise.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # too few brackets to be too deep: the common case, at the speed of bytes.count
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth = max(depth - 1, 0)
    return False


def _error(path: str, status: int, message: str) -> JSONResponse:
    if path == "/fhir" or path.startswith("/fhir/"):
        return FhirResponse(operation_outcome(status, message, expression="body"), status_code=status)
    return JSONResponse(ErrorOut(detail=message, field="body").model_dump(), status_code=status)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimits:
    """Pure ASGI middleware refusing bodies over the size limit (413) and JSON nested too deep (400)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_bulk_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_bulk_bytes = max_bulk_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.max_bulk_bytes if scope["method"] == "POST" and path in BULK_PATHS else self.max_bytes
        too_large = _error(path, 413, f"the request body is larger than this server accepts here ({limit:,} bytes)")
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or "").lower()
        if body and not content_type.startswith(FORM_TYPES) and nesting_exceeds(body, self.max_depth):
            message_text = f"the JSON is nested more than {self.max_depth} levels deep"
            await _error(path, 400, message_text)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Return a receive callable that gives ``messages`` first, then whatever the server sends."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
