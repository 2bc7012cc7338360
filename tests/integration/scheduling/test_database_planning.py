"""Planning on the database (SQLite and PostgreSQL): the instance from stored cases and the calendar,
the checked proposal, editing it, and accepting it in one transaction that never double-books."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.scheduling.conftest import COORDINATOR, LEAD, POLICY, ROOMS, next_monday
from vertebro.errors import Conflict, InvalidInput
from vertebro.scheduling.checker import violations
from vertebro.scheduling.instance import parse_instance
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.service import (
    PlanningSetup,
    accept_plan,
    database_instance,
    move_session,
    proposal,
    save_proposal,
)
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, CaseWorkflow, SchedulePlan, SlotReservation

SETUP = PlanningSetup(rooms=ROOMS, recovery_bays=2)


def _plan_id(session_factory: sessionmaker[Session], weeks: int = 2) -> int:
    with UnitOfWork(session_factory) as uow:
        source = database_instance(uow, start=next_monday(), weeks=weeks, setup=SETUP, policy=POLICY, actor=LEAD)
        made = proposal(source, time_limit=2.0)
        row = save_proposal(uow, made, time_limit=2.0, actor=LEAD)
        uow.commit()
        return row.id


def test_the_instance_comes_from_the_stored_cases_and_the_calendar(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    plain = clinic("PLAN-1")
    sedated = clinic(
        "PLAN-2",
        sedation_planned=True,
        patient={"hospitalized": True},
        medications=[{"name": "naproxen", "purpose": "pain"}],
    )
    booked = clinic("PLAN-3")
    monday = next_monday()
    tuesday_nine = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(9, 0)).astimezone()
    with UnitOfWork(session_factory) as uow:
        workflow.book(
            uow, booked, room="Room 2", starts_at=tuesday_nine, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        source = database_instance(uow, start=monday, weeks=2, setup=SETUP, policy=POLICY, actor=LEAD)
        reads = uow.audit.entries(action="read")
        uow.commit()
    instance = source.instance
    assert set(source.cases.values()) == {plain, sedated, booked}
    assert source.rooms == {"Room-1": "Room 1", "Room-2": "Room 2"}
    two = instance.case(f"case-{sedated}")
    assert two.sedation
    assert two.inpatient
    assert [lv.level for lv in two.levels] == ["L1"]
    referred = two.referred
    assert two.levels[0].onset == referred - dt.timedelta(days=28)  # onset_weeks 4 at referral
    naproxen = next(nb for nb in two.not_before if nb.kind == "hold")
    # 4 whole days without it, the last dose on a day after today (booking.feasible_start), then the day
    assert naproxen.date == dt.date.today() + dt.timedelta(days=4 + 2)
    assert "naproxen" in naproxen.reason
    three = instance.case(f"case-{booked}")
    assert [(b.session, b.start, b.room) for b in three.booked] == [(0, tuesday_nine.replace(tzinfo=None), "Room-2")]
    # its own slots are free for it in the instance; weekends and the hours outside 08-17 are simply closed
    assert not any(c.start.date() == tuesday_nine.date() for c in instance.rooms[1].closed)
    assert instance.granularity_minutes == 30
    assert instance.days == 14
    audited = {e.patient_id for e in reads if (e.detail or {}).get("purpose") == "schedule plan"}
    assert len(audited) == 3


def test_a_slot_held_by_a_booking_outside_the_plan_is_closed(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    later = clinic("PLAN-4")
    monday = next_monday()
    third_week = dt.datetime.combine(monday + dt.timedelta(days=15), dt.time(8, 0)).astimezone()
    with UnitOfWork(session_factory) as uow:
        workflow.book(
            uow, later, room="Room 1", starts_at=third_week, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        # a 3-week plan holds the booking; a 2-week plan does not, and closes nothing of it (outside its days)
        three = database_instance(uow, start=monday, weeks=3, setup=SETUP, policy=POLICY, actor=LEAD)
        assert f"case-{later}" in three.cases
        two = database_instance(uow, start=monday, weeks=2, setup=SETUP, policy=POLICY, actor=LEAD)
        assert f"case-{later}" not in two.cases
        shifted = database_instance(
            uow, start=monday + dt.timedelta(days=14), weeks=1, setup=SETUP, policy=POLICY, actor=LEAD
        )
    # the same plan from the third week keeps the booking as the current plan: the slot is its own
    assert f"case-{later}" in shifted.cases
    closed = [c for c in three.instance.rooms[0].closed if c.start.date() == third_week.date()]
    assert closed == []


def test_the_plan_is_checked_saved_and_beats_or_equals_first_come(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    for i in range(5):
        clinic(f"PLAN-S{i}", sedation_planned=i % 2 == 0)
    plan_id = _plan_id(session_factory)
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(SchedulePlan, plan_id)
        assert row is not None
        assert row.status == "proposed"
        instance = parse_instance(json.dumps(row.instance))
        plan = Plan.model_validate(row.plan)
        baseline = Plan.model_validate(row.baseline)
        proposed = uow.audit.entries(action="propose_schedule")
    assert violations(instance, plan) == []
    assert violations(instance, baseline) == []
    assert len(plan.sessions) == 5
    assert plan.unscheduled == []
    assert plan.objective.total <= baseline.objective.total + 1e-9
    assert len({e.patient_id for e in proposed}) == 5


def test_accepting_books_every_first_session_in_one_transaction(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    cases = [clinic(f"PLAN-A{i}") for i in range(3)]
    plan_id = _plan_id(session_factory)
    with UnitOfWork(session_factory) as uow:
        made = accept_plan(uow, plan_id, actor=LEAD, policy=POLICY, expected_version=None)
        uow.commit()
    assert len(made) == 3
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(SchedulePlan, plan_id)
        assert row is not None
        assert row.status == "accepted"
        assert row.decided_by == LEAD.username
        plan = Plan.model_validate(row.plan)
        for case_id in cases:
            state = uow.session.scalar(select(CaseWorkflow.state).where(CaseWorkflow.case_id == case_id))
            assert state == "scheduled"
            booking = uow.bookings.active_booking(case_id)
            assert booking is not None
            planned = next(s for s in plan.sessions if s.case == f"case-{case_id}")
            assert booking.starts_at == planned.start.astimezone()
        with pytest.raises(Conflict, match="accepted"):
            accept_plan(uow, plan_id, actor=LEAD, policy=POLICY, expected_version=None)


def test_a_slot_taken_meanwhile_fails_the_whole_acceptance_and_nothing_is_written(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    planned_cases = [clinic(f"PLAN-C{i}") for i in range(3)]
    plan_id = _plan_id(session_factory)
    with UnitOfWork(session_factory) as uow:
        plan = Plan.model_validate(uow.session.get(SchedulePlan, plan_id).plan)  # type: ignore[union-attr]
    last = max(plan.sessions, key=lambda s: s.start)  # the others are booked first, then this one clashes
    intruder = clinic("PLAN-X")
    with UnitOfWork(session_factory) as uow:
        workflow.book(
            uow,
            intruder,
            room=ROOMS[int(last.room[-1]) - 1],
            starts_at=last.start.astimezone(),
            actor=COORDINATOR,
            policy=POLICY,
            expected_version=None,
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        before = uow.session.scalar(select(func.count()).select_from(SlotReservation))
    with UnitOfWork(session_factory) as uow, pytest.raises(Conflict) as refused:
        accept_plan(uow, plan_id, actor=LEAD, policy=POLICY, expected_version=None)
    assert "booked by someone else" in refused.value.message
    assert "Nothing was booked" in refused.value.message
    assert f"{last.start:%H:%M}" in refused.value.message
    with UnitOfWork(session_factory) as uow:
        assert uow.session.scalar(select(func.count()).select_from(SlotReservation)) == before
        for case_id in planned_cases:
            assert uow.bookings.active_booking(case_id) is None
            state = uow.session.scalar(select(CaseWorkflow.state).where(CaseWorkflow.case_id == case_id))
            assert state == "prepared"
        assert uow.session.scalar(select(func.count()).select_from(Booking)) == 1
        assert uow.session.get(SchedulePlan, plan_id).status == "proposed"  # type: ignore[union-attr]


def test_moving_a_session_to_a_free_slot_and_not_onto_a_taken_one(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    clinic("PLAN-M1")
    clinic("PLAN-M2")
    plan_id = _plan_id(session_factory)
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(SchedulePlan, plan_id)
        assert row is not None
        plan = Plan.model_validate(row.plan)
        version = row.version
    first, second = sorted(plan.sessions, key=lambda s: s.start)
    key = f"{first.case}/{first.session}"
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match="not free"):
        move_session(
            uow,
            plan_id,
            session_key=key,
            starts_at=second.start,
            room=ROOMS[int(second.room[-1]) - 1],
            actor=LEAD,
            expected_version=version,
        )
    target = dt.datetime.combine(next_monday() + dt.timedelta(days=3), dt.time(13, 0))
    with UnitOfWork(session_factory) as uow:
        move_session(
            uow, plan_id, session_key=key, starts_at=target, room="Room 2", actor=LEAD, expected_version=version
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        row = uow.session.get(SchedulePlan, plan_id)
        assert row is not None
        assert row.edits == 1
        edited = Plan.model_validate(row.plan)
        moved = next(s for s in edited.sessions if f"{s.case}/{s.session}" == key)
        assert (moved.start, moved.room) == (target, "Room-2")
        assert violations(parse_instance(json.dumps(row.instance)), edited) == []
        assert edited.objective.total >= plan.objective.total  # the solver's plan was at least as good
        assert uow.audit.entries(action="edit_schedule_plan")
    with UnitOfWork(session_factory) as uow, pytest.raises(Conflict, match="changed meanwhile"):
        move_session(
            uow, plan_id, session_key=key, starts_at=target, room="Room 1", actor=LEAD, expected_version=version
        )


def test_an_unconfigured_clinic_is_refused_with_the_field(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        with pytest.raises(InvalidInput, match="weeks"):
            database_instance(uow, start=next_monday(), weeks=13, setup=SETUP, policy=POLICY, actor=LEAD)
        with pytest.raises(InvalidInput, match="rooms"):
            database_instance(
                uow, start=next_monday(), weeks=1, setup=PlanningSetup(rooms=()), policy=POLICY, actor=LEAD
            )
