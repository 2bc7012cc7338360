"""The first-come-first-served baseline: referral order, first free slot, regular hours, bookings kept."""

from __future__ import annotations

from tests.unit.scheduling.builders import at, base, case, checked_fcfs, day, hours, only


def test_referral_order_and_first_free_slot() -> None:
    data = base(
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30"), "max_overtime_minutes": 60}],
        cases=[case("later", referred_days_ago=1, age_days=41), case("first", referred_days_ago=30, age_days=200)],
    )
    plan = checked_fcfs(data)
    assert only(plan, "first").date == day(0)
    assert only(plan, "later").date == day(1)
    assert plan.objective.points("overtime") == 0


def test_existing_bookings_are_kept() -> None:
    booked = [{"session": 0, "start": at(3, "08:00"), "room": "room-1", "radiologist": "ir-1"}]
    plan = checked_fcfs(base(cases=[case("b", booked=booked), case("new")]))
    assert only(plan, "b").date == day(3)
    assert only(plan, "new").date == day(0)
