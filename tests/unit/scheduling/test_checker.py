"""The independent checker: it accepts every plan the planners return and catches every broken rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.scheduling.builders import at, base, case, checked_fcfs, checked_plan, day, hours, instance
from vertebro.scheduling.checker import violations
from vertebro.scheduling.plan import Plan, PlannedSession

TWO_ROOMS = {
    "rooms": [
        {"id": "room-1", "kind": "fluoroscopy", "hours": hours()},
        {"id": "ct-1", "kind": "ct", "hours": hours("08:00", "13:00")},
    ],
    "radiologists": [
        {"id": "ir-1", "rooms": ["room-1", "ct-1"], "hours": hours("08:00", "18:00")},
        {"id": "ir-2", "rooms": ["room-1"], "hours": hours("08:00", "18:00")},
    ],
}


def _valid() -> tuple[Any, Plan]:
    data = base(**TWO_ROOMS, cases=[case(f"c{i}", age_days=30 + i, sedation=i % 2 == 0) for i in range(5)])
    inst = instance(data)
    return inst, checked_plan(inst)


def _changed(plan: Plan, index: int, **changes: Any) -> Plan:
    sessions = list(plan.sessions)
    sessions[index] = sessions[index].model_copy(update=changes)
    return plan.model_copy(update={"sessions": sessions})


def _names(inst: Any, plan: Plan) -> set[str]:
    return {v.constraint for v in violations(inst, plan)}


def test_catches_overlaps_in_rooms_and_staff() -> None:
    inst, plan = _valid()
    first, second = plan.sessions[0], plan.sessions[1]
    moved = _changed(plan, 1, **_same_time(second, first), room=first.room, radiologist=first.radiologist)
    assert {"room_overlap", "radiologist_overlap"} <= _names(inst, moved)


def test_catches_wrong_durations_and_monitoring() -> None:
    inst, plan = _valid()
    s = plan.sessions[0]
    assert "duration" in _names(inst, _changed(plan, 0, end=s.end + dt.timedelta(minutes=30)))
    assert "monitoring" in _names(inst, _changed(plan, 0, monitoring_start=s.end + dt.timedelta(minutes=30)))


def test_catches_bay_overflow() -> None:
    inst, plan = _valid()
    crowded = plan.model_copy(update={"sessions": [s.model_copy(update={"bay": 9}) for s in plan.sessions]})
    assert "recovery_bays" in _names(inst, crowded)


def test_catches_staff_and_room_rules() -> None:
    inst, plan = _valid()
    s = plan.sessions[0]
    assert "radiologist_room" in _names(inst, _changed(plan, 0, room="ct-1", radiologist="ir-2"))
    wrong_nurse = None if s.nurse else "sn-1"
    assert "sedation_nurse" in _names(inst, _changed(plan, 0, nurse=wrong_nurse))
    evening = {k: v + dt.timedelta(hours=9) for k, v in _same_time(s, s).items()}
    assert "room_hours" in _names(inst, _changed(plan, 0, **evening))


def test_catches_accounting_and_objective_errors() -> None:
    inst, plan = _valid()
    assert "accounted" in _names(inst, plan.model_copy(update={"sessions": plan.sessions[1:]}))
    cheaper = plan.objective.model_copy(update={"total": plan.objective.total - 1})
    assert "objective" in _names(inst, plan.model_copy(update={"objective": cheaper}))


def test_catches_moved_frozen_sessions_and_dates_before_ready() -> None:
    booked = [{"session": 0, "start": at(0, "08:00"), "room": "room-1", "radiologist": "ir-1"}]
    hold = {"date": str(day(2)), "kind": "hold", "reason": "warfarin"}
    inst = instance(base(now=at(0, "09:00"), cases=[case("b", booked=booked), case("h", not_before=[hold])]))
    plan = checked_plan(inst)
    index = next(i for i, s in enumerate(plan.sessions) if s.case == "b")
    assert "frozen" in _names(inst, _changed(plan, index, **_shifted(plan.sessions[index], days=1)))
    held = next(i for i, s in enumerate(plan.sessions) if s.case == "h")
    assert "ready" in _names(inst, _changed(plan, held, **_shifted(plan.sessions[held], days=-2)))


def _same_time(s: PlannedSession, like: PlannedSession) -> dict[str, Any]:
    shift = like.start - s.start
    return _shift(s, shift)


def _shifted(s: PlannedSession, days: int) -> dict[str, Any]:
    return _shift(s, dt.timedelta(days=days))


def _shift(s: PlannedSession, by: dt.timedelta) -> dict[str, Any]:
    return {
        "date": (s.start + by).date(),
        "start": s.start + by,
        "end": s.end + by,
        "monitoring_start": s.monitoring_start + by,
        "monitoring_end": s.monitoring_end + by,
    }


@st.composite
def tiny_instances(draw: st.DrawFn) -> dict[str, Any]:
    """Random small instances: 1-2 rooms, 1-3 bays, up to 7 cases with holds, latest dates, stages, CT needs."""
    rooms = [
        {
            "id": "room-1",
            "kind": "fluoroscopy",
            "hours": hours("08:00", draw(st.sampled_from(["12:00", "17:00"]))),
            "max_overtime_minutes": draw(st.sampled_from([0, 60])),
        }
    ]
    if draw(st.booleans()):
        rooms.append({"id": "ct-1", "kind": "ct", "hours": hours("08:00", "13:00", ("mon", "wed", "fri"))})
    radiologists = [{"id": "ir-1", "rooms": [r["id"] for r in rooms], "hours": hours("08:00", "18:00")}]
    if draw(st.booleans()):
        radiologists.append({"id": "ir-2", "rooms": ["room-1"], "hours": hours("08:00", "18:00", ("mon", "tue"))})
    cases = []
    for i in range(draw(st.integers(1, 7))):
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["not_before"] = [{"date": str(day(draw(st.integers(0, 12)))), "kind": "hold", "reason": "hold"}]
        if draw(st.integers(0, 4)) == 0:
            extra["latest"] = str(day(draw(st.integers(0, 9))))
        if len(rooms) > 1 and draw(st.integers(0, 3)) == 0:
            extra["room_kinds"] = ["ct"]
        if draw(st.integers(0, 4)) == 0:
            extra["mandatory"] = True
        levels = ("T10", "T11", "T12", "L1", "L2")[: draw(st.integers(1, 5))]
        cases.append(
            case(
                f"c{i}",
                levels=levels,
                age_days=draw(st.integers(1, 200)),
                sedation=draw(st.booleans()),
                inpatient=draw(st.booleans()),
                **extra,
            )
        )
    return base(
        days=10,
        rooms=rooms,
        radiologists=radiologists,
        recovery={"bays": draw(st.integers(1, 3)), "hours": hours("08:00", draw(st.sampled_from(["15:00", "20:00"])))},
        policy={"min_days_between_stages": draw(st.integers(1, 5))},
        cases=cases,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_every_plan_passes_the_checker(data: dict[str, Any]) -> None:
    """Property: whatever the instance, both planners' plans respect every hard constraint (or say why not)."""
    inst = instance(data)
    checked_fcfs(inst)
    plan = checked_plan(inst, time_limit=3.0)
    if plan.status == "infeasible":
        assert plan.problems
        assert not plan.sessions
    else:
        assert plan.bound is not None
        assert plan.bound <= plan.objective.total + 1e-9
        assert len(plan.sessions) + len(plan.unscheduled) == sum(1 + (len(c["levels"]) - 1) // 3 for c in data["cases"])
