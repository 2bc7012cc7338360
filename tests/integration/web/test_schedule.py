"""The service lead's planning page (SQLite and PostgreSQL): run, look, move a session, accept; the conflict."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.scheduling.conftest import COORDINATOR, POLICY, next_monday, prepare
from vertebro.pathway.machine import Role
from vertebro.scheduling.plan import Plan
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Case, SchedulePlan

L, C = Role.SERVICE_LEAD, Role.COORDINATOR


def _prepared(session_factory: sessionmaker[Session], *identifiers: str) -> list[int]:
    with UnitOfWork(session_factory) as uow:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), next_monday(), 7)
        ids = [prepare(uow, identifier, sedation_planned=i == 0) for i, identifier in enumerate(identifiers)]
        uow.commit()
    return ids


def _run(client: TestClient, **extra: str) -> int:
    form = {"start": next_monday().isoformat(), "weeks": "1", "time_limit": "2", **extra}
    response = client.post("/schedule/plans", data=form)
    assert response.status_code == 303, response.text[:2000]
    match = re.fullmatch(r"/schedule/plans/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def _plan(session_factory: sessionmaker[Session], plan_id: int) -> tuple[Plan, int, str]:
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(SchedulePlan, plan_id)
        assert row is not None
        return Plan.model_validate(row.plan), row.version, row.status


def test_the_service_lead_runs_moves_and_accepts_a_plan(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    cases = _prepared(session_factory, "WEB-P1", "WEB-P2", "WEB-P3")
    lead, coordinator = signed_in(L), signed_in(C)
    assert "Run the planner" in lead.get("/schedule").text
    looking = coordinator.get("/schedule")
    assert looking.status_code == 200
    assert "Run the planner" not in looking.text
    plan_id = _run(lead, w_acute_missed="45.5")
    page = lead.get(f"/schedule/plans/{plan_id}")
    assert page.status_code == 200
    for name in ("Patient WEB-P1", "Patient WEB-P2", "Patient WEB-P3"):
        assert name in page.text
    assert "first come, first served" in page.text.lower()
    assert "under 6 weeks" in page.text  # the legend says in words what each colour means
    assert re.search(r'class="band-tag">acute, \d+ wk', page.text)
    assert "45.5" in page.text  # the weight used is shown with its meaning
    assert "Accept the plan and book 3 sessions" in page.text
    with UnitOfWork(session_factory) as uow:
        reads = [e for e in uow.audit.entries(action="read") if (e.detail or {}).get("plan") == plan_id]
        assert {e.actor for e in reads} == {"t.service-lead"}
    seen = coordinator.get(f"/schedule/plans/{plan_id}")
    assert seen.status_code == 200
    assert "Accept the plan" not in seen.text
    assert coordinator.post(f"/schedule/plans/{plan_id}/accept", data={}).status_code == 403

    plan, version, _ = _plan(session_factory, plan_id)
    first = plan.sessions[0]
    saturday = next_monday() + dt.timedelta(days=5)
    refused = lead.post(
        f"/schedule/plans/{plan_id}/move",
        data={
            "session": f"{first.case}/0",
            "date": saturday.isoformat(),
            "time": "09:00",
            "room": "Room 1",
            "version": str(version),
        },
    )
    assert refused.status_code == 422
    assert "is not free for this session" in refused.text
    friday = next_monday() + dt.timedelta(days=4)
    moved = lead.post(
        f"/schedule/plans/{plan_id}/move",
        data={
            "session": f"{first.case}/0",
            "date": friday.isoformat(),
            "time": "14:00",
            "room": "Room 2",
            "version": str(version),
        },
    )
    assert moved.status_code == 303, moved.text[:1000]
    plan, version, _ = _plan(session_factory, plan_id)
    assert any(s.start == dt.datetime.combine(friday, dt.time(14, 0)) and s.room == "Room-2" for s in plan.sessions)

    accepted = lead.post(f"/schedule/plans/{plan_id}/accept", data={"version": str(version)})
    assert accepted.status_code == 303, accepted.text[:1000]
    assert "Plan accepted" in lead.get(accepted.headers["location"]).text
    _, _, status = _plan(session_factory, plan_id)
    assert status == "accepted"
    with UnitOfWork(session_factory) as uow:
        for case_id in cases:
            booking = uow.bookings.active_booking(case_id)
            assert booking is not None
        assert len(uow.audit.entries(action="book")) == 3


def test_a_slot_taken_meanwhile_is_named_and_nothing_is_booked(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    cases = _prepared(session_factory, "WEB-C1", "WEB-C2")
    lead = signed_in(L)
    plan_id = _run(lead)
    plan, version, _ = _plan(session_factory, plan_id)
    taken = plan.sessions[-1]
    with UnitOfWork(session_factory) as uow:
        intruder = prepare(uow, "WEB-X")
        workflow.book(
            uow,
            intruder,
            room=taken.room.replace("-", " "),
            starts_at=taken.start.astimezone(),
            actor=COORDINATOR,
            policy=POLICY,
            expected_version=None,
        )
        uow.commit()
    refused = lead.post(f"/schedule/plans/{plan_id}/accept", data={"version": str(version)})
    assert refused.status_code == 409
    assert "booked by someone else" in refused.text
    assert f"{taken.start:%H:%M}" in refused.text
    with UnitOfWork(session_factory) as uow:
        assert all(uow.bookings.active_booking(case_id) is None for case_id in cases)
    assert _plan(session_factory, plan_id)[2] == "proposed"


def test_invalid_planner_input_names_the_field(signed_in: Callable[[Role], TestClient]) -> None:
    lead = signed_in(L)
    response = lead.post("/schedule/plans", data={"start": next_monday().isoformat(), "weeks": "13", "time_limit": "2"})
    assert response.status_code == 422
    assert "weeks: must be between 1 and 12" in response.text
    response = lead.post(
        "/schedule/plans",
        data={"start": next_monday().isoformat(), "weeks": "1", "time_limit": "2", "w_overtime": "0.123"},
    )
    assert response.status_code == 422
    assert "two decimals" in response.text


def test_the_plan_grid_shows_the_bookings_it_does_not_place(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _prepared(session_factory, "WEB-E1", "WEB-E2")
    lead = signed_in(L)
    plan_id = _run(lead)
    # booked after the plan was proposed: the plan does not place it, yet it holds Room 2 on Tuesday
    tuesday = next_monday() + dt.timedelta(days=1)
    with UnitOfWork(session_factory) as uow:
        late = prepare(uow, "WEB-E3")
        start = dt.datetime.combine(tuesday, dt.time(15, 0)).astimezone()
        workflow.book(
            uow, late, room="Room 2", starts_at=start, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        uow.commit()
    page = lead.get(f"/schedule/plans/{plan_id}")
    assert page.status_code == 200
    calendar = page.text.split('class="plan-calendar"', 1)[1].split("</table>", 1)[0]
    assert "booked, not in this plan" in calendar
    assert "Patient WEB-E3" in calendar
    assert "15:00–" in calendar
    assert 'style="' not in page.text  # no inline style: the CSP refuses them
    with UnitOfWork(session_factory) as uow:
        patient_id = uow.session.get(Case, late).patient_id  # type: ignore[union-attr]
        reads = [e for e in uow.audit.entries(action="read") if e.patient_id == patient_id]
        assert any((e.detail or {}).get("purpose") == "schedule plan" for e in reads)  # the plan page showed it
