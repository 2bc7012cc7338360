"""Patients reset their own password over HTTP, on SQLite and PostgreSQL: a one-time link (1 hour) sent to the
contact already held, after the reference (or e-mail) and the date of birth match; the answer is the same
whether or not they matched (no enumeration); requests are rate limited and audited (decision 0026)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import PATIENT_PASSWORD, new_patient
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, OutboxMessage, PatientAccount

BORN = "1946-05-02"  # portal_helpers.request_form
NEW_PASSWORD = "a brand new password for me"


def _reset_links(session_factory: sessionmaker[Session]) -> list[str]:
    with UnitOfWork(session_factory) as uow:
        bodies = uow.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.kind == "password_reset").order_by(OutboxMessage.id)
        )
        return [m.group(1) for body in bodies if (m := re.search(r"(/portal/activate/\S+)", body))]


def _sign_in(client: TestClient, login: str, password: str) -> int:
    return client.post("/portal/login", data={"login": login, "password": password}).status_code


def test_the_reset_link_works_once_and_ends_old_sessions(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    old_session = portal_factory()
    assert _sign_in(old_session, patient["reference"], PATIENT_PASSWORD) == 303
    anonymous = portal_factory()
    answer = anonymous.post("/portal/reset", data={"login": patient["reference"].lower(), "birth_date": BORN})
    assert answer.status_code == 200
    assert "If these details match an account" in answer.text
    assert "/portal/activate/" not in answer.text  # sent, never shown
    [link] = _reset_links(session_factory)
    chosen = anonymous.post(link, data={"password": NEW_PASSWORD, "repeated": NEW_PASSWORD})
    assert chosen.status_code == 303
    assert anonymous.post(link, data={"password": NEW_PASSWORD, "repeated": NEW_PASSWORD}).status_code == 410
    assert _sign_in(portal_factory(), patient["reference"], PATIENT_PASSWORD) == 401
    assert _sign_in(portal_factory(), patient["reference"], NEW_PASSWORD) == 303
    assert old_session.get("/portal/me", follow_redirects=False).status_code == 303  # signed out everywhere
    with UnitOfWork(session_factory) as uow:
        actions = set(uow.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("password_reset%"))))
    assert actions == {"password_reset_requested", "password_reset"}


def test_an_unused_link_expires_after_an_hour(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient = new_patient(portal_factory())
    client = portal_factory()
    client.post("/portal/reset", data={"login": patient["reference"], "birth_date": BORN})
    [link] = _reset_links(session_factory)
    with UnitOfWork(session_factory) as uow:
        expires = uow.session.scalar(
            select(PatientAccount.activation_expires_at).where(PatientAccount.reference == patient["reference"])
        )
        assert expires is not None
        assert dt.timedelta(minutes=59) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)
        uow.session.execute(
            update(PatientAccount)
            .where(PatientAccount.reference == patient["reference"])
            .values(activation_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        uow.commit()
    assert client.get(link).status_code == 410
    assert client.post(link, data={"password": NEW_PASSWORD, "repeated": NEW_PASSWORD}).status_code == 410


def test_the_answer_never_says_whether_an_account_matched(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient = new_patient(portal_factory())
    client = portal_factory()
    answers = [
        client.post("/portal/reset", data=form)
        for form in (
            {"login": patient["reference"], "birth_date": BORN},
            {"login": patient["reference"], "birth_date": "1950-01-01"},
            {"login": "VB-NOSUCH", "birth_date": BORN},
            {"login": "nobody@example.org", "birth_date": BORN},
        )
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert len(_reset_links(session_factory)) == 1  # only the matching request sent anything


def test_reset_requests_are_rate_limited(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    codes = [
        client.post("/portal/reset", data={"login": "VB-TRYING", "birth_date": BORN}).status_code for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    assert client.post("/portal/reset", data={"login": "", "birth_date": "no"}).status_code == 422
