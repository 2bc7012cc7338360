"""End-to-end: the server's JSON log lines carry the request id that lands in the audit row, and
``vertebro db backup`` makes a copy that restores with its patients."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.e2e.serving import free_port
from tests.e2e.test_cli import CASE, run
from vertebro.pathway.machine import Role
from vertebro.store import credentials, migrate, staff_service
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import AuditEntry, Case, Patient, WebSession

pytestmark = pytest.mark.e2e


def _bearer(url: str) -> str:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        user = staff_service.create_user(
            uow,
            username="log.nurse",
            display_name="Nurse",
            role=Role.NURSE,
            password="correct horse battery",
            actor="t",
        ).user
        token = credentials.new_token()
        uow.web_sessions.add(
            WebSession(
                id=credentials.token_digest(token),
                user_id=user.id,
                csrf_token=credentials.new_token(),
                mfa_passed=True,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            )
        )
        uow.commit()
    engine.dispose()
    return token


def test_one_json_log_line_per_request_with_the_request_id_of_the_audit_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    env = {"VERTEBRO_DATABASE_URL": url}
    migrate.upgrade(url)
    assert run("assess", str(CASE), "--save", env=env).returncode == 0
    token = _bearer(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        case_id = connection.execute(select(Case.id)).scalar_one()
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "vertebro", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-read-1"}
            response = httpx.get(f"{base}/api/cases/{case_id}", headers=headers)
            assert response.status_code == 200
            assert response.headers["x-request-id"] == "e2e-read-1"
        finally:
            server.terminate()
            server.wait(timeout=20)
    lines: list[dict[str, Any]] = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    requests = [line for line in lines if line["logger"] == "vertebro.access"]
    read = [line for line in requests if line.get("request_id") == "e2e-read-1"]
    assert len(read) == 1
    assert read[0] | {"time": "-", "duration_ms": 0} == {
        "time": "-",
        "level": "info",
        "logger": "vertebro.access",
        "message": "request",
        "request_id": "e2e-read-1",
        "method": "GET",
        "route": "/api/cases/{case_id}",
        "status": 200,
        "duration_ms": 0,
    }
    assert isinstance(read[0]["duration_ms"], float)
    assert all(len(line["request_id"]) == 32 for line in requests if line is not read[0])  # generated ids
    with engine.connect() as connection:
        audited = connection.execute(
            select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.request_id == "e2e-read-1")
        ).all()
    engine.dispose()
    assert ("log.nurse", "read") in audited


def test_backup_restores_with_its_patients(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}"}
    assert run("db", "upgrade", env=env).returncode == 0
    assert run("assess", str(CASE), "--save", env=env).returncode == 0
    backup = tmp_path / "backups" / "copy.db"
    made = run("db", "backup", str(backup), env=env)
    assert made.returncode == 0, made.stderr
    assert "integrity checked" in made.stdout
    again = run("db", "backup", str(backup), env=env)
    assert again.returncode == 2
    assert "never overwrites" in again.stderr

    restored = tmp_path / "restored.db"
    shutil.copy(backup, restored)
    restored_url = f"sqlite:///{restored}"
    migrate.ensure_at_head(restored_url)
    engine = make_engine(restored_url)
    with engine.connect() as connection:
        names = connection.execute(select(Patient.name)).scalars().all()
    engine.dispose()
    with make_engine(env["VERTEBRO_DATABASE_URL"]).connect() as live:
        assert names == live.execute(select(Patient.name)).scalars().all()
    assert len(names) == 1
    worklist = run("worklist", env={"VERTEBRO_DATABASE_URL": restored_url})
    assert worklist.returncode == 0, worklist.stderr


def test_backup_of_postgresql_prints_the_pg_dump_recipe() -> None:
    result = run("db", "backup", "out.db", env={"VERTEBRO_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/x"})
    assert result.returncode == 2
    assert "pg_dump --format=custom" in result.stderr


def test_a_log_pipe_nobody_reads_does_not_stop_the_server(tmp_path: Path) -> None:
    """Logging one line per request must not block requests when stderr is a full pipe (64 KiB)."""
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    migrate.upgrade(url)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "vertebro", "serve", "--port", str(port)],
        env={**os.environ, "VERTEBRO_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=5) as client:
            statuses = {client.get("/healthz", headers={"X-Request-ID": "x" * 64}).status_code for _ in range(1500)}
        assert statuses == {200}  # about 300 KiB of log lines, none read
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_there_is_no_worker_on_sqlite(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    assert run("db", "upgrade", env=env).returncode == 0
    result = run("worker", env=env)
    assert result.returncode == 2
    assert "no job queue on SQLite" in result.stderr
