"""The server and the worker together on PostgreSQL: /readyz waits for a worker's heartbeat, and an
``$export`` kicked off over HTTP is queued in the request's transaction and run by the worker."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.integration.jobs.conftest import add_patients, wait_for
from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.store import credentials, staff_service
from vertebro.store.db import UnitOfWork, make_session_factory
from vertebro.store.models import WebSession
from vertebro.web.app import create_app

Starter = Callable[[str], subprocess.Popen[bytes]]


def _bearer(engine: Engine) -> str:
    with UnitOfWork(make_session_factory(engine)) as uow:
        user = staff_service.create_user(
            uow, username="t.nurse", display_name="Nurse", role=Role.NURSE, password="correct horse battery", actor="t"
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
    return token


def test_readyz_needs_a_live_worker_on_postgresql(pg_url: str, start_worker: Starter) -> None:
    with TestClient(create_app(Settings(database_url=pg_url, secure_cookies=False))) as client:
        before = client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["checks"]["worker"]["ok"] is False
        start_worker("ready")
        wait_for(lambda: client.get("/readyz").status_code == 200, 60, "the worker's first heartbeat", 0.2)
        assert client.get("/readyz").json()["checks"]["worker"]["ok"] is True


def test_an_export_kicked_off_over_http_runs_in_the_worker(
    pg_url: str, pg_engine: Engine, start_worker: Starter, tmp_path: Path
) -> None:
    add_patients(pg_engine, 20)
    token = _bearer(pg_engine)
    settings = Settings(database_url=pg_url, secure_cookies=False, export_dir=tmp_path / "exports")
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as client:
        kick_off = client.get("/fhir/$export?_type=Patient", headers={"Prefer": "respond-async"})
        assert kick_off.status_code == 202, kick_off.text
        with pg_engine.connect() as connection:  # the job row and its queue entry committed together
            queued = connection.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")).scalar()
        assert queued == 1
        status_url = kick_off.headers["content-location"]
        assert client.get(status_url).status_code == 202  # no worker yet: still queued
        with pg_engine.begin() as connection:  # waiting for a worker longer than a stalled export may run
            connection.execute(text("UPDATE fhir_export_jobs SET updated_at = now() - interval '1 hour'"))
        assert client.get(status_url).status_code == 202  # the queue is durable: still queued, not "failed"
        start_worker("web")
        wait_for(lambda: client.get(status_url).status_code == 200, 60, "the worker to run the export", 0.2)
        manifest = client.get(status_url).json()
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [("Patient", 20)]
