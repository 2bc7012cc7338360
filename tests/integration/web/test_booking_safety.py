"""Booking is safe (issue 12 item 5), over HTTP on SQLite and PostgreSQL: forms posted as a browser posts them
(hidden CSRF field, no header) and the JSON API.

* a slot before the holds can be completed is neither offered (the calendar greys it out) nor accepted
  (the refusal names the drug and the earliest date);
* cancelling needs a written reason and a confirmation, really cancels from every entry point, and the case
  can be booked again from every entry point without a 5xx, its reads never failing;
* FHIR Appointments follow the booking: cancelled with the reason, never two booked for one case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.test_workflow import CHECKLIST, act, etag
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, SlotReservation

C, N, R, L = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD
APIXABAN = [{"name": "apixaban"}]
REASON = "Patient has a chest infection; rebook in two weeks."


def prepared(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], identifier: str, **changes: Any
) -> int:
    """Store a case and take it to 'prepared' through the API (screened, accepted, checklist, self-pay)."""
    changes.setdefault("labs", {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0})  # asra.doac
    case_id = stored_case(identifier, sedation_planned=False, **changes)
    coordinator = signed_in(C)
    assert act(coordinator, case_id, "POST", "/actions/start_screening").status_code == 200
    assert act(signed_in(R), case_id, "POST", "/actions/accept").status_code == 200
    assert act(coordinator, case_id, "PUT", "/checklist", {**CHECKLIST, "fasting_explained": False}).status_code == 200
    assert act(coordinator, case_id, "PUT", "/insurance", {"status": "self_pay"}).status_code == 200
    done = act(coordinator, case_id, "POST", "/actions/complete_preparation")
    assert done.json()["state"] == "prepared", done.text
    return case_id


def weekday_start(on_or_after: dt.date, at: dt.time = dt.time(9, 0)) -> dt.datetime:
    """Return the first weekday at ``at`` (local) on or after a date, as an aware moment."""
    day = on_or_after
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, at).astimezone()


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def version_of(client: TestClient, case_id: int) -> str:
    return etag(client, case_id).removeprefix("W/").strip('"')


def browser_post(client: TestClient, path: str, fields: dict[str, str]) -> Any:
    """POST a form as the browser does: the CSRF token as the hidden field, no X-CSRF-Token header."""
    token = client.headers.pop("X-CSRF-Token")
    try:
        return client.post(path, data={"csrf_token": token, **fields})
    finally:
        client.headers["X-CSRF-Token"] = token


def book_api(client: TestClient, case_id: int, start: dt.datetime, room: str = "Room 1") -> Any:
    return act(client, case_id, "POST", "/booking", {"room": room, "starts_at": start.isoformat()})


def book_form(client: TestClient, case_id: int, start: dt.datetime, room: str = "Room 1") -> Any:
    fields = {"version": version_of(client, case_id), "room": room, "starts_at": start.isoformat()}
    return browser_post(client, f"/cases/{case_id}/booking", fields)


def cancel_form(client: TestClient, case_id: int, *, reason: str = REASON, confirm: bool = True) -> Any:
    fields = {"version": version_of(client, case_id), "reason": reason}
    if confirm:
        fields["confirm"] = "yes"
    return browser_post(client, f"/cases/{case_id}/booking/cancel", fields)


def active_bookings(session_factory: sessionmaker[Session], case_id: int) -> list[Booking]:
    with UnitOfWork(session_factory) as uow:
        statement = select(Booking).where(Booking.case_id == case_id, Booking.status == "booked")
        return list(uow.session.scalars(statement))


def appointments(client: TestClient, patient_id: int) -> list[dict[str, Any]]:
    bundle = client.get("/fhir/Appointment", params={"patient": patient_id})
    assert bundle.status_code == 200, bundle.text
    return [e["resource"] for e in bundle.json().get("entry", []) if e["resource"]["resourceType"] == "Appointment"]


def reads_never_fail(signed_in: Callable[[Role], TestClient], case_id: int) -> dict[str, Any]:
    """Every read of a case answers: the API case, the chart, the calendar for it and its FHIR record."""
    coordinator = signed_in(C)
    case = coordinator.get(f"/api/cases/{case_id}")
    assert case.status_code == 200, case.text
    patient_id = case.json()["patient_id"]
    for path in (f"/patients/{patient_id}", f"/calendar?case_id={case_id}", f"/fhir/Patient/{patient_id}/$everything"):
        response = coordinator.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    return dict(case.json())


def test_the_api_refuses_a_slot_before_the_holds_and_names_the_drug_and_the_earliest_date(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = prepared(signed_in, stored_case, "SAFE-1", medications=APIXABAN)
    coordinator = signed_in(C)
    today = dt.date.today()
    earliest = today + dt.timedelta(days=5)  # 3 whole days without it; the last dose on a day after today
    case = coordinator.get(f"/api/cases/{case_id}").json()
    assert dt.datetime.fromisoformat(case["earliest_start"]).astimezone().date() == earliest
    assert any(c.startswith("apixaban:") for c in case["start_constraints"])
    refused = book_api(coordinator, case_id, weekday_start(today + dt.timedelta(days=1)))
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "apixaban" in detail
    assert long_date(earliest) in detail
    assert active_bookings(session_factory, case_id) == []
    assert coordinator.get(f"/api/cases/{case_id}").json()["state"] == "prepared"

    start = weekday_start(earliest)
    booked = book_api(coordinator, case_id, start)
    assert booked.status_code == 200, booked.text
    hold = next(h for h in booked.json()["assessment"]["preparation"]["medication_holds"] if h["drug"] == "apixaban")
    assert dt.date.fromisoformat(hold["stop"]) > today


def test_the_calendar_greys_out_slots_before_the_earliest_date_and_a_form_booking_is_refused(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = prepared(signed_in, stored_case, "SAFE-2", medications=APIXABAN)
    coordinator = signed_in(C)
    today = dt.date.today()
    earliest = today + dt.timedelta(days=5)
    # a working day between tomorrow and the earliest date: its free slots are greyed out, none is offered
    too_soon = weekday_start(today + dt.timedelta(days=1)).date()
    assert too_soon < earliest
    day = coordinator.get(f"/calendar?case_id={case_id}&view=day&start={too_soon.isoformat()}")
    assert day.status_code == 200
    assert "Earliest feasible start for this case" in day.text
    assert long_date(earliest) in day.text
    assert "apixaban" in day.text
    assert "too early for this case" in day.text
    assert 'name="starts_at"' not in day.text
    # the week (Monday first) of the earliest date offers starts, none before it
    page = coordinator.get(f"/calendar?case_id={case_id}&start={earliest.isoformat()}")
    assert page.status_code == 200
    offered = [dt.datetime.fromisoformat(m) for m in re.findall(r'name="starts_at" value="([^"]+)"', page.text)]
    assert offered, "no slot offered in the week"
    assert all(m.date() >= earliest for m in offered)
    # without a date the calendar opens on the week of the earliest date (the next week if that is a weekend)
    opened = coordinator.get(f"/calendar?case_id={case_id}")
    shown = [dt.date.fromisoformat(d) for d in re.findall(r'<h2 id="day-(\d{4}-\d\d-\d\d)"', opened.text)]
    assert shown
    assert shown[0].weekday() == 0
    assert weekday_start(earliest).date() in shown
    opened_offers = re.findall(r'name="starts_at" value="([^"]+)"', opened.text)
    assert opened_offers
    assert all(dt.datetime.fromisoformat(m).date() >= earliest for m in opened_offers)

    patient_id = coordinator.get(f"/api/cases/{case_id}").json()["patient_id"]
    chart = coordinator.get(f"/patients/{patient_id}")
    assert f"Earliest safe start: <strong>{long_date(earliest)}</strong> (apixaban)" in chart.text
    refused = book_form(coordinator, case_id, weekday_start(today + dt.timedelta(days=1)))
    assert refused.status_code == 409
    assert "apixaban" in refused.text
    assert long_date(earliest) in refused.text
    assert active_bookings(session_factory, case_id) == []
    booked = book_form(coordinator, case_id, offered[0])
    assert booked.status_code == 303, booked.text[:1000]
    assert len(active_bookings(session_factory, case_id)) == 1


def test_cancelling_in_the_chart_needs_a_reason_and_a_confirmation_and_is_audited(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = prepared(signed_in, stored_case, "SAFE-3")
    coordinator = signed_in(C)
    start = weekday_start(dt.date.today() + dt.timedelta(days=8))
    assert book_form(coordinator, case_id, start).status_code == 303
    chart = coordinator.get(f"/patients/{reads_never_fail(signed_in, case_id)['patient_id']}")
    assert 'name="confirm"' in chart.text
    assert "Reason for cancelling (required)" in chart.text

    no_reason = cancel_form(coordinator, case_id, reason="")
    assert no_reason.status_code == 422
    assert "write why the booking is cancelled" in no_reason.text
    unconfirmed = cancel_form(coordinator, case_id, confirm=False)
    assert unconfirmed.status_code == 422
    assert "confirm that the booking is to be cancelled" in unconfirmed.text
    assert REASON in unconfirmed.text  # the typed reason is kept
    one_click = browser_post(
        coordinator, f"/cases/{case_id}/actions/cancel_booking", {"version": version_of(coordinator, case_id)}
    )
    assert one_click.status_code == 422
    assert len(active_bookings(session_factory, case_id)) == 1
    assert coordinator.get(f"/api/cases/{case_id}").json()["state"] == "scheduled"

    cancelled = cancel_form(coordinator, case_id)
    assert cancelled.status_code == 303, cancelled.text[:1000]
    assert active_bookings(session_factory, case_id) == []
    with UnitOfWork(session_factory) as uow:
        booking = uow.session.scalars(select(Booking).where(Booking.case_id == case_id)).one()
        assert booking.status == "cancelled"
        assert booking.cancel_reason == REASON
        assert uow.session.scalars(select(SlotReservation).where(SlotReservation.booking_id == booking.id)).all() == []
        entry = next(e for e in uow.audit.entries(action="cancel") if e.entity_id == str(booking.id))
        assert entry.actor == "t.coordinator"
        assert entry.detail["reason"] == REASON
    after = reads_never_fail(signed_in, case_id)
    assert after["state"] == "prepared"
    assert after["assessment"]["preparation"]["procedure_start"] is None  # no plan dated for the cancelled slot


def test_the_api_cancel_booking_action_really_cancels_and_the_case_can_be_booked_again(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = prepared(signed_in, stored_case, "SAFE-4")
    coordinator = signed_in(C)
    first = weekday_start(dt.date.today() + dt.timedelta(days=8))
    assert book_api(coordinator, case_id, first).status_code == 200
    bare = act(coordinator, case_id, "POST", "/actions/cancel_booking")
    assert bare.status_code == 422
    assert "why the booking is cancelled" in bare.json()["detail"]
    cancelled = act(coordinator, case_id, "POST", "/actions/cancel_booking", {"reason": REASON})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "prepared"
    assert active_bookings(session_factory, case_id) == []
    again = book_api(coordinator, case_id, first)  # the freed slot itself
    assert again.status_code == 200, again.text
    assert len(active_bookings(session_factory, case_id)) == 1
    patient_id = reads_never_fail(signed_in, case_id)["patient_id"]
    statuses = sorted(a["status"] for a in appointments(coordinator, patient_id))
    assert statuses == ["booked", "cancelled"]
    gone = next(a for a in appointments(coordinator, patient_id) if a["status"] == "cancelled")
    assert gone["cancelationReason"] == {"text": REASON}


def test_a_bare_book_step_cannot_schedule_a_case_without_a_slot(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = prepared(signed_in, stored_case, "SAFE-5")
    coordinator = signed_in(C)
    bare = act(coordinator, case_id, "POST", "/actions/book")
    assert bare.status_code == 422
    assert "calendar" in bare.json()["detail"]
    from_chart = browser_post(
        coordinator, f"/cases/{case_id}/actions/book", {"version": version_of(coordinator, case_id)}
    )
    assert from_chart.status_code == 303
    assert from_chart.headers["location"] == f"/calendar?case_id={case_id}"
    assert coordinator.get(f"/api/cases/{case_id}").json()["state"] == "prepared"


CANCELLERS = ("chart form", "api action", "api cancel")
BOOKERS = ("calendar form", "api")


def _cancel(client: TestClient, case_id: int, how: str) -> Any:
    if how == "chart form":
        return cancel_form(client, case_id)
    if how == "api action":
        return act(client, case_id, "POST", "/actions/cancel_booking", {"reason": REASON})
    return act(client, case_id, "POST", "/booking/cancel", {"reason": REASON, "confirm": True})


@pytest.mark.parametrize("cancel_via", CANCELLERS)
@pytest.mark.parametrize("rebook_via", BOOKERS)
def test_rebooking_after_a_cancel_works_from_every_entry_point(
    cancel_via: str,
    rebook_via: str,
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = prepared(signed_in, stored_case, f"RE-{CANCELLERS.index(cancel_via)}-{BOOKERS.index(rebook_via)}")
    coordinator = signed_in(C)
    first = weekday_start(dt.date.today() + dt.timedelta(days=9), dt.time(8, 0))
    second = weekday_start(dt.date.today() + dt.timedelta(days=10), dt.time(13, 0))
    assert book_api(coordinator, case_id, first, "Room 2").status_code == 200
    assert _cancel(coordinator, case_id, cancel_via).status_code in (200, 303)
    assert reads_never_fail(signed_in, case_id)["state"] == "prepared"
    rebooked = (book_form if rebook_via == "calendar form" else book_api)(coordinator, case_id, second, "Room 2")
    assert rebooked.status_code in (200, 303), rebooked.text[:1000]
    assert reads_never_fail(signed_in, case_id)["state"] == "scheduled"
    bookings = active_bookings(session_factory, case_id)
    assert [(b.room, b.starts_at) for b in bookings] == [("Room 2", second)]
    patient_id = coordinator.get(f"/api/cases/{case_id}").json()["patient_id"]
    assert sum(a["status"] == "booked" for a in appointments(coordinator, patient_id)) == 1


def test_the_planner_books_again_after_a_cancel(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    from tests.integration.scheduling.conftest import next_monday
    from vertebro.store import workflow

    with UnitOfWork(session_factory) as uow:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), next_monday(), 7)
        uow.commit()
    case_id = prepared(signed_in, stored_case, "PLAN-RE")
    coordinator, lead = signed_in(C), signed_in(L)
    assert book_api(coordinator, case_id, weekday_start(next_monday() + dt.timedelta(days=2))).status_code == 200
    assert _cancel(coordinator, case_id, "api cancel").status_code == 200
    run = lead.post("/schedule/plans", data={"start": next_monday().isoformat(), "weeks": "1", "time_limit": "2"})
    assert run.status_code == 303, run.text[:1000]
    plan_page = lead.get(run.headers["location"])
    assert plan_page.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', plan_page.text)
    assert version
    accepted = lead.post(f"{run.headers['location']}/accept", data={"version": version.group(1)})
    assert accepted.status_code == 303, accepted.text[:1000]
    assert len(active_bookings(session_factory, case_id)) == 1
    assert reads_never_fail(signed_in, case_id)["state"] == "scheduled"


def test_the_planner_dates_holds_with_the_booking_rule(
    session_factory: sessionmaker[Session],
) -> None:
    from tests.integration.scheduling.conftest import COORDINATOR, POLICY, next_monday, prepare
    from vertebro.scheduling.service import PlanningSetup, database_instance

    with UnitOfWork(session_factory) as uow:
        held = prepare(
            uow,
            "PLAN-APIX",
            medications=APIXABAN,
            labs={"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0},
        )
        setup = PlanningSetup(rooms=("Room 1", "Room 2"), recovery_bays=4)
        now = dt.datetime.combine(next_monday(), dt.time(22, 25))
        source = database_instance(
            uow, start=next_monday(), weeks=1, setup=setup, policy=POLICY, actor=COORDINATOR, now=now
        )
        uow.rollback()
    entry = next(c for c in source.instance.cases if source.cases[c.id] == held)
    dates = [nb.date for nb in entry.not_before]
    assert min(dates) >= next_monday() + dt.timedelta(days=5)


def test_a_decision_outstanding_offers_no_slot_and_says_why(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("SAFE-6", medications=[{"name": "aspirin", "purpose": "secondary_prevention"}])
    coordinator = signed_in(C)
    page = coordinator.get(f"/calendar?case_id={case_id}")
    assert page.status_code == 200
    assert "No date can be booked yet." in page.text
    assert "aspirin" in page.text
    assert "no date until the decision is recorded" in page.text
    assert "not bookable yet" in page.text
    assert 'name="starts_at"' not in page.text
