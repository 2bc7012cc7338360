"""Service figures of a plan: acute fractures treated while acute, waits, utilisation, overtime."""

from __future__ import annotations

from tests.unit.scheduling.builders import base, case, checked_fcfs, checked_plan, hours, instance
from vertebro.scheduling.metrics import plan_metrics


def test_acute_share_and_wait() -> None:
    data = base(
        days=2,
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}],
        cases=[case("chronic", age_days=200, referred_days_ago=90), case("acute", age_days=41, referred_days_ago=2)],
    )
    inst = instance(data)
    best, baseline = plan_metrics(inst, checked_plan(inst)), plan_metrics(inst, checked_fcfs(inst))
    assert best.acute_levels == baseline.acute_levels == 1
    assert best.acute_share == 1.0
    assert baseline.acute_share == 0.0
    assert best.mean_wait_days == (2 + 91) / 2
    assert best.room_utilisation == 2 * 90 / (5 * 90 * 0 + 2 * 90)
    assert best.bay_utilisation == 2 * 120 / (2 * 4 * 12 * 60)
    assert best.overtime_minutes == 0
