"""The job bodies are safe to run twice (a retried job after a crash), and the app knows its periodic jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from vertebro.config import Settings
from vertebro.errors import InvalidInput
from vertebro.jobs.queue import REMINDERS_TASK, STALLED_TASK, uses_worker
from vertebro.jobs.tasks import job_app, plan_schedule, rebuild_registry, send_reminders
from vertebro.store.models import AuditEntry, JobResult, SchedulePlan


def test_a_schedule_plan_retried_with_its_key_stores_one_proposal(pg_url: str, pg_engine: Engine) -> None:
    run = {"start": dt.date.today(), "weeks": 1, "time_limit": 1.0, "username": "t.lead", "settings": Settings()}
    first = plan_schedule(pg_url, "plan-key-1", **run)  # type: ignore[arg-type]
    again = plan_schedule(pg_url, "plan-key-1", **run)  # type: ignore[arg-type]
    assert first is not None
    assert again is None
    with pg_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(SchedulePlan)).scalar() == 1
        key = connection.execute(select(JobResult.task, JobResult.detail)).one()
    assert tuple(key) == ("vertebro.schedule_plan", {"plan": first})


def test_registry_rebuild_and_reminders_can_run_twice(pg_url: str, pg_engine: Engine) -> None:
    assert rebuild_registry(pg_url) == rebuild_registry(pg_url) == 0
    today = dt.date.today()
    settings = Settings(database_url=pg_url, demo_mode=True)
    assert send_reminders(pg_url, today, settings) == send_reminders(pg_url, today, settings) == (0, 0)
    with pg_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AuditEntry)).scalar() == 0


def test_the_worker_runs_reminders_and_the_stalled_job_sweep_periodically() -> None:
    app = job_app("postgresql+psycopg://nobody@127.0.0.1/none")
    crons = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert crons[REMINDERS_TASK] == "*/15 * * * *"
    assert crons[STALLED_TASK] == "* * * * *"


@pytest.mark.parametrize(
    ("url", "jobs", "queued"),
    [
        ("postgresql+psycopg://u@h/db", "auto", True),
        ("postgresql+psycopg://u@h/db", "in-process", False),
        ("postgresql+psycopg://u@h/db", "worker", True),
        ("sqlite:///var/v.db", "auto", False),
        ("sqlite:///var/v.db", "in-process", False),
    ],
)
def test_where_jobs_run(url: str, jobs: str, queued: bool) -> None:
    assert uses_worker(Settings(database_url=url, jobs=jobs)) is queued  # type: ignore[arg-type]


def test_a_worker_on_sqlite_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs PostgreSQL"):
        uses_worker(Settings(database_url="sqlite:///var/v.db", jobs="worker"))
