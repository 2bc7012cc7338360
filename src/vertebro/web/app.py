"""The FastAPI application: pages for staff, the JSON API under /api (OpenAPI at /docs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from vertebro.config import Settings
from vertebro.intake.questionnaires import DEMO_DIR as DEMO_QUESTIONNAIRES
from vertebro.intake.questionnaires import load_questionnaires
from vertebro.jobs.queue import WorkerQueue, uses_worker
from vertebro.store.db import make_engine, make_session_factory
from vertebro.web.auth.endpoints import router as auth_router
from vertebro.web.deps import fresh_clinic_settings
from vertebro.web.errors.handlers import install as install_error_handlers
from vertebro.web.errors.limits import BodyLimits
from vertebro.web.errors.query import single_valued_query
from vertebro.web.errors.responses import document_responses
from vertebro.web.ops.endpoints import router as ops_router
from vertebro.web.ops.middleware import RequestContext
from vertebro.web.smart.cors import SmartCors

STATIC = Path(__file__).resolve().with_name("static")
# The hash of the empty string lets FullCalendar create an *empty* <style> element, into which its script then
# inserts its rules through the CSSOM (not governed by style-src); no inline style with content passes (decision 0032).
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
SECURITY_HEADERS = {
    "Content-Security-Policy": f"default-src 'self'; img-src 'self' data:; style-src 'self' {EMPTY_STYLE_HASH}; "
    "script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class ConcurrencyLimit:
    """At most ``limit`` requests in the app at once; the rest wait here, holding no database connection.

    A request keeps its database connection between the steps FastAPI runs in worker threads. If more
    requests were in flight than the connection pool holds, threads waiting for a connection could starve
    the requests that hold one (the pool and the thread pool deadlock). With the number of requests in
    flight bounded by the pool size, and as many threads, every admitted request can always finish.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.semaphore: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.semaphore is None:
            self.semaphore = anyio.Semaphore(self.limit)
        async with self.semaphore:
            await self.app(scope, receive, send)


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response (cheaper than BaseHTTPMiddleware).

    Strict-Transport-Security is sent on responses to HTTPS requests only (RFC 6797 8.1: never over plain
    HTTP). Behind a TLS-terminating proxy the scheme is the proxy's ``X-Forwarded-Proto``, believed only
    from ``VERTEBRO_TRUSTED_PROXIES`` (decision 0020).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
        self.docs_headers = [h for h in self.headers if h[0] != b"content-security-policy"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] in ("/docs", "/redoc") else self.headers
        if scope.get("scheme") == "https":
            extra = [*extra, HSTS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Return the app wired to the configured database (or to ``engine``, in tests)."""
    settings = settings or Settings()
    # A request holds its database connection while it waits for a worker thread; with more threads than
    # connections, threads waiting for a connection can starve the requests that hold one. So the thread
    # pool never exceeds what the connection pool can serve.
    threads = settings.db_pool_size + settings.db_max_overflow

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        title="vertebro",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(single_valued_query), Depends(fresh_clinic_settings)],
    )
    app.state.settings = settings
    app.state.policy = settings.policy()
    app.state.engine = engine or make_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, pool_timeout=10
    )
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.job_queue = WorkerQueue(settings.database_url) if uses_worker(settings) else None  # decision 0022
    app.state.questionnaires = load_questionnaires(
        settings.questionnaire_dir or (DEMO_QUESTIONNAIRES if settings.demo_mode else None)
    )
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    from vertebro.fhir.cds_endpoints import cds_router
    from vertebro.fhir.endpoints import router as fhir_router
    from vertebro.fhir.smart_endpoints import router as smart_router
    from vertebro.intake.fhir_bundle import case_from_resources
    from vertebro.web.admin.endpoints import router as admin_router
    from vertebro.web.api.endpoints import router as api_router
    from vertebro.web.calendar.endpoints import router as calendar_router
    from vertebro.web.chart.endpoints import router as chart_router
    from vertebro.web.chart.procedure_mode import router as procedure_mode_router
    from vertebro.web.documents.endpoints import router as documents_router
    from vertebro.web.inbox.endpoints import router as inbox_router
    from vertebro.web.portal.intake import router as portal_intake_router
    from vertebro.web.portal.me import router as portal_me_router
    from vertebro.web.portal.messages import router as portal_messages_router
    from vertebro.web.portal.public import router as portal_public_router
    from vertebro.web.portal.staff import router as portal_staff_router
    from vertebro.web.referrals.endpoints import router as referrals_router
    from vertebro.web.registry.endpoints import router as registry_router
    from vertebro.web.schedule.endpoints import router as schedule_router
    from vertebro.web.smart.admin import router as smart_admin_router
    from vertebro.web.smart.endpoints import router as smart_app_router
    from vertebro.web.worklist.endpoints import router as worklist_router

    # Routes are matched in order: the busiest (worklist, chart, case API) first. No two routers share a path.
    routers = (
        ops_router,
        worklist_router,
        chart_router,
        procedure_mode_router,
        api_router,
        auth_router,
        referrals_router,
        calendar_router,
        schedule_router,
        documents_router,
        admin_router,
        registry_router,
        smart_app_router,
        smart_admin_router,
        smart_router,  # before /fhir: its /fhir/.well-known route would match /fhir/{type}/{id}
        fhir_router,
        cds_router(case_from_resources),
        portal_public_router,
        portal_me_router,
        portal_messages_router,
        inbox_router,
        portal_intake_router,
        portal_staff_router,
    )
    for router in routers:
        app.include_router(router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """The site icon where browsers look for it (pages also name /static/favicon.svg)."""
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        """The API documentation (Swagger UI, vendored: no CDN, works offline)."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="vertebro API",
            swagger_js_url="/static/vendor/swagger-ui-bundle-5.35.0.js",
            swagger_css_url="/static/vendor/swagger-ui-5.35.0.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_body_bytes,
        max_bulk_bytes=settings.max_fhir_body_bytes,
        max_depth=settings.max_json_depth,
    )
    app.add_middleware(SmartCors)  # inside the concurrency limit: its origin lookup uses a database connection
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ConcurrencyLimit, limit=threads)
    app.add_middleware(RequestContext)  # the request id and the timing cover the wait for a slot
    if settings.trusted_proxies.strip():  # outermost: everything inside sees the forwarded client and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    install_error_handlers(app)
    document_responses(app)

    return app
