"""Solving with CP-SAT: a bound from the day-assignment relaxation, a plan from the detailed model by windows.

1. Two quick plans start the search: first-come-first-served and a greedy one (each session to its
   cheapest free day, biggest saving first). A plan exists from the first second.
2. The *master* (:class:`~vertebro.scheduling.cpsat.MasterModel`) assigns sessions to days and rooms
   under aggregated capacities. Its bound is a lower bound on every plan, and the solver's reported
   bound. Its assignment is packed day by day with the detailed model (rooms, times, radiologists,
   sedation nurses, recovery bays, overtime); sessions that do not fit are offered to other days.
3. *Window search* improves the best plan with the detailed model over a few days at a time: the
   sessions on those days, and the ones left out that could go on them, are re-planned exactly while
   everything else stays; the windows grow when a pass finds nothing better.

``monolithic`` solves the detailed model over the whole horizon at once instead (fine for small
instances, and a cross-check in the tests).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from vertebro.scheduling.cpsat import (
    FOUND,
    INFEASIBLE,
    OPTIMAL,
    MasterModel,
    detailed_model,
    infeasible_core,
    new_solver,
    sub_problem,
)
from vertebro.scheduling.fcfs import fcfs_placement
from vertebro.scheduling.objective import SCALE
from vertebro.scheduling.occupancy import Occupancy, Slot
from vertebro.scheduling.placement import objective_from, overtime_of, plan_of, quantities_of
from vertebro.scheduling.plan import Plan, Reason
from vertebro.scheduling.problem import Problem

Method = Literal["decomposition", "monolithic"]
MASTER_SHARE = 0.6
LP_SHARE = 0.4
FIRST_ROUND_SECONDS = 5.0
PACK_SECONDS = 1.0
FIRST_PACK_SECONDS = 0.3


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
    """The search so far: seconds, best plan's objective and the bound (points), plans found, phase."""

    seconds: float
    objective: float | None
    bound: float | None
    solutions: int
    phase: str


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
        self.phase = "start"

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def remaining(self) -> float:
        return self.options.time_limit - self.elapsed

    @property
    def proven(self) -> bool:
        return self.cost is not None and self.bound is not None and self.bound >= self.cost

    def offer(self, placement: Mapping[int, Slot]) -> bool:
        cost = placement_cost(self.problem, placement)
        if self.cost is not None and cost >= self.cost:
            return False
        self.best, self.cost = dict(placement), cost
        self.solutions += 1
        self.report()
        return True

    def raise_bound(self, bound: float) -> None:
        value = round(bound)
        if self.bound is None or value > self.bound:
            self.bound = value
            self.report()

    def report(self) -> None:
        if self.callback is not None:
            objective = None if self.cost is None else self.cost / SCALE
            bound = None if self.bound is None else self.bound / SCALE
            self.callback(Progress(self.elapsed, objective, bound, self.solutions, self.phase))


def placement_cost(problem: Problem, placement: Mapping[int, Slot]) -> int:
    """Return a placement's objective in hundredths of a point."""
    return round(objective_from(problem, quantities_of(problem, placement)).total * SCALE)


def _cost(problem: Problem, index: int, day: int | None) -> int:
    demand = problem.sessions[index]
    coef = problem.coefficients
    return sum(coef[t] * demand.quantity(t, day, problem.days) for t in demand.quantities)


def _fixed(problem: Problem) -> dict[int, Slot]:
    return {
        i: Slot(d.booked.day, d.booked.start, d.booked.room, d.booked.radiologist, d.booked.nurse)
        for i, d in enumerate(problem.sessions)
        if d.booked is not None and d.booked.frozen
    }


def fill_leftovers(problem: Problem, placement: dict[int, Slot]) -> dict[int, Slot]:
    """Offer every plannable session left out to its cheapest day with a free slot, biggest saving first."""
    occupancy = Occupancy(problem)
    for index, slot in placement.items():
        occupancy.add(problem.sessions[index], slot)
    left = [i for i, d in enumerate(problem.sessions) if i not in placement and d.excluded is None and d.days]
    left.sort(key=lambda i: _cost(problem, i, min(problem.sessions[i].days)) - _cost(problem, i, None))
    for index in sorted(left, key=lambda i: problem.sessions[i].index):
        demand = problem.sessions[index]
        previous = None if demand.previous is None else placement.get(demand.previous)
        if demand.previous is not None and previous is None:
            continue
        first = 0 if previous is None else previous.day + demand.gap_days
        absent = _cost(problem, index, None)
        for day in sorted((d for d in demand.days if d >= first), key=lambda d: _cost(problem, index, d)):
            if _cost(problem, index, day) >= absent:
                break
            found = occupancy.fit(demand, day, overtime=True)
            if isinstance(found, Slot):
                extra = problem.coefficients.get("overtime", 0) * overtime_of(problem, index, found)
                if _cost(problem, index, day) + extra < absent:
                    occupancy.add(demand, found)
                    placement[index] = found
                    break
    return placement


def valid_part(problem: Problem, placement: Mapping[int, Slot]) -> dict[int, Slot]:
    """Return the part of a placement that respects every constraint: fixed bookings, then the rest in order."""
    occupancy = Occupancy(problem)
    kept: dict[int, Slot] = {}
    for frozen in (True, False):
        for index, slot in sorted(placement.items()):
            demand = problem.sessions[index]
            if _is_frozen(problem, index) is not frozen or demand.excluded is not None:
                continue
            previous = None if demand.previous is None else kept.get(demand.previous)
            in_order = demand.previous is None or (previous is not None and slot.day >= previous.day + demand.gap_days)
            if frozen or (in_order and slot.day in demand.days and occupancy.accepts(demand, slot)):
                occupancy.add(demand, slot)
                kept[index] = slot
    return kept


def greedy_placement(problem: Problem) -> dict[int, Slot]:
    """Return a quick plan: fixed bookings kept, then each session to its cheapest free day, biggest saving first."""
    return fill_leftovers(problem, _fixed(problem))


def _consistent(problem: Problem, placement: dict[int, Slot]) -> dict[int, Slot]:
    """Drop later stages whose earlier stage is not placed (or no longer a staging gap before)."""
    for index, demand in enumerate(problem.sessions):
        if index not in placement or demand.previous is None:
            continue
        previous = placement.get(demand.previous)
        if previous is None or placement[index].day < previous.day + demand.gap_days:
            del placement[index]
    return placement


def _solve_sub(
    tracker: _Tracker,
    allowed: Mapping[int, tuple[int, ...]],
    required: set[int],
    hint: Mapping[int, Slot],
    limit: float,
    workers: int | None = None,
) -> tuple[int, dict[int, Slot]]:
    """Solve the detailed model of a sub-problem; return the status and its placement."""
    builder = detailed_model(sub_problem(tracker.problem, allowed, required))
    builder.hint({i: s for i, s in hint.items() if i in allowed})
    solver = new_solver(limit, workers or tracker.options.workers, tracker.options.seed)
    status = solver.solve(builder.model)
    return status, (builder.placement(solver) if status in FOUND else {})


def _master(problem: Problem, tracker: _Tracker) -> bool:
    """Solve the day-assignment relaxation for the bound, packing its days into plans; True when infeasible.

    A short first round gives an early plan; a second round, started from the first round's solution,
    uses the rest of the master's share of the time. Each round runs one CP-SAT search per worker, each
    single-threaded with its own seed: on this model the sequential search with the full linear
    relaxation finds better plans and bounds than the parallel portfolio (measured on 2 cores), and
    independent seeds smooth out its run-to-run variance.
    """
    tracker.phase = "bound"
    master = MasterModel(problem)
    until = tracker.elapsed + tracker.remaining * MASTER_SHARE
    # The linear relaxation first (GLOP, seconds): a bound at once, and its nearly whole solution, packed
    # into days, usually the best starting plan by far.
    bound, rounded = master.lp_relaxation(max(0.1, tracker.remaining * LP_SHARE))
    if bound is not None:
        tracker.raise_bound(bound)
    if rounded:
        # a first plan soon: each day packed briefly (infeasible days are found at once, others need
        # seconds only to prove their overtime minimal)
        _pack(problem, tracker, rounded, FIRST_PACK_SECONDS)
    hint: Mapping[int, Slot] = tracker.best
    tracker.phase = "bound"
    seeds = range(tracker.options.seed, tracker.options.seed + max(1, tracker.options.workers))
    # with the relaxation's plan as a start, one round; else a short first round gives an early plan
    for first_round in (False,) if rounded else (True, False):
        left = until - tracker.elapsed
        if left <= 0.1:
            break
        limit = min(left, FIRST_ROUND_SECONDS) if first_round else left
        master.hint(hint)

        def search(seed: int, limit: float = limit) -> tuple[int, Any]:
            solver = new_solver(limit, 1, seed, master=True)
            solver.best_bound_callback = tracker.raise_bound
            return solver.solve(master.model.clone()), solver

        tracker.phase = "bound"
        with ThreadPoolExecutor(max_workers=len(seeds)) as pool:
            results = list(pool.map(search, seeds))
        if any(status == INFEASIBLE for status, _ in results):
            return True
        found = [solver for status, solver in results if status in FOUND]
        if not found:
            continue
        for solver in found:
            tracker.raise_bound(solver.best_objective_bound)
        solver = min(found, key=lambda s: s.objective_value)
        hint = master.rooms_and_days(solver)
        _pack(problem, tracker, hint)
        if any(status == OPTIMAL for status, _ in results):
            break
    return False


def _pack(problem: Problem, tracker: _Tracker, assignment: Mapping[int, Slot], seconds: float = PACK_SECONDS) -> None:
    """Place each day's sessions with the detailed model of that day, then offer the plan.

    Days are independent once their sessions are chosen, so they are packed in parallel, one
    single-threaded search per worker (small models solve best alone; CP-SAT releases the GIL).
    """
    tracker.phase = "packing days"
    by_day: dict[int, list[int]] = defaultdict(list)
    for index, slot in assignment.items():
        by_day[slot.day].append(index)
    workers = max(1, tracker.options.workers)

    def pack_day(day: int) -> dict[int, Slot]:
        indices = by_day[day]
        if tracker.remaining <= 0:
            return {}
        allowed = {i: (day,) for i in indices}
        limit = max(0.1, min(seconds, tracker.remaining * workers / (2 * len(by_day))))
        status, found = _solve_sub(tracker, allowed, set(indices), {}, limit, 1)  # all of them, if they fit
        if status not in FOUND:
            required = {i for i in indices if problem.sessions[i].mandatory or _is_frozen(problem, i)}
            _, found = _solve_sub(tracker, allowed, required, {}, limit, 1)  # else as much value as fits
        return found

    placement: dict[int, Slot] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for found in pool.map(pack_day, sorted(by_day)):
            placement.update(found)
    if tracker.remaining <= 0 and len(placement) < len(assignment):
        return
    tracker.offer(fill_leftovers(problem, _consistent(problem, placement)))


def _is_frozen(problem: Problem, index: int) -> bool:
    booked = problem.sessions[index].booked
    return booked is not None and booked.frozen


def _window(problem: Problem, best: Mapping[int, Slot], days: range) -> tuple[dict[int, tuple[int, ...]], set[int]]:
    """Return the sessions free to move within ``days`` (with their allowed days) and those that must stay placed."""
    allowed: dict[int, tuple[int, ...]] = {}
    required: set[int] = set()
    later: dict[int, int] = {d.previous: i for i, d in enumerate(problem.sessions) if d.previous is not None}
    for index, demand in enumerate(problem.sessions):
        slot = best.get(index)
        if demand.excluded is not None or (slot is not None and slot.day not in days):
            continue
        if _is_frozen(problem, index):
            if slot is not None:
                allowed[index] = (slot.day,)
                required.add(index)
            continue
        lo, hi = days.start, days.stop - 1
        if demand.previous is not None and demand.previous not in allowed:
            previous = best.get(demand.previous)
            if previous is None:
                continue
            lo = max(lo, previous.day + demand.gap_days)
        nxt = later.get(index)
        if nxt is not None and nxt in best and best[nxt].day not in days:
            hi = min(hi, best[nxt].day - demand.gap_days)
            required.add(index)
        options = tuple(d for d in demand.days if lo <= d <= hi)
        if options:
            allowed[index] = options
            if demand.mandatory:
                required.add(index)
    return allowed, required


def _window_search(problem: Problem, tracker: _Tracker) -> None:
    """Re-plan a few days at a time with the detailed model while time remains, growing the windows."""
    tracker.phase = "improving"
    size = 2
    while tracker.remaining > 0.1 and not tracker.proven:
        improved = False
        step = max(1, size // 2)
        for first in range(0, problem.days, step):
            if tracker.remaining <= 0.1:
                return
            days = range(first, min(problem.days, first + size))
            allowed, required = _window(problem, tracker.best, days)
            if not allowed:
                continue
            inside = {i: s for i, s in tracker.best.items() if i in allowed}
            status, found = _solve_sub(tracker, allowed, required, inside, max(0.1, min(3.0, tracker.remaining)))
            if status not in FOUND:
                continue
            candidate = {i: s for i, s in tracker.best.items() if i not in allowed} | found
            improved |= tracker.offer(_consistent(problem, candidate))
        if not improved:
            if size >= problem.days:
                return
            size = min(problem.days, size * 2)


def _monolithic(problem: Problem, tracker: _Tracker) -> bool:
    options = tracker.options
    builder = detailed_model(problem)
    builder.hint(tracker.best)
    solver = new_solver(tracker.remaining, options.workers, options.seed)
    solver.best_bound_callback = tracker.raise_bound
    status = solver.solve(builder.model)
    if status == INFEASIBLE:
        return True
    if status in FOUND:
        tracker.offer(builder.placement(solver))
        tracker.raise_bound(solver.best_objective_bound)
    return False


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
    needed = {i for i, d in enumerate(problem.sessions) if d.mandatory or _is_frozen(problem, i)}
    starts = [fcfs_placement(problem), greedy_placement(problem)]
    if options.hint is not None:
        starts.append(fill_leftovers(problem, valid_part(problem, options.hint)))
    for start in starts:
        if needed <= set(start):
            tracker.offer(start)
    if options.method == "monolithic":
        infeasible = _monolithic(problem, tracker)
    else:
        infeasible = _master(problem, tracker)
        if not infeasible and tracker.cost is not None:
            _window_search(problem, tracker)
    if infeasible:
        return _without_plan(problem, tracker, "infeasible", infeasible_core(problem, min(10.0, options.time_limit)))
    if tracker.cost is None:
        return _without_plan(problem, tracker, "no_solution", [f"no plan found in {options.time_limit:g} s"])
    # every term is non-negative, so 0 is a bound too (and better than a search that has not begun)
    bound = None if tracker.bound is None else max(0, min(tracker.bound, tracker.cost)) / SCALE
    return plan_of(
        problem,
        tracker.best,
        planner="cp-sat",
        status="optimal" if tracker.proven else "feasible",
        seconds=tracker.elapsed,
        bound=bound,
    )


def _without_plan(
    problem: Problem, tracker: _Tracker, status: Literal["infeasible", "no_solution"], why: list[str]
) -> Plan:
    seconds = tracker.elapsed
    return plan_of(problem, {}, planner="cp-sat", status=status, seconds=seconds, problems=why, left_out=Reason.NO_PLAN)
