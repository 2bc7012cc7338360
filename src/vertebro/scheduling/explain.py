"""Explanations: why a session is not in a plan, and what each objective weight means."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from vertebro.scheduling.objective import MEANINGS, UNITS
from vertebro.scheduling.occupancy import BLOCKER_NAMES, Blocker, Occupancy, Slot
from vertebro.scheduling.plan import Reason
from vertebro.scheduling.problem import Problem


def _when(problem: Problem, minute: int) -> str:
    return f"{problem.moment(minute):%Y-%m-%d %H:%M}"


def _free_slot_detail(problem: Problem, index: int, slot: Slot) -> str:
    demand = problem.sessions[index]
    window = problem.room(slot.room).windows[slot.day]
    overtime = window is not None and slot.start + demand.minutes > window.close
    return (
        f"a slot was free at {_when(problem, slot.start)} in {slot.room} with {slot.radiologist}"
        f"{' (partly in overtime)' if overtime else ''}; the planner did not use it (time limit or first-come order)"
    )


def unscheduled_reasons(problem: Problem, placement: Mapping[int, Slot]) -> dict[int, tuple[Reason, str]]:
    """Return, for every session not placed, a reason code and a sentence naming what stood in the way.

    Sessions that could not be done on any day keep the reason found when the problem was built. For the
    others every possible day is tried against the plan's bookings, and the answer says which resource
    was full on how many days (no capacity), or where a slot was still free (capacity left unused).
    """
    reasons: dict[int, tuple[Reason, str]] = {}
    occupancy: Occupancy | None = None
    for index, demand in enumerate(problem.sessions):
        if index in placement:
            continue
        if demand.excluded is not None:
            reasons[index] = demand.excluded
            continue
        if demand.previous is not None and demand.previous not in placement:
            reasons[index] = (
                Reason.PREVIOUS_STAGE_UNSCHEDULED,
                f"session {demand.index - 1} of the case is not planned",
            )
            continue
        days = list(demand.days)
        if demand.previous is not None:
            previous_day = placement[demand.previous].day
            days = [d for d in days if d >= previous_day + demand.gap_days]
            if not days:
                reasons[index] = (
                    Reason.STAGE_GAP,
                    f"it must come {demand.gap_days} days after session {demand.index - 1} "
                    f"({problem.date(previous_day)}); no possible day is left",
                )
                continue
        if occupancy is None:
            occupancy = Occupancy(problem)
            for i, slot in placement.items():
                occupancy.add(problem.sessions[i], slot)
        blockers: Counter[Blocker] = Counter()
        free: Slot | None = None
        for day in days:
            found = occupancy.fit(demand, day, overtime=True)
            if isinstance(found, Slot):
                free = found
                break
            blockers[found] += 1
        if free is not None:
            reasons[index] = (Reason.CAPACITY_LEFT_UNUSED, _free_slot_detail(problem, index, free))
            continue
        first, last = problem.date(days[0]), problem.date(days[-1])
        until = "the plan's end" if days[-1] == problem.days - 1 else "its latest useful date"
        full = ", ".join(f"{BLOCKER_NAMES[b]} on {n} day{'s' if n > 1 else ''}" for b, n in sorted(blockers.items()))
        reasons[index] = (
            Reason.NO_CAPACITY,
            f"no capacity on any of its {len(days)} possible day{'s' if len(days) > 1 else ''} "
            f"{first} to {last} ({until}): {full}",
        )
    return reasons


def weights_explained(weights: Mapping[str, float]) -> list[tuple[str, float, str, str]]:
    """Return (term, weight, unit, meaning) for every objective term, in the order of the objective."""
    return [(term, weights[term], f"points per {UNITS[term].rstrip('s')}", MEANINGS[term]) for term in weights]
