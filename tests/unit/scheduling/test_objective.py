"""The objective: its terms, its weights, and what it prefers over first come, first served."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.scheduling.builders import START, base, case, checked_fcfs, checked_plan, day, hours, instance, only
from vertebro.scheduling.objective import ACUTE_DAYS, UNHEALED_DAYS, session_quantities


def test_acute_fracture_first_unlike_first_come_first_served() -> None:
    """One slot a day: the acute fracture referred yesterday goes before the chronic one referred months ago."""
    data = base(
        days=2,
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}],
        cases=[case("chronic", age_days=200, referred_days_ago=90), case("acute", age_days=41, referred_days_ago=1)],
    )
    assert only(checked_plan(data), "acute").date == day(0)
    assert only(checked_fcfs(data), "chronic").date == day(0)


def test_inpatient_before_outpatient() -> None:
    """Bed days: with one slot, the inpatient (an occupied bed) goes first, other things equal."""
    data = base(
        days=2,
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}],
        cases=[case("out", age_days=200, referred_days_ago=30), case("in", age_days=200, inpatient=True)],
    )
    assert only(checked_plan(data), "in").date == day(0)


def test_terms_add_up_to_the_total() -> None:
    data = base(cases=[case(f"c{i}", age_days=10 * i + 5, inpatient=i % 2 == 0) for i in range(6)])
    plan = checked_plan(data)
    assert abs(sum(t.points for t in plan.objective.terms) - plan.objective.total) < 1e-9
    assert all(abs(t.points - t.weight * t.quantity) < 1e-9 for t in plan.objective.terms)


def test_weights_change_the_plan() -> None:
    """A service lead who prices overtime at zero gets the third urgent patient in on day 0."""
    urgent = [case(f"c{i}", age_days=41) for i in range(3)]
    room = {"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "12:00"), "max_overtime_minutes": 60}
    costly = checked_plan(base(rooms=[room], cases=urgent, weights={"overtime": 100}))
    free = checked_plan(base(rooms=[room], cases=urgent, weights={"overtime": 0}))
    assert sum(s.date == day(0) for s in costly.sessions) == 2
    assert sum(s.date == day(0) for s in free.sessions) == 3


@settings(max_examples=60, deadline=None)
@given(age=st.integers(0, 400), delay=st.integers(0, 60))
def test_fracture_quantities(age: int, delay: int) -> None:
    """Acute missed: acute when ready, 6 weeks or more at treatment; fracture age counts only under 13 weeks."""
    inst = instance(base(days=90, cases=[case("a", age_days=age)]))
    c = inst.case("a")
    q = session_quantities(inst, c, 0, ("L1",), START + dt.timedelta(days=delay))
    assert q["acute_missed"] == int(age < ACUTE_DAYS <= age + delay)
    assert q["fracture_age"] == max(0, min(age + delay, UNHEALED_DAYS) - min(age, UNHEALED_DAYS))
    assert q["waiting"] == delay
    assert q["unscheduled"] == 0
