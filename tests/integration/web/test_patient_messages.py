"""Messages that reach patients, over HTTP on SQLite and PostgreSQL: the outbox holds the right message after
the request, the booking (with a calendar file whose start is the booked moment in UTC), the cancellation and
the preparation steps; every message and document names the clinic's phone and address (decision 0026)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of, new_patient, the_event
from tests.integration.web.test_portal_path import _send_intake, _staff_books
from tests.integration.web.test_workflow import act
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.clinic import DEMO_ADDRESS, DEMO_PHONE, DEMO_SITE
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, OutboxMessage
from vertebro.store.portal.reminders import queue_due_reminders


def _messages(session_factory: sessionmaker[Session], reference: str) -> list[OutboxMessage]:
    with UnitOfWork(session_factory) as uow:
        account = uow.portal.account_by_login(reference)
        assert account is not None
        return uow.portal.messages_of_patient(account.patient_id)


def _booking(session_factory: sessionmaker[Session], case_id: int) -> Booking:
    with UnitOfWork(session_factory) as uow:
        booking = uow.bookings.active_booking(case_id)
        assert booking is not None
        return booking


def test_a_request_queues_the_receipt_and_the_link_in_demo_mode_too(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory(demo=True)
    patient = new_patient(client, email="receipt@example.org")
    messages = _messages(session_factory, patient["reference"])
    assert [m.kind for m in messages] == ["request_received", "activation"]
    assert patient["reference"] in messages[0].body
    assert patient["activation"] in messages[1].body
    assert all(DEMO_PHONE in m.body and DEMO_ADDRESS in m.body for m in messages)
    nurse = signed_in(Role.NURSE)
    client.cookies.update(nurse.cookies)
    page = client.get("/outbox")
    assert page.status_code == 200
    assert "receipt@example.org" in page.text
    assert "request received" in page.text


def test_booking_and_cancelling_send_the_appointment_with_its_calendar_file(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    case_id = patient["case_id"]
    _send_intake(client, case_id)
    procedure_day = _staff_books(signed_in, case_id)
    booking = _booking(session_factory, case_id)
    booked = [m for m in _messages(session_factory, patient["reference"]) if m.kind == "appointment_booked"]
    assert len(booked) == 1, "the booking queues its message in the same transaction"
    assert booked[0].attachment is not None
    _, event = the_event(booked[0].attachment)
    assert event.start == booking.starts_at
    assert event.start.tzname() == "UTC"  # written in UTC: no calendar needs the clinic's zone
    assert event["STATUS"] == "CONFIRMED"
    assert DEMO_SITE in event["LOCATION"]
    assert "vertebro" not in event["SUMMARY"].lower()
    assert "fracture" not in event["SUMMARY"].lower()
    assert re.search(r"When: \d{1,2}:\d\d (am|pm) (GMT|BST) on ", booked[0].body)
    assert DEMO_ADDRESS in booked[0].body

    me = client.get("/portal/me").text
    assert DEMO_SITE in me
    assert DEMO_ADDRESS in me
    assert "Place: Room 1" not in me
    ics = client.get(f"/portal/cases/{case_id}/appointment.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert the_event(ics.text)[1].start == event.start

    pdf = client.get(f"/portal/cases/{case_id}/documents/preparation.pdf")
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())
    assert DEMO_PHONE in flat
    assert "EX1 2AB" in flat
    assert "appointment letter" not in flat

    coordinator = signed_in(Role.COORDINATOR)
    token = csrf_of(client.get("/portal/me").text)
    wish = {"csrf_token": token, "kind": "reschedule", "reason": "my daughter cannot drive me that day"}
    asked = client.post(f"/portal/cases/{case_id}/appointment/change", data=wish)
    assert asked.status_code == 303
    assert "We have your request" in client.get(asked.headers["location"]).text
    assert _booking(session_factory, case_id).status == "booked"  # a request, not an automatic cancellation
    patient_id = _messages(session_factory, patient["reference"])[0].patient_id
    chart = coordinator.get(f"/patients/{patient_id}").text
    assert "The patient asks to <strong>move</strong> the appointment" in chart
    assert "my daughter cannot drive me that day" in chart
    assert re.search(r"the appointment \(\d{4}-\d\d-\d\d \d\d:\d\d (GMT|BST)\)", chart)  # clinic zone, named
    cancel = {"reason": "patient admitted elsewhere with pneumonia", "confirm": True}
    assert act(coordinator, case_id, "POST", "/booking/cancel", cancel).status_code == 200
    cancelled = [m for m in _messages(session_factory, patient["reference"]) if m.kind == "appointment_cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0].attachment is not None
    calendar, removal = the_event(cancelled[0].attachment)
    assert (calendar["METHOD"], removal["STATUS"]) == ("CANCEL", "CANCELLED")
    assert removal.uid == event.uid
    assert removal.sequence > event.sequence
    assert client.get(f"/portal/cases/{case_id}/appointment.ics").status_code == 404

    later = dt.datetime.combine(procedure_day + dt.timedelta(days=1), dt.time(10, 0)).astimezone().isoformat()
    rebooked = act(coordinator, case_id, "POST", "/booking", {"room": "Room 2", "starts_at": later})
    assert rebooked.status_code == 200, rebooked.text
    # after a real cancellation a new booking is a new appointment (a new calendar event), not "moved"
    kinds = [m.kind for m in _messages(session_factory, patient["reference"]) if m.kind.startswith("appointment_")]
    assert kinds == ["appointment_booked", "appointment_cancelled", "appointment_booked"]
    again = [m for m in _messages(session_factory, patient["reference"]) if m.kind == "appointment_booked"][-1]
    assert "is booked" in again.body
    assert again.attachment is not None
    _, new_event = the_event(again.attachment)
    assert new_event.uid != event.uid
    assert new_event.start == _booking(session_factory, case_id).starts_at


def test_preparation_reminders_name_the_last_dose_and_the_day_before(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    case_id = patient["case_id"]
    _send_intake(client, case_id)
    procedure_day = _staff_books(signed_in, case_id)
    last_dose = procedure_day - dt.timedelta(days=6)  # warfarin, as the plan in test_portal_path dates it
    for today in (last_dose - dt.timedelta(days=1), procedure_day - dt.timedelta(days=1)):
        now = dt.datetime.combine(today, dt.time(7, 0), tzinfo=dt.UTC)
        with UnitOfWork(session_factory) as uow:
            runs = [queue_due_reminders(uow, today=today, policy=ClinicPolicy(), now=now) for _ in range(2)]
            uow.commit()
        assert runs[0].preparation == 1
        assert runs[1].preparation == 0  # idempotent
    messages = _messages(session_factory, patient["reference"])
    hold = [m for m in messages if m.kind == "hold_reminder"]
    assert len(hold) == 1
    assert f"last dose of warfarin on {last_dose:%A} {last_dose.day} {last_dose:%B}" in hold[0].body
    before = [m for m in messages if m.kind == "day_before"]
    assert len(before) == 1
    assert "tomorrow" in before[0].body
    assert DEMO_ADDRESS in before[0].body
