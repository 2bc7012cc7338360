"""A moved appointment tells the patient once that it has moved, never that it is cancelled (decision 0038, H122).

Over HTTP on SQLite and PostgreSQL, through both ways staff move a booking (the calendar's drag, posted as JSON,
and the plain form): the patient's outbox gains exactly one message per move, "has moved", with the old and the
new time and room in the clinic's zone, the preparation dates that change (the warfarin hold here), and a
calendar file that updates the event the patient already has: the same UID, a higher SEQUENCE, METHOD:REQUEST,
the clinic as organizer and the patient as attendee. A refused move sends nothing. A real cancellation still
sends the cancellation, whose calendar file (METHOD:CANCEL) outranks every version sent before. Accepting a
schedule plan that moves a booking tells the patient the same way.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.scheduling.conftest import COORDINATOR, POLICY, next_monday, prepare
from tests.integration.web.portal_helpers import new_patient, the_event
from tests.integration.web.test_booking_safety import browser_post, long_date, version_of
from tests.integration.web.test_portal_outbox import smtp_server  # noqa: F401 (the fixture)
from tests.integration.web.test_portal_path import _send_intake, _staff_books
from tests.integration.web.test_schedule import _plan, _run
from tests.integration.web.test_workflow import act
from vertebro.clinical.clinic import DEMO_ADDRESS, DEMO_SITE, Clinic
from vertebro.messaging.outbox import SmtpOutbox, deliver_pending
from vertebro.pathway.machine import Role
from vertebro.store import workflow as svc
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, OutboxMessage, PatientAccount

CLINIC = Clinic()  # the settings' defaults: Europe/London, the demo clinic
LONDON = ZoneInfo(CLINIC.time_zone)
WARFARIN_DAYS = 6  # the plan's warfarin hold for this patient (low thrombotic risk): last dose 6 days before


def _appointment_messages(session_factory: sessionmaker[Session], case_id: int) -> list[OutboxMessage]:
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        messages = uow.portal.messages_of_patient(workflow.case.patient_id)
    return [m for m in messages if m.kind.startswith("appointment_")]


def _active(session_factory: sessionmaker[Session], case_id: int) -> Booking:
    with UnitOfWork(session_factory) as uow:
        booking = uow.bookings.active_booking(case_id)
        assert booking is not None
        return booking


def _booked_patient(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> tuple[TestClient, int]:
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    _send_intake(patient, case_id)
    _staff_books(signed_in, case_id)
    return patient, case_id


def test_a_move_by_drag_or_by_form_sends_one_moved_message_and_updates_the_same_calendar_event(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    smtp_server: tuple[int, list[str]],  # noqa: F811 (the fixture imported above)
) -> None:
    patient, case_id = _booked_patient(portal_factory, signed_in)
    first = _active(session_factory, case_id)
    (booked,) = _appointment_messages(session_factory, case_id)
    assert booked.kind == "appointment_booked"
    assert booked.attachment is not None
    calendar, event = the_event(booked.attachment)
    assert calendar["METHOD"] == "REQUEST"  # sent by e-mail: an invitation from the clinic
    assert event["ORGANIZER"].startswith("mailto:")
    assert event["ATTENDEE"] == "mailto:ruth@example.org"
    uid, sequence = event.uid, event.sequence

    # 1. the calendar's drag: the JSON move, to the next day at 11:00 (clinic wall-clock) in Room 2
    coordinator = signed_in(Role.COORDINATOR)
    old_day = first.starts_at.astimezone(LONDON).date()
    new_day = old_day + dt.timedelta(days=1)  # the first booking is on a Monday: a Tuesday
    target = dt.datetime.combine(new_day, dt.time(11, 0), tzinfo=LONDON)
    dragged = coordinator.post(
        f"/cases/{case_id}/booking/move",
        data={"version": version_of(coordinator, case_id), "room": "Room 2", "starts_at": f"{new_day}T11:00"},
        headers={"Accept": "application/json"},
    )
    assert dragged.status_code == 200, dragged.text
    messages = _appointment_messages(session_factory, case_id)
    assert [m.kind for m in messages] == ["appointment_booked", "appointment_changed"]  # one message, no "cancelled"
    moved = messages[-1]
    assert "has moved" in moved.subject
    assert "cancel" not in moved.subject.lower()
    assert "is cancelled" not in moved.body
    assert "It is not cancelled" in moved.body
    assert f"New time: {CLINIC.moment(target)}, in Room 2." in moved.body
    assert f"Old time (no longer valid): {CLINIC.moment(first.starts_at)}, in Room 1." in moved.body
    assert f"Where: {DEMO_SITE}, {DEMO_ADDRESS}." in moved.body
    assert " GMT on " in moved.body or " BST on " in moved.body  # the clinic's zone, named
    old_last, new_last = (day - dt.timedelta(days=WARFARIN_DAYS) for day in (old_day, new_day))
    assert f"- Last dose of warfarin: on {long_date(new_last)} (it was on {long_date(old_last)})" in moved.body
    assert "- Start warfarin again: from " in moved.body
    assert "If you have already stopped a medicine for the old date, call" in moved.body
    assert moved.attachment is not None
    calendar, update = the_event(moved.attachment)
    assert calendar["METHOD"] == "REQUEST"
    assert update.uid == uid  # the same event, updated in place
    assert update.sequence == sequence + 1
    assert (update.start, update.start.tzname()) == (target, "UTC")
    assert update["STATUS"] == "CONFIRMED"
    assert "Room 2" in update["LOCATION"]
    assert update["ATTENDEE"] == "mailto:ruth@example.org"
    download = patient.get(f"/portal/cases/{case_id}/appointment.ics")
    assert download.status_code == 200
    _, downloaded = the_event(download.text)
    assert (downloaded.uid, downloaded.sequence) == (uid, sequence + 1)
    assert CLINIC.moment(target) in patient.get("/portal/me").text

    # 2. the plain form (no script): the same day and time, back to Room 1; the preparation dates stay
    form = coordinator.get(f"/cases/{case_id}/booking/move")
    assert form.status_code == 200
    assert "one message that the appointment has" in form.text
    posted = browser_post(
        coordinator,
        f"/cases/{case_id}/booking/move",
        {"version": version_of(coordinator, case_id), "room": "Room 1", "day": new_day.isoformat(), "time": "11:00"},
    )
    assert posted.status_code == 303, posted.text
    shown = coordinator.get(posted.headers["location"])
    assert "The patient is sent one message that it has moved" in shown.text
    messages = _appointment_messages(session_factory, case_id)
    assert [m.kind for m in messages] == ["appointment_booked", "appointment_changed", "appointment_changed"]
    again = messages[-1]
    assert f"New time: {CLINIC.moment(target)}, in Room 1." in again.body
    assert f"Old time (no longer valid): {CLINIC.moment(target)}, in Room 2." in again.body
    assert "Your preparation dates do not change." in again.body
    assert again.attachment is not None
    _, second = the_event(again.attachment)
    assert (second.uid, second.sequence) == (uid, sequence + 2)

    # 3. a real cancellation: the cancellation, removing that same event above every version sent
    cancel = {"reason": "patient admitted elsewhere with pneumonia", "confirm": True}
    assert act(coordinator, case_id, "POST", "/booking/cancel", cancel).status_code == 200
    messages = _appointment_messages(session_factory, case_id)
    assert [m.kind for m in messages][-1] == "appointment_cancelled"
    assert "is cancelled" in messages[-1].body
    assert messages[-1].attachment is not None
    calendar, removal = the_event(messages[-1].attachment)
    assert (calendar["METHOD"], removal["STATUS"]) == ("CANCEL", "CANCELLED")
    assert removal.uid == uid
    assert removal.sequence == sequence + 3
    assert not removal.walk("VALARM")

    # 4. as e-mail: each calendar file is a text/calendar part naming its own method (what mail programs act on)
    port, received = smtp_server
    with UnitOfWork(session_factory) as uow:
        smtp = SmtpOutbox("127.0.0.1", port, CLINIC.sender, user=None, password=None, starttls=False)
        assert deliver_pending(uow, smtp).sent == 4
        uow.commit()
    methods = []
    for raw in received:
        mail = email.message_from_string(raw, policy=email.policy.default)
        (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        methods.append((str(mail["Subject"]).split(":")[0], part.get_param("method")))
    assert [m for _, m in methods] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert not any("cancel" in subject.lower() for subject, _ in methods[:3])


def test_a_refused_move_changes_nothing_and_tells_the_patient_nothing(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    _, case_id = _booked_patient(portal_factory, signed_in)
    before = _appointment_messages(session_factory, case_id)
    coordinator = signed_in(Role.COORDINATOR)
    tomorrow = dt.datetime.now(LONDON).date() + dt.timedelta(days=1)
    while tomorrow.weekday() >= 5:
        tomorrow += dt.timedelta(days=1)
    too_early = browser_post(  # before the warfarin hold could be completed
        coordinator,
        f"/cases/{case_id}/booking/move",
        {"version": version_of(coordinator, case_id), "room": "Room 2", "day": tomorrow.isoformat(), "time": "10:00"},
    )
    assert too_early.status_code == 409, too_early.text[:500]
    assert "warfarin" in too_early.text
    as_json = coordinator.post(
        f"/cases/{case_id}/booking/move",
        data={"version": version_of(coordinator, case_id), "room": "Room 2", "starts_at": f"{tomorrow}T10:00"},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 409
    after = _appointment_messages(session_factory, case_id)
    assert [(m.id, m.kind) for m in after] == [(m.id, m.kind) for m in before]


def test_accepting_a_plan_that_moves_a_booking_tells_the_patient_once_that_it_has_moved(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    tuesday = next_monday() + dt.timedelta(days=1)
    booked_at = dt.datetime.combine(tuesday, dt.time(9, 0), tzinfo=LONDON)
    with UnitOfWork(session_factory) as uow:
        svc.ensure_calendar(uow, ("Room 1", "Room 2"), next_monday(), 7)
        case_id = prepare(uow, "PLAN-M1")
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        account = PatientAccount(
            patient_id=workflow.case.patient_id, reference="VB-PLANM1", email="plan@example.org", active=True
        )
        uow.session.add(account)
        uow.session.flush()
        svc.book(
            uow, case_id, room="Room 1", starts_at=booked_at, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        uow.commit()
    lead = signed_in(Role.SERVICE_LEAD)
    plan_id = _run(lead)
    plan, version, _ = _plan(session_factory, plan_id)
    (session,) = [s for s in plan.sessions if s.session == 0]
    friday = next_monday() + dt.timedelta(days=4)
    moved = lead.post(
        f"/schedule/plans/{plan_id}/move",
        data={"session": f"{session.case}/0", "date": friday.isoformat(), "time": "14:00", "room": "Room 2"}
        | {"version": str(version)},
    )
    assert moved.status_code == 303, moved.text[:1000]
    _, version, _ = _plan(session_factory, plan_id)
    accepted = lead.post(f"/schedule/plans/{plan_id}/accept", data={"version": str(version)})
    assert accepted.status_code == 303, accepted.text[:1000]

    messages = _appointment_messages(session_factory, case_id)
    assert [m.kind for m in messages] == ["appointment_booked", "appointment_changed"]  # never "cancelled"
    target = dt.datetime.combine(friday, dt.time(14, 0), tzinfo=LONDON)
    assert f"New time: {CLINIC.moment(target)}, in Room 2." in messages[1].body
    assert f"Old time (no longer valid): {CLINIC.moment(booked_at)}, in Room 1." in messages[1].body
    assert messages[0].attachment is not None
    assert messages[1].attachment is not None
    _, first = the_event(messages[0].attachment)
    calendar, update = the_event(messages[1].attachment)
    assert calendar["METHOD"] == "REQUEST"
    assert update.uid == first.uid
    assert update.sequence == first.sequence + 1
    assert (update.start, update.start.tzname()) == (target, "UTC")
