"""``/healthz`` (the process answers), ``/readyz`` (it can serve: database, schema, worker) and ``/metrics``.

None of them is in the API schema: they are for load balancers, orchestrators and Prometheus. ``/metrics``
is for admins, for this machine (no proxy in between) and for a scraper holding ``VERTEBRO_METRICS_TOKEN``
(decision 0022); it shows counts and latencies only, never patient data.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import ipaddress
from collections.abc import Iterator
from typing import Any

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from vertebro.jobs.queue import QueueState, queue_state
from vertebro.metrics import exposition
from vertebro.store.db import UnitOfWork
from vertebro.store.migrate import head_revision
from vertebro.store.models import FhirExportJob
from vertebro.store.staff_service import signed_in

router = APIRouter(include_in_schema=False)
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


@functools.cache
def _head() -> str:
    return head_revision()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving (no database touched: restart it only if this fails)."""
    return {"status": "alive"}


def _worker_expected(request: Request) -> bool:
    return getattr(request.app.state, "job_queue", None) is not None


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers, its schema is at this code's head, and (where jobs go to a
    queue, PostgreSQL) a worker sent a heartbeat within ``VERTEBRO_WORKER_STALLED_AFTER_SECONDS``. 503 otherwise."""
    checks: dict[str, dict[str, Any]] = {}
    settings = request.app.state.settings
    try:
        with request.app.state.session_factory() as session:
            connection = session.connection()
            connection.execute(text("SELECT 1"))
            checks["database"] = {"ok": True}
            current = MigrationContext.configure(connection).get_current_revision()
            checks["migrations"] = {"ok": current == _head(), "current": current, "head": _head()}
            if _worker_expected(request) and checks["migrations"]["ok"]:
                state = queue_state(connection)
                heartbeat = state.last_heartbeat if state is not None else None
                age = (dt.datetime.now(dt.UTC) - heartbeat).total_seconds() if heartbeat is not None else None
                fresh = age is not None and age <= settings.worker_stalled_after_seconds
                checks["worker"] = {"ok": fresh, "last_heartbeat_seconds_ago": None if age is None else round(age, 1)}
            session.rollback()
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        checks["database"] = {"ok": False, "error": type(cause).__name__}
    ready = all(check["ok"] for check in checks.values()) and "migrations" in checks
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _local_and_direct(request: Request) -> bool:
    """A client on this machine that came through no proxy (a proxy on this machine forwards anyone)."""
    if request.client is None or any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


class JobCollector(Collector):
    """The background jobs' state, read from the database at each scrape."""

    def __init__(self, exports: dict[str, int], queue: QueueState | None) -> None:
        self.exports, self.queue = exports, queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the export jobs by status and, on PostgreSQL, the queue's jobs by status and the heartbeat age."""
        exports = GaugeMetricFamily("vertebro_fhir_export_jobs", "FHIR $export jobs by status.", labels=["status"])
        for status in ("queued", "running", "complete", "failed"):
            exports.add_metric([status], self.exports.get(status, 0))
        yield exports
        if self.queue is None:
            return
        depth = GaugeMetricFamily(
            "vertebro_job_queue_jobs",
            "Jobs in the PostgreSQL job queue by status (todo is the queue depth).",
            labels=["status"],
        )
        for status in ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted"):
            depth.add_metric([status], self.queue.depth.get(status, 0))
        yield depth
        if self.queue.last_heartbeat is not None:
            age = (dt.datetime.now(dt.UTC) - self.queue.last_heartbeat).total_seconds()
            yield GaugeMetricFamily(
                "vertebro_worker_heartbeat_age_seconds", "Seconds since the freshest worker heartbeat.", value=age
            )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics: request latency by route, request counts, audit write failures, job queue depth."""
    token = request.app.state.settings.metrics_token
    bearer = _bearer(request)
    scraper = bool(token and bearer and hmac.compare_digest(bearer.encode(), token.encode()))
    with UnitOfWork(request.app.state.session_factory) as uow:
        if not (scraper or _local_and_direct(request)):
            web_session = signed_in(uow, bearer or request.cookies.get("vertebro_session"))
            uow.commit()
            if web_session is None:
                return PlainTextResponse("sign in as an admin, or send the metrics token", status_code=401)
            if web_session.user.role != "admin":
                return PlainTextResponse("only the admin role may read the metrics", status_code=403)
        counts = uow.session.execute(select(FhirExportJob.status, func.count()).group_by(FhirExportJob.status))
        exports = {str(status): int(count) for status, count in counts}
        queue = queue_state(uow.session.connection())
        uow.rollback()
    return Response(exposition(JobCollector(exports, queue)), media_type="text/plain; version=0.0.4; charset=utf-8")
