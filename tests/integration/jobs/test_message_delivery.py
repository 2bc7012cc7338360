"""Where a worker runs jobs, the team's reply to a secure message defers a durable delivery job in the reply's own
transaction: the notification waits in the outbox with its job, and the job delivers it (decision 0035)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from tests.integration.web.conftest import Account, csrf, sign_in
from vertebro.clinical.clinic import Clinic
from vertebro.config import Settings
from vertebro.jobs.queue import DELIVER_TASK
from vertebro.jobs.tasks import deliver_outbox
from vertebro.messaging import service
from vertebro.pathway.machine import Role
from vertebro.store import staff_service
from vertebro.store.db import UnitOfWork, make_session_factory
from vertebro.store.models import OutboxMessage, Patient, PatientAccount
from vertebro.store.portal.accounts import PatientActor
from vertebro.web.app import create_app


def _thread_and_nurse(engine: Engine) -> tuple[int, Account]:
    with UnitOfWork(make_session_factory(engine)) as uow:
        patient = Patient(identifier="VB-MSGJOB", name="Job Patient", sex="female", birth_date=dt.date(1945, 1, 2))
        uow.session.add(patient)
        uow.session.flush()
        account = PatientAccount(patient_id=patient.id, reference="VB-MSGJOB", email="job@example.org", active=True)
        uow.session.add(account)
        uow.session.flush()
        actor = PatientActor(account.id, patient.id, account.reference)
        thread = service.start_thread(
            uow, actor, subject="A question", body="Is Tuesday fine?", case_id=None, clinic=Clinic()
        )
        nurse = staff_service.create_user(
            uow,
            username="job.nurse",
            display_name="Job Nurse",
            role=Role.NURSE,
            password="correct horse battery",
            actor="test",
        )
        uow.commit()
        return thread.id, Account("job.nurse", Role.NURSE, nurse.totp_secret)


def test_a_reply_defers_the_delivery_job_with_the_notification_and_the_job_delivers_it(
    pg_url: str, pg_engine: Engine
) -> None:
    thread_id, nurse = _thread_and_nurse(pg_engine)
    app = create_app(Settings(database_url=pg_url, jobs="worker", secure_cookies=False, demo_mode=True))
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, nurse)
        token = csrf(client, f"/inbox/{thread_id}")
        replied = client.post(f"/inbox/{thread_id}/reply", data={"csrf_token": token, "body": "Yes, Tuesday is fine."})
        assert replied.status_code == 303, replied.text
    with pg_engine.connect() as connection:
        jobs = connection.execute(text("SELECT task_name, status::text FROM procrastinate_jobs")).all()
        waiting = connection.execute(select(OutboxMessage.kind, OutboxMessage.sent_at)).all()
    assert [tuple(j) for j in jobs] == [(DELIVER_TASK, "todo")]
    assert [tuple(w) for w in waiting] == [("secure_message", None)]  # delivered by the job, not the request

    assert deliver_outbox(pg_url, Settings(database_url=pg_url, demo_mode=True)) == 1
    assert deliver_outbox(pg_url, Settings(database_url=pg_url, demo_mode=True)) == 0  # a retried job sends nothing
