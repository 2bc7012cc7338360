"""Real `vertebro worker` processes on PostgreSQL: a job killed with kill -9 is retried and completes once;
several workers share the queue."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from tests.integration.jobs.conftest import (
    STALLED_AFTER_SECONDS,
    add_patients,
    export_row,
    queue_export,
    wait_for,
)

Starter = Callable[[str], subprocess.Popen[bytes]]


def _queue_jobs(engine: Engine, task: str) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"),
            {"task": task},
        )
        return [(str(status), int(attempts)) for status, attempts in rows]


def test_a_job_killed_mid_export_is_retried_and_completes_exactly_once(
    pg_url: str, pg_engine: Engine, start_worker: Starter, tmp_path: Path
) -> None:
    patients = 3000
    add_patients(pg_engine, patients)
    job_id = queue_export(pg_engine, pg_url, patients)
    first = start_worker("first")
    wait_for(lambda: export_row(pg_engine, job_id)[0] == "running", 60, "the first worker to start the export")
    # Hold the job's row: the worker's next progress commit waits here, in the middle of the export.
    with pg_engine.connect() as holder:
        holder.execute(text("SELECT 1 FROM fhir_export_jobs WHERE id = :id FOR UPDATE"), {"id": job_id})
        status, done_when_killed, _ = export_row(pg_engine, job_id)
        assert (status, done_when_killed < patients) == ("running", True)
        time.sleep(0.5)  # the worker writes its batch and blocks on the row
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        holder.rollback()
    assert export_row(pg_engine, job_id)[0] == "running"  # the dead worker's job: not finished, not failed
    assert [s for s, _ in _queue_jobs(pg_engine, "vertebro.fhir_export")] == ["doing"]

    time.sleep(STALLED_AFTER_SECONDS + 1)  # the dead worker has missed its heartbeats
    start_worker("second")
    wait_for(lambda: export_row(pg_engine, job_id)[0] == "complete", 120, "the retried export to complete", 0.2)

    status, done, output = export_row(pg_engine, job_id)
    assert (status, done, output) == ("complete", patients, {"Patient": patients})
    lines = (tmp_path / "exports" / job_id / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    identifiers = [json.loads(line)["identifier"][0]["value"] for line in lines]
    assert len(identifiers) == patients
    assert len(set(identifiers)) == patients  # nothing written twice
    with pg_engine.connect() as connection:
        reads = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT patient_id), count(DISTINCT request_id) FROM audit_log "
                "WHERE action = 'read' AND detail->>'interaction' = 'export'"
            )
        ).one()
    # every patient read once by the run that finished; the batches the dead worker committed before it was killed
    # stay audited (they were read, and an audit is never taken back); the batch it was writing left no trace
    assert tuple(reads) == (patients + done_when_killed, patients, 1)
    assert [status for status, _ in _queue_jobs(pg_engine, "vertebro.fhir_export")] == ["succeeded"]


def test_two_workers_share_the_queue(pg_url: str, pg_engine: Engine, start_worker: Starter) -> None:
    patients = 50
    add_patients(pg_engine, patients)
    jobs = [queue_export(pg_engine, pg_url, patients) for _ in range(4)]
    with pg_engine.connect() as holder:
        # Hold every job's row: each worker (one job at a time) blocks inside the first job it takes.
        holder.execute(text("SELECT 1 FROM fhir_export_jobs FOR UPDATE"))
        start_worker("a")
        start_worker("b")

        def running_workers() -> set[int]:
            with pg_engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT worker_id FROM procrastinate_jobs WHERE status = 'doing' AND task_name = :t"),
                    {"t": "vertebro.fhir_export"},
                )
                return {int(worker) for (worker,) in rows}

        wait_for(lambda: len(running_workers()) == 2, 60, "both workers to take a job", 0.1)
        holder.rollback()
    wait_for(lambda: all(export_row(pg_engine, job)[0] == "complete" for job in jobs), 120, "all four exports", 0.2)
    assert {export_row(pg_engine, job)[2]["Patient"] for job in jobs} == {patients}
    assert [s for s, _ in _queue_jobs(pg_engine, "vertebro.fhir_export")] == ["succeeded"] * 4
