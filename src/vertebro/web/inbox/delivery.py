"""Getting a queued message out at once: a durable job where a worker runs jobs, else straight after the commit."""

from __future__ import annotations

from fastapi import Request

from vertebro.clinical.clinic import Clinic
from vertebro.jobs.queue import DELIVER_TASK
from vertebro.messaging.outbox import deliver_pending, outbox_from_settings
from vertebro.store.db import UnitOfWork


def defer_delivery(request: Request, uow: UnitOfWork) -> bool:
    """Before the commit: where a worker runs jobs (PostgreSQL), queue the delivery job in this transaction,
    so the message and its job commit together; return False where there is no queue (deliver after commit)."""
    queue = getattr(request.app.state, "job_queue", None)
    if queue is None:
        return False
    queue.defer(uow, DELIVER_TASK)
    return True


def deliver_now(request: Request) -> None:
    """After the commit, without a job queue: try to deliver what waits (a failure stays queued for the reminders
    job or ``vertebro reminders send``)."""
    with UnitOfWork(request.app.state.session_factory) as uow:
        deliver_pending(uow, outbox_from_settings(request.app.state.settings), limit=10)
        uow.commit()


def defer_team_notice(request: Request, uow: UnitOfWork, clinic: Clinic) -> bool:
    """Before the commit: queue the delivery job of a notice to the team's address where a worker runs jobs (False:
    no team address, or no job queue)."""
    return bool(clinic.team_email) and defer_delivery(request, uow)


def deliver_team_notice(request: Request, clinic: Clinic, deferred: bool) -> None:
    """After the commit, without a job queue: deliver the team's notice now (a failure waits for the next run)."""
    if clinic.team_email and not deferred:
        deliver_now(request)
