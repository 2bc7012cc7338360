"""From a placement (session -> slot) to a :class:`Plan`: times, recovery bays, objective, reasons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from vertebro.scheduling.explain import unscheduled_reasons
from vertebro.scheduling.objective import SCALE
from vertebro.scheduling.occupancy import Slot
from vertebro.scheduling.plan import (
    Objective,
    Plan,
    PlannedSession,
    Planner,
    Reason,
    Status,
    Term,
    UnscheduledSession,
)
from vertebro.scheduling.problem import Problem

Placement = Mapping[int, Slot]


def overtime_of(problem: Problem, index: int, slot: Slot) -> int:
    """Return the procedure minutes after the room's regular closing time."""
    window = problem.room(slot.room).windows[slot.day]
    end = slot.start + problem.sessions[index].minutes
    close = slot.start if window is None else max(slot.start, window.close)
    return max(0, end - close)


def quantities_of(problem: Problem, placement: Placement) -> dict[str, int]:
    """Return the total quantity of every objective term for a placement (the objective's one definition).

    Sessions that no plan could include (``excluded``) are left out of every term: the objective measures
    what the plan decides, so a plan that treats every plannable session on its ready day costs 0.
    """
    totals = dict.fromkeys(problem.terms, 0)
    for index, demand in enumerate(problem.sessions):
        if demand.excluded is not None:
            continue  # no plan could include it: reported, not scored
        slot = placement.get(index)
        for term in demand.quantities:
            totals[term] += demand.quantity(term, None if slot is None else slot.day, problem.days)
        if slot is not None and "overtime" in totals:
            totals["overtime"] += overtime_of(problem, index, slot)
        booked = demand.booked
        if booked is not None and (slot is None or slot.start != booked.start):
            totals[booked.move_term] += 1
    if problem.room_day_term is not None:
        totals[problem.room_day_term] = len({(slot.room, slot.day) for slot in placement.values()})
    return totals


def objective_from(problem: Problem, quantities: Mapping[str, int]) -> Objective:
    """Return the objective (points) with its terms from quantities per term."""
    coef = problem.coefficients
    terms = [
        Term(
            name=term,
            quantity=quantities.get(term, 0),
            unit=problem.units[term],
            weight=problem.weights[term],
            points=coef[term] * quantities.get(term, 0) / SCALE,
        )
        for term in problem.terms
    ]
    return Objective(total=sum(coef[t] * quantities.get(t, 0) for t in problem.terms) / SCALE, terms=terms)


def bays_of(problem: Problem, placement: Placement) -> dict[int, int]:
    """Return a recovery bay (1-based) for every placed session: earliest monitoring start first, lowest free bay."""
    by_day: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for index, slot in placement.items():
        demand = problem.sessions[index]
        start = slot.start + demand.minutes
        by_day[slot.day].append((start, start + demand.monitoring, index))
    bays: dict[int, int] = {}
    for day, intervals in by_day.items():
        free_at: list[int] = []
        for start, end, index in sorted(intervals):
            bay = next((b for b, until in enumerate(free_at) if until <= start), None)
            if bay is None:
                free_at.append(end)
                bay = len(free_at) - 1
            else:
                free_at[bay] = end
            if bay >= problem.recovery.bays[day]:
                raise ValueError(
                    f"more monitoring patients than bays on day {day}: the placement breaks a hard constraint"
                )
            bays[index] = bay + 1
    return bays


def plan_of(
    problem: Problem,
    placement: Placement,
    *,
    planner: Planner,
    status: Status,
    seconds: float,
    bound: float | None = None,
    problems: Sequence[str] = (),
    left_out: Reason | None = None,
) -> Plan:
    """Return the plan of a placement: every session's times, its bay, the objective and every left-out reason.

    ``left_out`` gives every session the planner could have placed one reason (e.g. ``no_plan`` when the
    problem is infeasible) instead of probing the plan's capacity.
    """
    bays = bays_of(problem, placement)
    sessions = []
    for index in sorted(placement, key=lambda i: (placement[i].start, placement[i].room)):
        slot, demand = placement[index], problem.sessions[index]
        end = slot.start + demand.minutes
        sessions.append(
            PlannedSession(
                case=demand.case,
                session=demand.index,
                levels=list(demand.levels),
                date=problem.date(slot.day),
                start=problem.moment(slot.start),
                end=problem.moment(end),
                room=slot.room,
                radiologist=slot.radiologist,
                nurse=slot.nurse,
                monitoring_start=problem.moment(end),
                monitoring_end=problem.moment(end + demand.monitoring),
                bay=bays[index],
                moved=demand.booked is not None and demand.booked.start != slot.start,
            )
        )
    if left_out is None:
        reasons = unscheduled_reasons(problem, placement)
    else:
        detail = problems[0] if problems else "no plan"
        reasons = {i: d.excluded or (left_out, detail) for i, d in enumerate(problem.sessions) if i not in placement}
    unscheduled = [
        UnscheduledSession(
            case=problem.sessions[i].case,
            session=problem.sessions[i].index,
            levels=list(problem.sessions[i].levels),
            reason=code,
            detail=detail,
        )
        for i, (code, detail) in sorted(reasons.items())
    ]
    objective = objective_from(problem, quantities_of(problem, placement))
    gap = None
    if bound is not None:
        gap = 0.0 if objective.total <= bound + 1e-9 else (objective.total - bound) / max(abs(objective.total), 1e-9)
    return Plan(
        instance=problem.name,
        planner=planner,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=round(seconds, 3),
        sessions=sessions,
        unscheduled=unscheduled,
        problems=list(problems),
    )
