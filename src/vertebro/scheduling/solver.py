"""Solving: CP-SAT by logic-based Benders decomposition, or the detailed model in one piece.

The decomposition (the default) alternates two CP-SAT models from :mod:`vertebro.scheduling.cpsat`:

1. the *master* assigns sessions to days under aggregated per-day capacities; its bound is a lower
   bound on every plan;
2. each day's sessions go to the *detailed* model of that day alone (rooms, times, radiologists,
   sedation nurses, recovery bays, overtime). A day whose sessions provably do not fit yields a cut:
   that combination of session shapes is excluded on every day with the same calendar signature; the
   day is then packed as well as it goes, and sessions left over are offered to other days.

The best complete plan is kept; the search starts from the first-come-first-served plan, so a plan
exists from the first second. ``monolithic`` solves the detailed model over all days at once instead
(fine for small instances, and a cross-check of the decomposition in the tests).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vertebro.scheduling.cpsat import (
    FOUND,
    INFEASIBLE,
    OPTIMAL,
    MasterModel,
    Shape,
    day_problem,
    day_signature,
    detailed_model,
    infeasible_core,
    new_solver,
    shape_of,
)
from vertebro.scheduling.fcfs import fcfs_placement
from vertebro.scheduling.objective import SCALE
from vertebro.scheduling.occupancy import Occupancy, Slot
from vertebro.scheduling.placement import objective_from, overtime_of, plan_of, quantities_of
from vertebro.scheduling.plan import Plan, Reason
from vertebro.scheduling.problem import Problem

Method = Literal["decomposition", "monolithic"]


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """How long and how hard to search, and where to start from."""

    time_limit: float = 30.0
    workers: int = 2
    seed: int = 0
    method: Method = "decomposition"
    hint: Mapping[int, Slot] | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """The search so far: seconds, best plan's objective and the bound (points), plans found."""

    seconds: float
    objective: float | None
    bound: float | None
    solutions: int


ProgressCallback = Callable[[Progress], None]


class _Tracker:
    """Keeps the best plan and the best bound, and reports both."""

    def __init__(self, problem: Problem, options: SolveOptions, callback: ProgressCallback | None) -> None:
        self.problem = problem
        self.options = options
        self.callback = callback
        self.started = time.perf_counter()
        self.best: dict[int, Slot] = {}
        self.cost: int | None = None
        self.bound: int | None = None
        self.solutions = 0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def remaining(self) -> float:
        return self.options.time_limit - self.elapsed

    def offer(self, placement: Mapping[int, Slot]) -> None:
        cost = placement_cost(self.problem, placement)
        if self.cost is None or cost < self.cost:
            self.best, self.cost = dict(placement), cost
            self.solutions += 1
            self.report()

    def raise_bound(self, bound: float) -> None:
        value = int(round(bound))
        if self.bound is None or value > self.bound:
            self.bound = value
            self.report()

    def report(self) -> None:
        if self.callback is not None:
            objective = None if self.cost is None else self.cost / SCALE
            bound = None if self.bound is None else self.bound / SCALE
            self.callback(Progress(self.elapsed, objective, bound, self.solutions))


def placement_cost(problem: Problem, placement: Mapping[int, Slot]) -> int:
    """Return a placement's objective in hundredths of a point."""
    return round(objective_from(problem, quantities_of(problem, placement)).total * SCALE)


def _consistent(problem: Problem, placement: dict[int, Slot]) -> dict[int, Slot]:
    """Drop later stages whose earlier stage is not placed (or no longer a staging gap before)."""
    for index, demand in enumerate(problem.sessions):
        if index not in placement or demand.previous is None:
            continue
        previous = placement.get(demand.previous)
        if previous is None or placement[index].day < previous.day + demand.gap_days:
            del placement[index]
    return placement


def _day_cost(problem: Problem, index: int, day: int | None) -> int:
    demand = problem.sessions[index]
    coef = problem.coefficients
    return sum(coef[t] * demand.quantity(t, day, problem.days) for t in demand.quantities)


def fill_leftovers(problem: Problem, placement: dict[int, Slot]) -> dict[int, Slot]:
    """Offer every plannable session left out to its cheapest day with a free slot (a greedy repair)."""
    occupancy = Occupancy(problem)
    for index, slot in placement.items():
        occupancy.add(problem.sessions[index], slot)
    left = [i for i, d in enumerate(problem.sessions) if i not in placement and d.excluded is None and d.days]
    left.sort(key=lambda i: _day_cost(problem, i, min(problem.sessions[i].days)) - _day_cost(problem, i, None))
    for index in sorted(left, key=lambda i: problem.sessions[i].index):
        demand = problem.sessions[index]
        previous = None if demand.previous is None else placement.get(demand.previous)
        if demand.previous is not None and previous is None:
            continue
        first = 0 if previous is None else previous.day + demand.gap_days
        absent = _day_cost(problem, index, None)
        for day in sorted((d for d in demand.days if d >= first), key=lambda d: _day_cost(problem, index, d)):
            if _day_cost(problem, index, day) >= absent:
                break
            found = occupancy.fit(demand, day, overtime=True)
            if isinstance(found, Slot):
                extra = problem.coefficients.get("overtime", 0) * overtime_of(problem, index, found)
                if _day_cost(problem, index, day) + extra < absent:
                    occupancy.add(demand, found)
                    placement[index] = found
                    break
    return placement


def _fits(problem: Problem, day: int, indices: list[int], options: SolveOptions, limit: float) -> Any:
    """Solve one day with every given session required; return (status, placement)."""
    restricted = day_problem(problem, day, indices, all_mandatory=True)
    builder = detailed_model(restricted)
    solver = new_solver(limit, options.workers, options.seed)
    status = solver.solve(builder.model)
    return status, (builder.placement(solver) if status in FOUND else {})


def _pack(problem: Problem, day: int, indices: list[int], options: SolveOptions, limit: float) -> dict[int, Slot]:
    """Solve one day placing as much value as fits."""
    builder = detailed_model(day_problem(problem, day, indices, all_mandatory=False))
    solver = new_solver(limit, options.workers, options.seed)
    status = solver.solve(builder.model)
    placed: dict[int, Slot] = builder.placement(solver) if status in FOUND else {}
    return placed


def _minimal_counts(
    problem: Problem, day: int, indices: list[int], options: SolveOptions, limit: float
) -> Counter[Shape]:
    """Shrink an infeasible day's sessions shape by shape while they still provably do not fit."""
    kept = list(indices)
    for shape in sorted({shape_of(problem.sessions[i]) for i in kept}, reverse=True):
        while True:
            same = [i for i in kept if shape_of(problem.sessions[i]) == shape]
            if not same:
                break
            trial = [i for i in kept if i != same[-1]]
            status, _ = _fits(problem, day, trial, options, limit)
            if status != INFEASIBLE:
                break
            kept = trial
    return Counter(shape_of(problem.sessions[i]) for i in kept)


def _repair(
    problem: Problem, days: Mapping[int, int], options: SolveOptions, tracker: _Tracker
) -> tuple[dict[int, Slot], list[tuple[Counter[Shape], int]]]:
    """Return the detailed placement of a day assignment, and a cut per day that provably does not fit."""
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, day in days.items():
        if not (problem.sessions[index].booked is not None and problem.sessions[index].booked.frozen):  # type: ignore[union-attr]
            by_day[day].append(index)
    placement: dict[int, Slot] = {}
    cuts: list[tuple[Counter[Shape], int]] = []
    for day in sorted(set(by_day) | {d.booked.day for d in problem.sessions if d.booked and d.booked.frozen}):
        indices = by_day.get(day, [])
        limit = max(0.2, min(1.0, tracker.remaining / 4))
        status, found = _fits(problem, day, indices, options, limit)
        if status in FOUND:
            placement.update(found)
            continue
        if status == INFEASIBLE:
            cuts.append((_minimal_counts(problem, day, indices, options, min(1.0, limit)), day))
        placement.update(_pack(problem, day, indices, options, limit))
    return fill_leftovers(problem, _consistent(problem, placement)), cuts


def _decomposition(problem: Problem, tracker: _Tracker) -> tuple[bool, bool]:
    """Run the decomposition until proven or out of time; return (infeasible, proven optimal)."""
    options = tracker.options
    master = MasterModel(problem)
    master.hint({i: s.day for i, s in tracker.best.items()})
    signatures: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for day in range(problem.days):
        signatures[day_signature(problem, day)].append(day)
    first = True
    while tracker.remaining > 0.05:
        share = 0.5 if first else 0.3
        solver = new_solver(max(0.1, tracker.remaining * share), options.workers, options.seed, 0.0)
        solver.best_bound_callback = tracker.raise_bound
        status = solver.solve(master.model)
        if status == INFEASIBLE:
            return True, False
        if status not in FOUND:
            break
        tracker.raise_bound(solver.best_objective_bound)
        days = master.assignment(solver)
        placement, cuts = _repair(problem, days, options, tracker)
        tracker.offer(placement)
        proven = status == OPTIMAL and tracker.cost is not None and tracker.bound is not None
        if proven and tracker.cost is not None and tracker.bound is not None and tracker.cost <= tracker.bound:
            return False, True
        if not cuts:
            if status == OPTIMAL:
                break  # every day fits; what is left is overtime or same-day moves the master cannot see
            first = False
            master.hint(days)
            continue
        for counts, day in cuts:
            master.add_cut(counts, signatures[day_signature(problem, day)])
        master.hint({i: s.day for i, s in tracker.best.items()})
        first = False
    return False, False


def _monolithic(problem: Problem, tracker: _Tracker) -> tuple[bool, bool]:
    options = tracker.options
    builder = detailed_model(problem)
    builder.hint(tracker.best)
    solver = new_solver(tracker.remaining, options.workers, options.seed)
    solver.best_bound_callback = tracker.raise_bound
    status = solver.solve(builder.model)
    if status == INFEASIBLE:
        return True, False
    if status in FOUND:
        tracker.raise_bound(solver.best_objective_bound)
        tracker.offer(builder.placement(solver))
    return False, status == OPTIMAL


def solve(problem: Problem, options: SolveOptions = SolveOptions(), progress: ProgressCallback | None = None) -> Plan:
    """Return the CP-SAT plan of a problem: the schedule, its objective terms, the bound and the gap.

    Infeasible input (a mandatory case that cannot be placed, fixed bookings that clash) returns a plan
    with status ``infeasible`` and the reasons in ``problems``; it never raises.
    """
    tracker = _Tracker(problem, options, progress)
    static = [
        f"case {d.case} is mandatory but cannot be scheduled: {d.excluded[1]}"
        for d in problem.sessions
        if d.mandatory and d.excluded is not None
    ]
    if static:
        return _without_plan(problem, tracker, "infeasible", static)
    start = dict(options.hint) if options.hint is not None else fcfs_placement(problem)
    if all(i in start for i, d in enumerate(problem.sessions) if d.mandatory or (d.booked and d.booked.frozen)):
        tracker.offer(start)
    run = _monolithic if options.method == "monolithic" else _decomposition
    infeasible, proven = run(problem, tracker)
    if infeasible:
        return _without_plan(problem, tracker, "infeasible", infeasible_core(problem, min(10.0, options.time_limit)))
    if tracker.cost is None:
        return _without_plan(problem, tracker, "no_solution", [f"no plan found in {options.time_limit:g} s"])
    bound = None if tracker.bound is None else min(tracker.bound, tracker.cost) / SCALE
    optimal = proven or (tracker.bound is not None and tracker.bound >= tracker.cost)
    return plan_of(
        problem,
        tracker.best,
        planner="cp-sat",
        status="optimal" if optimal else "feasible",
        seconds=tracker.elapsed,
        bound=bound,
    )


def _without_plan(
    problem: Problem, tracker: _Tracker, status: Literal["infeasible", "no_solution"], why: list[str]
) -> Plan:
    return plan_of(
        problem, {}, planner="cp-sat", status=status, seconds=tracker.elapsed, problems=why, left_out=Reason.NO_PLAN
    )
