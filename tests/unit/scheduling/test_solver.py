"""The CP-SAT planner's contract: a plan with its bound and gap, or a clear explanation, never a crash."""

from __future__ import annotations

from tests.unit.scheduling.builders import at, base, case, checked_plan, day, hours, instance
from vertebro.scheduling.plan import Reason
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.solver import Progress, SolveOptions, solve

ONE_SLOT_A_DAY = [{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}]


def test_bound_and_gap_are_reported() -> None:
    plan = checked_plan(base(cases=[case(f"c{i}", age_days=20 + i) for i in range(4)]))
    assert plan.status == "optimal"
    assert plan.bound == plan.objective.total
    assert plan.gap == 0.0


def test_progress_is_reported() -> None:
    seen: list[Progress] = []
    solve(problem_of(instance(base(cases=[case("a")]))), SolveOptions(time_limit=5), seen.append)
    assert seen
    assert seen[-1].objective is not None


def test_two_mandatory_cases_for_one_slot_are_explained() -> None:
    data = base(days=1, rooms=ONE_SLOT_A_DAY, cases=[case("a", mandatory=True), case("b", mandatory=True)])
    plan = checked_plan(data)
    assert plan.status == "infeasible"
    assert not plan.sessions
    text = "\n".join(plan.problems)
    assert "case a is mandatory" in text
    assert "case b is mandatory" in text
    assert {u.reason for u in plan.unscheduled} == {Reason.NO_PLAN}


def test_mandatory_case_that_cannot_be_ready_is_explained() -> None:
    hold = {"date": str(day(9)), "kind": "hold", "reason": "prasugrel: 7 drug-free days"}
    plan = checked_plan(base(cases=[case("a", mandatory=True, not_before=[hold])]))
    assert plan.status == "infeasible"
    assert "case a is mandatory but cannot be scheduled" in plan.problems[0]
    assert "prasugrel" in plan.problems[0]


def test_fixed_booking_in_a_closed_room_is_explained() -> None:
    closed = [{"start": at(0, "00:00"), "end": at(1, "00:00"), "reason": "flood"}]
    booked = [{"session": 0, "start": at(0, "08:00"), "room": "room-1", "radiologist": "ir-1"}]
    data = base(
        now=at(0, "10:00"),
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours(), "closed": closed}],
        cases=[case("a", booked=booked)],
    )
    plan = checked_plan(data)
    assert plan.status == "infeasible"
    assert any("case a session 0 started before the planning moment" in p for p in plan.problems)


def test_unscheduled_sessions_say_which_resource_was_full() -> None:
    """No capacity: the reason names the bottleneck (here the single recovery bay) and the days tried."""
    data = base(
        days=1,
        rooms=[
            {"id": "room-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "room-2", "kind": "fluoroscopy", "hours": hours()},
        ],
        radiologists=[
            {"id": "ir-1", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
            {"id": "ir-2", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
        ],
        recovery={"bays": 1, "hours": hours("08:00", "13:00")},
        cases=[case(f"c{i}", age_days=30) for i in range(4)],
    )
    plan = checked_plan(data)
    left = [u for u in plan.unscheduled if u.reason is Reason.NO_CAPACITY]
    assert left
    assert all("recovery bays full on 1 day" in u.detail for u in left)


def test_no_cases_is_an_empty_optimal_plan() -> None:
    plan = checked_plan(base())
    assert plan.status == "optimal"
    assert plan.objective.total == 0
    assert not plan.sessions
