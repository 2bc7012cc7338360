"""The calendar's feeds and moving a booking (issue 15 item 3, decision 0032), over HTTP on SQLite and PostgreSQL.

* the bookings feed names the patient, the levels and the state, in the clinic's wall-clock time, checks the
  role and audits each patient shown as read;
* the slots feed offers a start only where the feasibility function allows it, and says why not elsewhere;
* a move is re-checked on the server: a start that breaks a hold is refused naming the drug and the earliest
  date and nothing changes; a move made against a version someone else has changed is refused, so of two
  clients moving the same booking one wins and the other is told; only the desk roles move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.test_booking_safety import (
    APIXABAN,
    active_bookings,
    book_form,
    browser_post,
    long_date,
    prepared,
    version_of,
    weekday_start,
)
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, Booking, SlotReservation

C, N, R, L, A = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD, Role.ADMIN
CLINIC_ZONE = ZoneInfo("Europe/London")  # the settings' default VERTEBRO_TIMEZONE


def wall(moment: dt.datetime) -> str:
    return moment.astimezone(CLINIC_ZONE).replace(tzinfo=None).isoformat(timespec="seconds")


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def booked_case(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], identifier: str, start: dt.datetime
) -> int:
    case_id = prepared(signed_in, stored_case, identifier, medications=APIXABAN)
    response = book_form(signed_in(C), case_id, start)
    assert response.status_code == 303, response.text[:1000]
    return case_id


def state(session_factory: sessionmaker[Session], case_id: int) -> tuple[Any, ...]:
    """Everything a move could change: the bookings, the slots they hold and the booking audit entries."""
    with UnitOfWork(session_factory) as uow:
        bookings = uow.session.scalars(select(Booking).where(Booking.case_id == case_id).order_by(Booking.id))
        rows = [(b.id, b.status, b.room, b.starts_at, b.ends_at) for b in bookings]
        held = sorted(
            uow.session.scalars(
                select(SlotReservation.slot_id)
                .join(Booking, Booking.id == SlotReservation.booking_id)
                .where(Booking.case_id == case_id)
            )
        )
        audit = uow.session.scalar(
            select(AuditEntry.id)
            .where(AuditEntry.action.in_(("book", "cancel", "move")))
            .order_by(AuditEntry.id.desc())
        )
        return rows, held, audit


def move_form(
    client: TestClient, case_id: int, start: dt.datetime, room: str = "Room 1", version: str | None = None
) -> Any:
    fields = {"version": version or version_of(client, case_id), "room": room, "starts_at": start.isoformat()}
    return browser_post(client, f"/cases/{case_id}/booking/move", fields)


def move_json(client: TestClient, case_id: int, wall_start: str, version: str, room: str = "Room 1") -> Any:
    return client.post(
        f"/cases/{case_id}/booking/move",
        data={"version": version, "room": room, "starts_at": wall_start},
        headers={"Accept": "application/json"},
    )


def test_the_bookings_feed_names_patient_levels_and_state_checks_the_role_and_audits_the_read(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
    client: TestClient,
) -> None:
    start = weekday_start(dt.date.today() + dt.timedelta(days=8))
    case_id = booked_case(signed_in, stored_case, "CAL-1", start)
    query = f"/calendar/events.json?start={monday_of(start.date()).isoformat()}&days=7"
    feed = signed_in(R).get(query)
    assert feed.status_code == 200, feed.text
    (event,) = [e for e in feed.json() if e["case_id"] == case_id]
    assert event["name"] == "Patient CAL-1"
    assert event["levels"], "the levels of the session are shown"
    assert event["state"] == "scheduled"
    assert event["title"] == f"Patient CAL-1 · {' '.join(event['levels'])} · scheduled"
    assert event["start"] == wall(start)
    assert dt.datetime.fromisoformat(event["starts_at"]) == start
    assert event["room"] == "Room 1"
    assert event["movable"] is False  # the radiologist sees, the desk moves
    assert signed_in(C).get(query).json()[0]["move_url"] == f"/cases/{case_id}/booking/move"
    with UnitOfWork(session_factory) as uow:
        reads = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.patient_id == event["patient_id"])
        ).all()
    assert any(r.detail.get("purpose") == "calendar" and r.detail.get("role") == "radiologist" for r in reads)
    assert signed_in(A).get(query).status_code == 403
    anonymous = client.get(query)  # not signed in: sent to sign in, no data
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    assert signed_in(C).get("/calendar/events.json?start=0").status_code == 422
    assert signed_in(C).get(f"/calendar/events.json?start={start.date()}&days=400").status_code == 422


def test_the_slots_feed_offers_only_starts_every_rule_allows_and_says_why_not(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = prepared(signed_in, stored_case, "CAL-2", medications=APIXABAN)
    today = dt.date.today()
    earliest = today + dt.timedelta(days=5)
    feed = signed_in(C).get(f"/calendar/slots.json?start={today + dt.timedelta(days=1)}&days=7&case_id={case_id}")
    assert feed.status_code == 200, feed.text
    body = feed.json()
    assert body["zone"] == "Europe/London"
    assert body["earliest_text"] == long_date(earliest)
    assert body["can_book"] is True
    bookable = [s for s in body["slots"] if s["bookable"]]
    refused = [s for s in body["slots"] if not s["bookable"]]
    assert bookable, "some start in the week is feasible"
    assert all(dt.date.fromisoformat(s["start"][:10]) >= earliest for s in bookable)
    assert all(s["reasons"] == [] for s in bookable)
    early = [s for s in refused if dt.date.fromisoformat(s["start"][:10]) < earliest]
    assert early
    assert all(any("apixaban" in r and long_date(earliest) in r for r in s["reasons"]) for s in early)
    # the radiologist may look, not book
    assert signed_in(R).get(f"/calendar/slots.json?start={today}&case_id={case_id}").json()["can_book"] is False
    assert signed_in(A).get(f"/calendar/slots.json?start={today}&case_id={case_id}").status_code == 403


def test_a_move_that_breaks_a_hold_is_refused_with_the_drug_and_date_and_nothing_changes(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    today = dt.date.today()
    earliest = today + dt.timedelta(days=5)
    first = weekday_start(earliest + dt.timedelta(days=7))
    case_id = booked_case(signed_in, stored_case, "CAL-3", first)
    coordinator = signed_in(C)
    before = state(session_factory, case_id)
    version = version_of(coordinator, case_id)

    too_early = weekday_start(today + dt.timedelta(days=1), dt.time(10, 0))
    refused = move_form(coordinator, case_id, too_early)
    assert refused.status_code == 409, refused.text[:500]
    assert "apixaban" in refused.text
    assert long_date(earliest) in refused.text
    as_json = move_json(coordinator, case_id, wall(too_early), version)
    assert as_json.status_code == 409
    assert "apixaban" in as_json.json()["detail"]
    assert as_json.json()["field"] == "starts_at"
    assert state(session_factory, case_id) == before
    assert version_of(coordinator, case_id) == version
    assert coordinator.get(f"/api/cases/{case_id}").json()["state"] == "scheduled"

    # a start with no free run of slots (after the rooms close) is refused too, and changes nothing
    closed = move_json(coordinator, case_id, f"{first.date()}T18:00:00", version)
    assert closed.status_code == 422, closed.text
    assert state(session_factory, case_id) == before

    # the radiologist may not move; the form page is the desk's
    assert move_json(signed_in(R), case_id, wall(first + dt.timedelta(hours=2)), version).status_code == 403
    assert signed_in(R).get(f"/cases/{case_id}/booking/move").status_code == 403
    assert state(session_factory, case_id) == before

    # a feasible start in another room: moved, the old booking cancelled with the reason, the move audited
    target = first + dt.timedelta(days=1, hours=2)
    target = weekday_start(target.date(), dt.time(11, 0))
    moved = move_json(coordinator, case_id, wall(target), version, room="Room 2")
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == wall(target)
    (now_booked,) = active_bookings(session_factory, case_id)
    assert (now_booked.room, now_booked.starts_at) == ("Room 2", target)
    with UnitOfWork(session_factory) as uow:
        old = uow.session.get(Booking, before[0][-1][0])
        assert old is not None
        assert old.status == "cancelled"
        assert old.cancel_reason
        assert old.cancel_reason.startswith("moved in the calendar to Room 2")
        assert uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "move")).all()
    assert coordinator.get(f"/api/cases/{case_id}").json()["state"] == "scheduled"


def test_two_clients_moving_the_same_booking_one_wins_the_other_is_told_and_nothing_else_changes(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    earliest = dt.date.today() + dt.timedelta(days=5)
    first = weekday_start(earliest + dt.timedelta(days=7))
    case_id = booked_case(signed_in, stored_case, "CAL-4", first)
    coordinator, nurse = signed_in(C), signed_in(N)
    seen = version_of(coordinator, case_id)
    assert version_of(nurse, case_id) == seen  # both have the calendar open
    to_a = first + dt.timedelta(hours=1)
    to_b = first + dt.timedelta(hours=3)
    won = move_json(coordinator, case_id, wall(to_a), seen)
    assert won.status_code == 200, won.text
    after_win = state(session_factory, case_id)
    lost = move_json(nurse, case_id, wall(to_b), seen, room="Room 2")
    assert lost.status_code == 412, lost.text
    assert "changed by someone else" in lost.json()["detail"]
    assert state(session_factory, case_id) == after_win
    (booking,) = active_bookings(session_factory, case_id)
    assert (booking.room, booking.starts_at) == ("Room 1", to_a)

    # two cases moved into the same slot: the database lets one hold it, the other is told it was taken
    next_day = weekday_start(first.date() + dt.timedelta(days=1))  # a weekday, whatever day the test runs
    other = booked_case(signed_in, stored_case, "CAL-5", next_day)
    taken = move_json(nurse, other, wall(to_a), version_of(nurse, other))
    assert taken.status_code == 409, taken.text
    assert "booked by someone else" in taken.json()["detail"]
    assert active_bookings(session_factory, other)[0].starts_at == next_day


def test_without_javascript_the_move_form_moves_and_the_calendar_lists_the_booking(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    earliest = dt.date.today() + dt.timedelta(days=5)
    first = weekday_start(earliest + dt.timedelta(days=7))
    case_id = booked_case(signed_in, stored_case, "CAL-6", first)
    coordinator = signed_in(C)
    week = coordinator.get(f"/calendar?start={first.date()}")
    assert week.status_code == 200
    assert "Patient CAL-6" in week.text
    assert f'href="/cases/{case_id}/booking/move"' in week.text
    assert "Times are the clinic's: Europe/London" in week.text
    # opened for the booked case, the calendar offers no start to book (the booking is moved instead)
    for_case = coordinator.get(f"/calendar?case_id={case_id}&start={first.date()}")
    assert "This case is already booked" in for_case.text
    assert 'name="starts_at"' not in for_case.text
    feed = coordinator.get(f"/calendar/slots.json?start={first.date()}&case_id={case_id}").json()
    assert feed["can_book"] is False
    form = coordinator.get(f"/cases/{case_id}/booking/move")
    assert form.status_code == 200
    assert 'name="day"' in form.text
    assert 'name="time"' in form.text
    target = weekday_start(first.date() + dt.timedelta(days=1), dt.time(13, 0))
    local = target.astimezone(CLINIC_ZONE)
    fields = {"version": version_of(coordinator, case_id), "room": "Room 2", "day": local.date().isoformat()}
    moved = browser_post(coordinator, f"/cases/{case_id}/booking/move", {**fields, "time": f"{local:%H:%M}"})
    assert moved.status_code == 303, moved.text[:500]
    assert moved.headers["location"] == f"/calendar?view=day&start={local.date()}&done=moved"
    (booking,) = active_bookings(session_factory, case_id)
    assert (booking.room, booking.starts_at) == ("Room 2", target)
    day = coordinator.get(moved.headers["location"])
    assert "The booking was moved" in day.text
    bad_time = browser_post(coordinator, f"/cases/{case_id}/booking/move", {**fields, "time": "1pm"})
    assert bad_time.status_code == 422
    assert "write the time as HH:MM" in bad_time.text


def test_a_mistake_on_the_move_form_names_its_field_and_is_shown_beside_it(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    first = weekday_start(dt.date.today() + dt.timedelta(days=12))
    case_id = booked_case(signed_in, stored_case, "CAL-7", first)
    coordinator = signed_in(C)
    local = first.astimezone(CLINIC_ZONE)
    fields = {"version": version_of(coordinator, case_id), "room": "Room 1", "day": local.date().isoformat()}
    for changes, field, label, message in (
        ({"day": ""}, "day", "New day", "this field is required"),
        ({"time": ""}, "time", "New start time", "this field is required"),
        ({"time": "25:00"}, "time", "New start time", "write the time as HH:MM, from 00:00 to 23:59"),
        ({"day": "11/12/2026", "time": "09:00"}, "day", "New day", "write the date as YYYY-MM-DD"),
    ):
        refused = browser_post(coordinator, f"/cases/{case_id}/booking/move", {**fields, "time": "10:00", **changes})
        assert refused.status_code == 422, refused.text[:500]
        assert f"<p>{label}: {message}</p>" in refused.text, "the message at the top names the field"
        assert f'aria-invalid="true" aria-describedby="{field}-error"' in refused.text
        assert f'<p class="error" id="{field}-error">{message}</p>' in refused.text, "and is shown beside it"
        (booking,) = active_bookings(session_factory, case_id)
        assert booking.starts_at == first, "nothing moved"
