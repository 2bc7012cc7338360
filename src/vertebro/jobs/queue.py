"""Where jobs run (a worker on PostgreSQL, the server process on SQLite) and the queue's state.

A job is deferred in the caller's own transaction (Procrastinate accepts an external psycopg connection):
the job row and the work it refers to (an export job's row, say) commit together or not at all, so a
queued job never points at nothing and a committed request never lacks its job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from vertebro.config import Settings
from vertebro.errors import InvalidInput
from vertebro.store.db import UnitOfWork

EXPORT_TASK = "vertebro.fhir_export"
REGISTRY_TASK = "vertebro.registry_rebuild"
SCHEDULE_TASK = "vertebro.schedule_plan"
REMINDERS_TASK = "vertebro.reminders"
DELIVER_TASK = "vertebro.deliver_messages"  # deliver the outbox now (a reply to a secure message, decision 0035)
STALLED_TASK = "vertebro.retry_stalled_jobs"
CLEANUP_TASK = "vertebro.remove_old_jobs"


def uses_worker(settings: Settings) -> bool:
    """Return whether background jobs go to the queue (``vertebro worker``) rather than the server process.

    ``VERTEBRO_JOBS=auto`` (the default) queues them on PostgreSQL and runs them in-process on SQLite;
    ``worker`` on SQLite is refused (the queue needs PostgreSQL).
    """
    postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
    if settings.jobs == "worker" and not postgres:
        raise InvalidInput("VERTEBRO_JOBS=worker needs PostgreSQL: on SQLite jobs run in the server", field="jobs")
    return postgres and settings.jobs != "in-process"


def conninfo(database_url: str) -> str:
    """Return the libpq connection string of a ``postgresql+psycopg://`` URL (for Procrastinate's pool)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class WorkerQueue:
    """Defers jobs to the Procrastinate queue in the caller's transaction (PostgreSQL only)."""

    def __init__(self, database_url: str) -> None:
        from vertebro.jobs.tasks import job_app

        self.app = job_app(database_url)

    def defer(self, uow: UnitOfWork, task: str, **arguments: Any) -> int:
        """Queue ``task`` with ``arguments`` in the unit of work's transaction; return the queue's job id."""
        raw = uow.session.connection().connection.driver_connection
        job_id: int = self.app.configure_task(task, connection=raw).defer(**arguments)
        return job_id

    def defer_export(self, uow: UnitOfWork, job_id: str) -> None:
        """Queue a FHIR ``$export`` job (its row was added in the same transaction)."""
        self.defer(uow, EXPORT_TASK, job_id=job_id)


@dataclass(frozen=True, slots=True)
class QueueState:
    """How many queue jobs are in each status, and when a worker was last heard of."""

    depth: dict[str, int]
    last_heartbeat: dt.datetime | None


def queue_state(connection: Connection) -> QueueState | None:
    """Return the job queue's state, or None where there is no queue (SQLite)."""
    if connection.dialect.name != "postgresql":
        return None
    depth = {
        str(status): int(count)
        for status, count in connection.execute(
            text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
        )
    }
    heartbeat = connection.execute(text("SELECT max(last_heartbeat) FROM procrastinate_workers")).scalar()
    return QueueState(depth, heartbeat)
