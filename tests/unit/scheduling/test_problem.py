"""The planners' view of an instance: durations from the clinical core, possible days, exclusion reasons."""

from __future__ import annotations

from tests.unit.scheduling.builders import at, base, case, day, hours, instance
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.procedure import room_minutes
from vertebro.clinical.recovery import monitoring_minutes
from vertebro.scheduling.plan import Reason
from vertebro.scheduling.problem import DAY, problem_of


def excluded(data: dict[str, object]) -> tuple[Reason, str] | None:
    return problem_of(instance(data)).sessions[0].excluded


def test_durations_come_from_the_clinical_core() -> None:
    problem = problem_of(instance(base(cases=[case("a", levels=("L1", "L2"), sedation=True)])))
    demand = problem.sessions[0]
    assert demand.minutes == room_minutes(2, DEFAULT_POLICY) == 150
    assert demand.monitoring == monitoring_minutes(2, True, DEFAULT_POLICY) == 210


def test_possible_days_skip_weekends_holidays_and_unavailable_days() -> None:
    data = base(days=7, holidays=[str(day(1))], cases=[case("a", unavailable=[str(day(2))])])
    assert problem_of(instance(data)).sessions[0].days == (0, 3, 4)


def test_now_removes_past_days() -> None:
    problem = problem_of(instance(base(now=at(2, "09:10"), cases=[case("a")])))
    assert problem.sessions[0].days == (2, 3, 4)
    assert problem.now == 2 * DAY + 9 * 60 + 30  # rounded up to the 30-minute grid


def test_hold_after_the_horizon() -> None:
    hold = {"date": str(day(9)), "kind": "hold", "reason": "clopidogrel: 5 drug-free days"}
    code, detail = excluded(base(cases=[case("a", not_before=[hold])])) or (None, "")
    assert code is Reason.HOLD_NOT_FINISHED
    assert "clopidogrel" in detail
    assert str(day(4)) in detail


def test_imaging_after_the_horizon_is_not_ready() -> None:
    mri = {"date": str(day(9)), "kind": "imaging", "reason": "MRI booked"}
    assert (excluded(base(cases=[case("a", not_before=[mri])])) or (None,))[0] is Reason.NOT_READY


def test_latest_before_ready() -> None:
    labs = {"date": str(day(3)), "kind": "labs", "reason": "INR"}
    code, detail = excluded(base(cases=[case("a", not_before=[labs], latest=str(day(1)))])) or (None, "")
    assert code is Reason.AFTER_LATEST_DATE
    assert str(day(1)) in detail


def test_no_room_of_the_right_kind() -> None:
    code, detail = excluded(base(cases=[case("a", room_kinds=["ct"])])) or (None, "")
    assert code is Reason.NO_COMPATIBLE_RESOURCE
    assert "ct" in detail


def test_patient_never_available() -> None:
    away = [str(day(d)) for d in range(5)]
    assert (excluded(base(cases=[case("a", unavailable=away)])) or (None,))[0] is Reason.PATIENT_UNAVAILABLE


def test_monitoring_never_fits() -> None:
    data = base(recovery={"bays": 1, "hours": hours("08:00", "10:00")}, cases=[case("a")])
    code, detail = excluded(data) or (None, "")
    assert code is Reason.NO_COMPATIBLE_RESOURCE
    assert "120 min of monitoring" in detail


def test_second_stage_beyond_the_horizon() -> None:
    problem = problem_of(instance(base(cases=[case("a", levels=("T10", "T11", "T12", "L1"))])))
    first, second = problem.sessions
    assert first.excluded is None
    assert second.excluded is not None
    assert second.excluded[0] is Reason.STAGE_GAP
    assert second.previous == 0


def test_cost_tables_count_from_the_ready_day() -> None:
    problem = problem_of(instance(base(cases=[case("a", age_days=40, inpatient=True)])))
    demand = problem.sessions[0]
    assert demand.quantities["waiting"] == (0, 1, 2, 3, 4, 5)
    assert demand.quantities["bed_days"] == (0, 1, 2, 3, 4, 5)
    assert demand.quantities["acute_missed"] == (0, 0, 1, 1, 1, 1)
    assert demand.quantities["unscheduled"] == (0, 0, 0, 0, 0, 1)
