"""CORS for browser-based SMART apps: /fhir and the token endpoint answer the web origins registered with an
active app, and only them (decision 0039).

A public app running in a browser on its own site (``https://viewer.example``) calls vertebro's FHIR API and token
endpoint with ``fetch``; the browser lets it read the answers only when they carry
``Access-Control-Allow-Origin`` with its origin. Starlette's ``CORSMiddleware`` takes one fixed list for the whole
application; here the list is the registered apps' origins (``smart_clients.allowed_origins``, given at
registration or taken from the app's redirect URIs), read on each cross-origin request, so a newly registered app
works at once and a revoked one's origin gets nothing more. Only ``/fhir``, ``/fhir/...`` and ``/auth/token``:
staff pages, the JSON API, the consent page and the portal never carry CORS headers.

* A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from a registered origin is answered here, 204,
  with the origin echoed, the methods and request headers FHIR needs (``Authorization``, ``Content-Type``,
  ``If-Match``, ``Prefer`` ...) and ``Vary: Origin``; from any other origin 403 with no CORS header, so the
  browser does not send the request.
* Other requests go on as usual; from a registered origin the answer (errors included) carries the origin and
  exposes ``ETag``, ``Location``, ``Content-Location`` and ``WWW-Authenticate``. Every answer on these paths says
  ``Vary: Origin``.
* Never ``Access-Control-Allow-Credentials``: apps send bearer tokens, so the browser neither sends the staff
  session cookie with an app's request nor lets an app read an answer given to that cookie.

The origin is looked up in a worker thread with its own short unit of work. The middleware sits inside the
concurrency limit (``web.app``), so the lookup and the request's own connection are never held at once.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vertebro.fhir.smart_apps import allowed_origin
from vertebro.fhir.smart_endpoints import TOKEN_PATH
from vertebro.store.db import UnitOfWork

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Exist, If-None-Match, Prefer"
EXPOSE_HEADERS = "Content-Location, ETag, Location, WWW-Authenticate"
MAX_AGE = "600"  # seconds a browser may keep a preflight's answer


def cors_path(path: str) -> bool:
    """Whether a path is one browser-based apps may call from their origins: the FHIR API and the token endpoint."""
    return path == "/fhir" or path.startswith("/fhir/") or path == TOKEN_PATH


class SmartCors:
    """Pure ASGI middleware answering CORS for the origins of registered SMART apps on /fhir and /auth/token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not cors_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin is not None and await anyio.to_thread.run_sync(_registered, scope, origin)
        if scope["method"] == "OPTIONS" and origin is not None and "access-control-request-method" in headers:
            await _preflight(origin if allowed else None)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer.add_vary_header("Origin")
                if allowed and origin is not None:
                    answer["Access-Control-Allow-Origin"] = origin
                    answer["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _registered(scope: Scope, origin: str) -> bool:
    with UnitOfWork(scope["app"].state.session_factory) as uow:
        return allowed_origin(uow, origin)


def _preflight(origin: str | None) -> Response:
    """The answer to a preflight: 204 with the CORS headers for a registered origin, else 403 without any."""
    vary = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
    if origin is None:
        return PlainTextResponse("this web origin is not registered with a SMART app", status_code=403, headers=vary)
    allow = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
    }
    return Response(status_code=204, headers={**vary, **allow})
