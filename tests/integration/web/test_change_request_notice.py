"""A patient's request to cancel or move the appointment reaches the team (hazard H130, decision 0043), over HTTP
on SQLite and PostgreSQL: when the patient asks, the team's address (clinic settings) gets an e-mail with the
worklist's filter of open requests and the request's reference, never who or what; while the request has waited
over 24 hours without a closing answer, the reminders run tells the team again, once a clinic day, until staff
answer it ("could not reach the patient" keeps it open). Without a team address nothing is queued."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.test_change_requests import Booked, _answer, _ask, _booked, _requests
from tests.integration.web.test_inbox_notice import PRIVATE, TEAM, _admin_form
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role
from vertebro.store.clinic_settings import stored_policy
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AppointmentChangeRequest, OutboxMessage
from vertebro.store.portal.outbox import TEAM_CHANGE_KIND, TEAM_CHANGE_OPEN_KIND
from vertebro.store.portal.reminders import queue_due_reminders
from vertebro.web import deps

REASON = "I have started apixaban for my heart and my daughter cannot drive me on Tuesday"


@pytest.fixture
def team(signed_in: Callable[[Role], TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin sets the team's address; every app re-reads the stored settings on each request."""
    monkeypatch.setattr(deps, "CLINIC_REFRESH_SECONDS", 0.0)
    admin = signed_in(Role.ADMIN)
    saved = admin.post("/admin/clinic", data=_admin_form(admin, team_email=TEAM))
    assert saved.status_code == 303, saved.text
    assert "told too, and reminded once a day" in " ".join(admin.get("/admin/clinic").text.split())


def _team_mail(session_factory: sessionmaker[Session], kind: str) -> list[OutboxMessage]:
    with UnitOfWork(session_factory) as uow:
        statement = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        return list(uow.session.scalars(statement))


def _run_reminders(session_factory: sessionmaker[Session], now: dt.datetime) -> tuple[int, int]:
    """The reminders run at ``now`` (the clinic's day of it); return (team reminders queued, already queued)."""
    with UnitOfWork(session_factory) as uow:
        policy = stored_policy(uow, DEFAULT_POLICY)
        queued = queue_due_reminders(uow, today=policy.clinic.local(now).date(), policy=policy, now=now)
        uow.commit()
    return queued.team, queued.already_queued


def _sent_at(session_factory: sessionmaker[Session], request_id: int) -> dt.datetime:
    with UnitOfWork(session_factory) as uow:
        request = uow.session.get(AppointmentChangeRequest, request_id)
        assert request is not None
        return request.created_at


def _asks(booked: Booked, kind: str) -> None:
    response = _ask(booked, kind, REASON)
    assert response.status_code == 303, response.text


def test_the_team_is_told_of_each_request_with_no_name_and_no_words(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    team: None,
) -> None:
    booked = _booked(portal_factory, signed_in)
    _asks(booked, "cancel")
    (request,) = _requests(session_factory, booked.case_id)
    (notice,) = _team_mail(session_factory, TEAM_CHANGE_KIND)
    assert (notice.channel, notice.recipient, notice.patient_id, notice.attachment) == ("email", TEAM, None, None)
    assert "/?change=open" in notice.body  # the worklist's filter of open requests
    assert f"Reference: change request {request.id}" in notice.body
    assert "Nothing is cancelled or moved until a member of the team does it" in notice.body
    for private in (*PRIVATE, "apixaban", "daughter", "Tuesday", "cancel it", "Room"):  # neither who nor what
        assert private.lower() not in (notice.subject + notice.body).lower(), private
    _asks(booked, "reschedule")  # a second request (the other kind): its own e-mail
    assert len(_team_mail(session_factory, TEAM_CHANGE_KIND)) == 2
    again = _ask(booked, "cancel", REASON)  # the same request while one is open is refused: no e-mail either
    assert again.status_code == 409
    assert len(_team_mail(session_factory, TEAM_CHANGE_KIND)) == 2


def test_a_request_unanswered_after_24_hours_is_reminded_once_a_day_until_answered(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    team: None,
) -> None:
    booked = _booked(portal_factory, signed_in)
    _asks(booked, "cancel")
    (request,) = _requests(session_factory, booked.case_id)
    asked_at = _sent_at(session_factory, request.id)

    assert _run_reminders(session_factory, asked_at + dt.timedelta(hours=23))[0] == 0  # not yet due
    assert _run_reminders(session_factory, asked_at + dt.timedelta(hours=25))[0] == 1
    (reminder,) = _team_mail(session_factory, TEAM_CHANGE_OPEN_KIND)
    assert reminder.recipient == TEAM
    assert reminder.subject == "A patient's request to change an appointment is still open"
    assert "It has been waiting since " in reminder.body
    assert f"Reference: change request {request.id}" in reminder.body
    assert "apixaban" not in reminder.body
    new, before = _run_reminders(session_factory, asked_at + dt.timedelta(hours=26))  # the same day: not again
    assert new == 0
    assert before >= 1
    assert _run_reminders(session_factory, asked_at + dt.timedelta(hours=49))[0] == 1  # the next day: again

    nurse = signed_in(Role.NURSE)
    called = _answer(nurse, booked, request.id, "unreachable", "no answer on the phone")
    assert called.status_code == 303, called.text
    assert _run_reminders(session_factory, asked_at + dt.timedelta(hours=73))[0] == 1  # still open: still reminded
    kept = _answer(nurse, booked, request.id, "kept", "spoke to her: she keeps the appointment")
    assert kept.status_code == 303, kept.text
    assert _run_reminders(session_factory, asked_at + dt.timedelta(hours=97))[0] == 0  # answered: no more
    assert len(_team_mail(session_factory, TEAM_CHANGE_OPEN_KIND)) == 3


def test_without_a_team_address_no_notice_or_reminder_is_queued(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deps, "CLINIC_REFRESH_SECONDS", 0.0)
    page = " ".join(signed_in(Role.ADMIN).get("/admin/clinic").text.split())
    assert "Nor when a patient asks to cancel or move an appointment." in page
    booked = _booked(portal_factory, signed_in)
    _asks(booked, "reschedule")
    (request,) = _requests(session_factory, booked.case_id)
    assert _run_reminders(session_factory, _sent_at(session_factory, request.id) + dt.timedelta(days=3))[0] == 0
    assert _team_mail(session_factory, TEAM_CHANGE_KIND) == []
    assert _team_mail(session_factory, TEAM_CHANGE_OPEN_KIND) == []
