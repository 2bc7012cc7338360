"""``vertebro worker`` and ``vertebro jobs``: the background job queue on PostgreSQL (decision 0022)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from vertebro.config import Settings
from vertebro.errors import VertebroError

jobs_app = typer.Typer(
    help="The background job queue (PostgreSQL; on SQLite jobs run in the server).", no_args_is_help=True
)


def _queue_settings() -> Settings:
    from vertebro.jobs.queue import uses_worker
    from vertebro.store.migrate import ensure_at_head

    settings = Settings()
    err = Console(stderr=True)
    try:
        ensure_at_head(settings.database_url)
        queued = uses_worker(settings)
    except VertebroError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    if not queued:
        err.print(
            "there is no job queue on SQLite (or with VERTEBRO_JOBS=in-process): the server runs exports itself, and "
            "`vertebro reminders`, `vertebro registry rebuild` and `vertebro schedule` run the rest"
        )
        raise typer.Exit(2)
    return settings


def worker_command(
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Jobs this worker runs at once.")] = 2,
    name: Annotated[str, typer.Option(help="The worker's name in the logs.")] = "worker",
) -> None:
    """Run background jobs ($export, reminders every 15 minutes, registry rebuilds, schedule plans) until stopped.

    Start as many workers as you like, on any machine that reaches the database: they share the queue. A job
    whose worker dies (kill -9, power loss) is retried by another worker once the dead one misses its heartbeats.
    """
    from vertebro.jobs.worker import run_worker
    from vertebro.logs import configure_json_logging

    settings = _queue_settings()
    configure_json_logging()
    run_worker(settings, concurrency=concurrency, name=name)


@jobs_app.command("status")
def status_command() -> None:
    """Print how many queue jobs are in each status and when a worker was last heard of."""
    from vertebro.jobs.queue import queue_state
    from vertebro.store.db import make_engine

    settings = _queue_settings()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            state = queue_state(connection)
    finally:
        engine.dispose()
    assert state is not None
    for status, count in sorted(state.depth.items()):
        typer.echo(f"{status}: {count}")
    heartbeat = "never" if state.last_heartbeat is None else state.last_heartbeat.isoformat(timespec="seconds")
    typer.echo(f"last worker heartbeat: {heartbeat}")


@jobs_app.command("registry-rebuild")
def registry_rebuild_command() -> None:
    """Queue a rebuild of the outcomes registry (one waiting rebuild at most; see `vertebro registry rebuild`)."""
    from procrastinate.exceptions import AlreadyEnqueued

    from vertebro.jobs.queue import REGISTRY_TASK, WorkerQueue
    from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

    settings = _queue_settings()
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            job = WorkerQueue(settings.database_url).defer(uow, REGISTRY_TASK)
            uow.commit()
    except AlreadyEnqueued:
        typer.echo("a registry rebuild is already waiting in the queue")
        return
    finally:
        engine.dispose()
    typer.echo(f"queued the registry rebuild as job {job}")


@jobs_app.command("schedule-plan")
def schedule_plan_command(
    start: Annotated[str, typer.Option(help="First day of the plan (YYYY-MM-DD).")],
    weeks: Annotated[int, typer.Option(min=1, max=12, help="Weeks to plan.")] = 2,
    time_limit: Annotated[float, typer.Option(help="Solver time limit in seconds.")] = 30.0,
    actor: Annotated[str, typer.Option(help="The member of staff the proposal is made for (audit log).")] = "job",
) -> None:
    """Queue a re-plan of the cases ready to schedule from their current bookings (a proposal the lead accepts)."""
    from vertebro.jobs.queue import SCHEDULE_TASK, WorkerQueue
    from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

    try:
        dt.date.fromisoformat(start)
    except ValueError:
        Console(stderr=True).print(f"start: {start!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None
    settings = _queue_settings()
    engine = make_engine(settings.database_url)
    key = f"plan-{secrets.token_hex(8)}"
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            job = WorkerQueue(settings.database_url).defer(
                uow, SCHEDULE_TASK, key=key, start=start, weeks=weeks, time_limit=time_limit, username=actor
            )
            uow.commit()
    finally:
        engine.dispose()
    typer.echo(f"queued the schedule plan as job {job} (key {key})")


@contextmanager
def demo_worker(settings: Settings) -> Iterator[None]:
    """Run a ``vertebro worker`` beside the demo server when jobs go to the queue (PostgreSQL); stop it after."""
    from vertebro.jobs.queue import uses_worker

    if not uses_worker(settings):
        yield
        return
    demo = {**os.environ, "VERTEBRO_DEMO_MODE": "true"}  # reminders go to the demo outbox (/outbox), as the server's
    worker = subprocess.Popen(
        [sys.executable, "-m", "vertebro", "worker", "--concurrency", "1", "--name", "demo"], env=demo
    )
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
