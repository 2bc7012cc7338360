"""End-to-end: `vertebro demo` gives the demo patient a portal login; `vertebro reminders queue` is idempotent
and `vertebro reminders send` reports what it could not deliver."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import FollowUp

pytestmark = pytest.mark.e2e


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vertebro", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=180,
        check=False,
    )


def test_demo_patient_login_and_idempotent_reminders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {"VERTEBRO_DATABASE_URL": url}
    assert run("db", "upgrade", env=env).returncode == 0
    demo = run("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    assert "sign in as VB-DEMOPT with password patient-demo-password" in " ".join(demo.stdout.split())
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:  # the demo patient's 2-week questionnaire is due
        account = uow.portal.account_by_login("VB-DEMOPT")
        assert account is not None
        case_id = uow.workflows.cases_of_patient(account.patient_id)[0].case_id
        today = dt.date.today()
        uow.session.add(FollowUp(case_id=case_id, visit="2w", due_from=today, due_until=today + dt.timedelta(days=14)))
        uow.commit()
    engine.dispose()
    first = run("reminders", "queue", env=env)
    second = run("reminders", "queue", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("queued 1 questionnaire reminder(s)")
    assert second.stdout.startswith("queued 0 questionnaire reminder(s)")
    assert "1 were queued before" in second.stdout
    send = run("reminders", "send", env=env)
    assert send.returncode == 1
    assert "none outbox: 0 sent, 1 failed" in send.stdout
    demo_send = run("reminders", "send", env={**env, "VERTEBRO_DEMO_MODE": "true"})
    assert demo_send.returncode == 0
    assert "demo outbox: 1 sent, 0 failed" in demo_send.stdout
