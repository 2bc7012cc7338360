"""The jobs a ``vertebro worker`` runs, and the Procrastinate app that knows them.

Every job is safe to run twice (a worker killed with ``kill -9`` has its running jobs retried, and a job
that committed its work just before the kill runs again):

* a FHIR ``$export`` restarts from its first patient and rewrites its files (its row says what was done);
* delivering the outbox sends only what is still unsent (the secure-message notification, decision 0035);
* the reminders queue nothing twice (one reminder per follow-up or appointment) and lock the messages
  they deliver; delivery through SMTP is at least once (a crash after the SMTP server accepted a message
  and before the database recorded it sends it again);
* a registry rebuild rebuilds from the source tables in one transaction;
* a schedule plan stores its key in ``job_results`` in the same transaction as the proposal, so a retried
  job finds it and does nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from pathlib import Path

import procrastinate
from procrastinate import JobContext
from sqlalchemy.orm import Session, sessionmaker

from vertebro.config import Settings
from vertebro.fhir.export_jobs import run_job
from vertebro.jobs.queue import (
    CLEANUP_TASK,
    DELIVER_TASK,
    EXPORT_TASK,
    REGISTRY_TASK,
    REMINDERS_TASK,
    SCHEDULE_TASK,
    STALLED_TASK,
    conninfo,
)
from vertebro.messaging.outbox import deliver_pending, outbox_from_settings
from vertebro.pathway.machine import Role
from vertebro.registry.repository import rebuild_all, rebuilt_count
from vertebro.scheduling.replan import current_placement
from vertebro.scheduling.service import PlanningSetup, database_instance, proposal, save_proposal
from vertebro.store.clinic_settings import stored_policy
from vertebro.store.context import request_id
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import JobResult
from vertebro.store.portal.reminders import queue_due_reminders
from vertebro.store.workflow import Actor

RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=3)
KEEP_FINISHED_HOURS = 24 * 14  # finished queue jobs are kept two weeks (the audit log keeps the rest)


@functools.cache
def _sessions(database_url: str) -> sessionmaker[Session]:
    """One engine per worker process and database (its pool serves the worker's concurrent jobs)."""
    return make_session_factory(make_engine(database_url, pool_size=4, max_overflow=4, pool_pre_ping=True))


def _job_key(context: JobContext) -> str:
    job = context.job
    return f"job-{job.id}" if job is not None else f"job-{secrets.token_hex(6)}"


def run_export(database_url: str, job_id: str, *, export_dir: Path | None = None) -> None:
    """Run (or, after a crash, restart) one FHIR ``$export`` job."""
    folder = export_dir if export_dir is not None else Settings().export_dir
    run_job(_sessions(database_url), job_id, folder, restart=True)


def send_reminders(database_url: str, today: dt.date, settings: Settings) -> tuple[int, int]:
    """Queue the reminders due ``today`` and deliver the outbox; return (queued, sent)."""
    factory = _sessions(database_url)
    with UnitOfWork(factory) as uow:
        queued = queue_due_reminders(uow, today=today, policy=stored_policy(uow, settings.policy()))
        uow.commit()
    with UnitOfWork(factory) as uow:
        delivery = deliver_pending(uow, outbox_from_settings(settings), limit=500)
        uow.commit()
    return queued.follow_ups + queued.appointments + queued.preparation + queued.team, delivery.sent


def deliver_outbox(database_url: str, settings: Settings) -> int:
    """Deliver the messages waiting in the outbox (each locked while it is sent); return how many went out."""
    with UnitOfWork(_sessions(database_url)) as uow:
        delivery = deliver_pending(uow, outbox_from_settings(settings), limit=100)
        uow.commit()
    return delivery.sent


def rebuild_registry(database_url: str) -> int:
    """Rebuild the outcomes registry from the source tables; return how many treated cases it holds."""
    with UnitOfWork(_sessions(database_url)) as uow:
        rebuild_all(uow.session)
        count = rebuilt_count(uow.session)
        uow.commit()
    return count


def plan_schedule(
    database_url: str, key: str, *, start: dt.date, weeks: int, time_limit: float, username: str, settings: Settings
) -> int | None:
    """Re-plan from the store: a proposal for the cases ready to schedule, their current bookings kept as
    booked sessions (moving one costs, as in ``scheduling.replan``) and the solver started from them; once per key.

    Returns the new plan's id, or None when a run with this key already stored its plan.
    """
    with UnitOfWork(_sessions(database_url)) as uow:
        if uow.session.get(JobResult, key) is not None:
            return None
        user = uow.users.get_by_username(username)
        actor = Actor(username, Role(user.role) if user is not None else Role.SERVICE_LEAD, "job")
        setup = PlanningSetup(rooms=tuple(settings.rooms), recovery_bays=settings.recovery_bays)
        policy = stored_policy(uow, settings.policy())
        source = database_instance(uow, start=start, weeks=weeks, setup=setup, policy=policy, actor=actor)
        made = proposal(source, time_limit=time_limit, hint=current_placement(source.instance))
        row = save_proposal(uow, made, time_limit=time_limit, actor=actor)
        uow.session.add(JobResult(key=key, task=SCHEDULE_TASK, detail={"plan": row.id}))
        uow.commit()
        return row.id


async def retry_stalled(app: procrastinate.App, stalled_after: float) -> int:
    """Put the running jobs of workers not heard of for ``stalled_after`` seconds back in the queue."""
    await app.job_manager.prune_stalled_workers(stalled_after)
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
    for job in stalled:
        await app.job_manager.retry_job(job)
    return len(stalled)


def job_app(database_url: str) -> procrastinate.App:
    """Return the Procrastinate app of ``database_url`` with every vertebro task registered."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=8)
    )

    @app.task(name=EXPORT_TASK, queue="exports", retry=RETRY, pass_context=True)
    def fhir_export(context: JobContext, job_id: str) -> None:
        token = request_id.set(_job_key(context))
        try:
            run_export(database_url, job_id)
        finally:
            request_id.reset(token)

    @app.periodic(cron="*/15 * * * *")
    @app.task(name=REMINDERS_TASK, queue="messages", queueing_lock=REMINDERS_TASK, pass_context=True)
    def reminders(context: JobContext, timestamp: int) -> None:
        token = request_id.set(_job_key(context))
        try:
            settings = Settings()
            send_reminders(database_url, settings.clinic().local(dt.datetime.now(dt.UTC)).date(), settings)
        finally:
            request_id.reset(token)

    @app.task(name=DELIVER_TASK, queue="messages", retry=RETRY, pass_context=True)
    def deliver_messages(context: JobContext) -> None:
        token = request_id.set(_job_key(context))
        try:
            deliver_outbox(database_url, Settings())
        finally:
            request_id.reset(token)

    @app.task(name=REGISTRY_TASK, queue="registry", retry=RETRY, queueing_lock=REGISTRY_TASK)
    def registry_rebuild() -> None:
        rebuild_registry(database_url)

    @app.task(name=SCHEDULE_TASK, queue="schedule", retry=RETRY, pass_context=True)
    def schedule_plan(context: JobContext, key: str, start: str, weeks: int, time_limit: float, username: str) -> None:
        token = request_id.set(_job_key(context))
        try:
            plan_schedule(
                database_url,
                key,
                start=dt.date.fromisoformat(start),
                weeks=weeks,
                time_limit=time_limit,
                username=username,
                settings=Settings(),
            )
        finally:
            request_id.reset(token)

    @app.periodic(cron="* * * * *")
    @app.task(name=STALLED_TASK, queue="maintenance", queueing_lock=STALLED_TASK)
    async def retry_stalled_jobs(timestamp: int) -> None:
        await retry_stalled(app, Settings().worker_stalled_after_seconds)

    @app.periodic(cron="17 3 * * *")
    @app.task(name=CLEANUP_TASK, queue="maintenance", queueing_lock=CLEANUP_TASK)
    async def remove_old_jobs(timestamp: int) -> None:
        await app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=False)

    return app
