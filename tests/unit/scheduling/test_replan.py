"""Re-planning from the current plan after a cancellation, a no-show or an urgent inpatient."""

from __future__ import annotations

import datetime as dt

from tests.unit.scheduling.builders import at, base, case, hours, instance, only, sessions_of
from vertebro.scheduling.checker import violations
from vertebro.scheduling.instance import CaseToSchedule
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.replan import Cancellation, NoShow, UrgentCase, replan
from vertebro.scheduling.solver import SolveOptions, solve

OPTIONS = SolveOptions(time_limit=10)
THREE_SLOTS = [{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "12:30")}]


def _start(cases: int = 9) -> tuple[object, Plan]:
    inst = instance(base(rooms=THREE_SLOTS, cases=[case(f"c{i}", age_days=60 + i) for i in range(cases)]))
    plan = solve(problem_of(inst), OPTIONS)
    assert violations(inst, plan) == []
    return inst, plan


def test_cancellation_keeps_every_other_booking() -> None:
    inst, plan = _start()
    changed, new = replan(inst, plan, Cancellation("c4"), dt.datetime.fromisoformat(at(0, "07:00")), OPTIONS)  # type: ignore[arg-type]
    assert violations(changed, new) == []
    assert not sessions_of(new, "c4")
    assert new.objective.points("moved") + new.objective.points("moved_within_48h") == 0
    before = {(s.case, s.start) for s in plan.sessions if s.case != "c4"}
    assert before == {(s.case, s.start) for s in new.sessions}


def test_no_show_is_rebooked_from_the_next_day() -> None:
    inst, plan = _start()
    missed = min(plan.sessions, key=lambda s: s.start)
    when = missed.start + dt.timedelta(hours=1)
    changed, new = replan(inst, plan, NoShow(missed.case), when, OPTIONS)  # type: ignore[arg-type]
    assert violations(changed, new) == []
    rebooked = sessions_of(new, missed.case)
    assert all(s.date > missed.date for s in rebooked)
    started = [s for s in plan.sessions if s.start < when and s.case != missed.case]
    assert all(s in new.sessions for s in started)


def test_urgent_inpatient_gets_in_and_moves_someone_at_a_cost() -> None:
    """Every slot of the week is booked: the mandatory urgent inpatient displaces someone, at a cost."""
    inst, plan = _start(cases=15)
    assert len(plan.sessions) == 15
    urgent = CaseToSchedule.model_validate_json(
        instance(base(cases=[case("urgent", age_days=41, inpatient=True, mandatory=True)])).cases[0].model_dump_json()
    )
    now = dt.datetime.fromisoformat(at(0, "07:00"))
    changed, new = replan(inst, plan, UrgentCase(urgent), now, OPTIONS)  # type: ignore[arg-type]
    assert violations(changed, new) == []
    assert only(new, "urgent")
    assert new.objective.points("moved") + new.objective.points("moved_within_48h") > 0
