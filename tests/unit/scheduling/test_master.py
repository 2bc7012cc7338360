"""The master (days and rooms) is a relaxation: every plan the checker accepts satisfies it, at no higher cost.

Its bound is reported as a proven lower bound on every plan, so no constraint of it (knapsack cuts per
room and person, overtime the radiologists force, free stretches between closures) may cut off a real plan.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.unit.scheduling.builders import at, base, case, hours, instance
from vertebro.scheduling.checker import violations
from vertebro.scheduling.cpsat import FOUND, MasterModel, _segments, new_solver
from vertebro.scheduling.fcfs import fcfs_placement
from vertebro.scheduling.generate import generated_instance
from vertebro.scheduling.instance import Instance
from vertebro.scheduling.occupancy import Slot
from vertebro.scheduling.placement import plan_of
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import DAY, Problem, Window, problem_of
from vertebro.scheduling.solver import SolveOptions, greedy_placement, placement_cost, solve


def _admitted_cost(problem: Problem, placement: dict[int, Slot]) -> float | None:
    """Return the master's objective with every day and room fixed to the plan's (None: the master refuses it)."""
    master = MasterModel(problem)
    master.hint(placement)
    solver = new_solver(20.0, 1, 0, master=True)
    solver.parameters.fix_variables_to_their_hinted_value = True
    status = solver.solve(master.model)
    return float(solver.objective_value) if status in FOUND else None


def _assert_admitted(inst: Instance, problem: Problem, placement: dict[int, Slot]) -> None:
    plan = plan_of(problem, placement, planner="cp-sat", status="feasible", seconds=0.0)
    assert violations(inst, plan) == []
    cost = _admitted_cost(problem, placement)
    assert cost is not None, "the master cuts off a plan the checker accepts"
    assert cost <= placement_cost(problem, placement) + 1e-6
    bound, _ = MasterModel(problem).lp_relaxation(20.0)
    assert bound is None or bound <= placement_cost(problem, placement)


def _placement(problem: Problem, plan: Plan) -> dict[int, Slot]:
    """Return a plan's sessions as a placement of the problem (session index -> slot)."""
    index = {(d.case, d.index): i for i, d in enumerate(problem.sessions)}
    origin = dt.datetime.combine(problem.start, dt.time(0, 0))
    placement = {}
    for s in plan.sessions:
        minute = int((s.start - origin).total_seconds() // 60)
        placement[index[s.case, s.session]] = Slot(minute // DAY, minute, s.room, s.radiologist, s.nurse)
    return placement


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.generate]
)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    rooms=st.integers(min_value=1, max_value=3),
    tight=st.booleans(),
)
def test_every_checked_plan_satisfies_the_master(seed: int, rooms: int, tight: bool) -> None:
    inst = generated_instance(40, weeks=2, rooms=rooms, seed=seed, tight=tight)
    problem = problem_of(inst)
    solved = _placement(problem, solve(problem, SolveOptions(time_limit=3.0, workers=2)))
    for placement in (fcfs_placement(problem), greedy_placement(problem), solved):
        _assert_admitted(inst, problem, placement)


def test_two_radiologists_for_three_rooms_force_overtime() -> None:
    """Rooms close at 17:00 (overtime to 18:00), two radiologists work 09:00-18:00: twelve 90-minute sessions
    take 1,080 minutes, of which they can do only 2 x 480 before 17:00, so every plan has 120 minutes of overtime
    and the master's bound must count them, without asking for a minute more."""
    rooms = [
        {"id": f"room-{k}", "kind": "fluoroscopy", "hours": hours(), "max_overtime_minutes": 60} for k in (1, 2, 3)
    ]
    radiologists = [
        {"id": f"ir-{k}", "rooms": ["room-1", "room-2", "room-3"], "hours": hours("09:00", "18:00")} for k in (1, 2)
    ]
    data = base(days=1, rooms=rooms, radiologists=radiologists, cases=[case(f"c{k:02d}") for k in range(12)])
    inst = instance(data)
    problem = problem_of(inst)
    plan = solve(problem, SolveOptions(time_limit=10.0, workers=2))
    overtime = next(t for t in plan.objective.terms if t.name == "overtime")
    assert (len(plan.sessions), overtime.quantity) == (12, 120)
    assert plan.status == "optimal"
    _assert_admitted(inst, problem, _placement(problem, plan))
    bound, _ = MasterModel(problem).lp_relaxation(10.0)
    assert bound is not None
    assert bound >= 60 * 100  # 120 minutes at 0.5 points, in hundredths


def test_a_stretch_after_closing_time_holds_no_session() -> None:
    """A room closed 13:00-17:00 (closing 17:00, overtime to 18:00) is free 08:00-13:00 only: 17:00-18:00 is overtime."""
    window = Window(8 * 60, 17 * 60, 18 * 60)
    assert _segments(window, ((13 * 60, 17 * 60),)) == [5 * 60]
    assert _segments(window, ((10 * 60, 11 * 60),)) == [2 * 60, 7 * 60]
    assert _segments(window, (), 12 * 60) == [4 * 60]
    assert _segments(None, ()) == []


def test_a_closed_afternoon_is_respected_by_the_bound() -> None:
    """Four 90-minute sessions for a morning of 300 minutes: only three fit, the master knows it."""
    closed = [{"start": at(0, "13:00"), "end": at(0, "17:00"), "reason": "maintenance"}]
    room = {"id": "room-1", "kind": "fluoroscopy", "hours": hours(), "max_overtime_minutes": 60, "closed": closed}
    data = base(days=1, rooms=[room], cases=[case(f"c{k}", levels=("L1",)) for k in range(4)])
    inst = instance(data)
    problem = problem_of(inst)
    plan = solve(problem, SolveOptions(time_limit=10.0, workers=2))
    assert violations(inst, plan) == []
    assert len(plan.sessions) == 3
    assert plan.status == "optimal"
    for placement in (fcfs_placement(problem), _placement(problem, plan)):
        _assert_admitted(inst, problem, placement)
