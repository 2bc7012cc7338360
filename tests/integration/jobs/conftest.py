"""Job queue fixtures: a committed PostgreSQL database of its own per test, and real `vertebro worker` processes.

The workers are separate processes, so these tests cannot use the rolled-back transaction of the storage
fixtures: each test gets a fresh throw-away database, migrated by the real migrations.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.pool import NullPool

from tests.integration.conftest import _postgres_database
from vertebro.fhir.repository import FhirRepository
from vertebro.jobs.queue import WorkerQueue
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import FhirExportJob, Patient

HEARTBEAT_SECONDS = 0.5
STALLED_AFTER_SECONDS = 2.0


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database (committed data, visible to worker processes)."""
    with _postgres_database() as url:
        rendered = url.render_as_string(hide_password=False)
        migrate.upgrade(rendered)
        yield rendered


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on the test's database."""
    engine = make_engine(pg_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def add_patients(engine: Engine, count: int) -> None:
    """Insert ``count`` patients in one statement (the export reads them)."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"identifier": f"JOB-{i:06d}", "name": f"Job Patient {i}", "sex": "female", "created_at": now, "version": 1}
        for i in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Patient), rows)


def queue_export(engine: Engine, url: str, patients: int) -> str:
    """Store an export job of every patient's Patient resource and queue it, in one transaction."""
    job_id = secrets.token_hex(16)
    with UnitOfWork(make_session_factory(engine)) as uow:
        FhirRepository(uow.session).add_job(
            FhirExportJob(
                id=job_id,
                requested_by="t.lead",
                source="pytest",
                request_url="http://testserver/fhir/$export?_type=Patient",
                level="system",
                types=["Patient"],
                status="queued",
                total=patients,
                output={},
            )
        )
        WorkerQueue(url).defer_export(uow, job_id)
        uow.commit()
    return job_id


def export_row(engine: Engine, job_id: str) -> tuple[str, int, dict[str, int]]:
    """Return (status, done, output) of an export job."""
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, done, output FROM fhir_export_jobs WHERE id = :id"), {"id": job_id}
        ).one()
    return str(row.status), int(row.done), dict(row.output)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def start_worker(pg_url: str, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """Return a starter of `vertebro worker` processes on the test database (all stopped at the end)."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "VERTEBRO_DATABASE_URL": pg_url,
        "VERTEBRO_EXPORT_DIR": str(tmp_path / "exports"),
        "VERTEBRO_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "VERTEBRO_WORKER_STALLED_AFTER_SECONDS": str(STALLED_AFTER_SECONDS),
    }

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "vertebro", "worker", "--concurrency", "1", "--name", name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in started:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
