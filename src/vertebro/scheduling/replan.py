"""Re-planning from the current plan after a cancellation, a no-show or an urgent inpatient.

The current plan becomes the instance's bookings (``booked``) and the event's moment its ``now``:
sessions that started before it are fixed, every other booking may move, at the ``moved`` cost, or
the ``moved_within_48h`` cost when it was less than 48 hours away. The solver starts from the current
plan, so an event that needs no change leaves the plan as it was.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from vertebro.scheduling.instance import Booked, CaseToSchedule, Instance
from vertebro.scheduling.occupancy import Slot
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.solver import ProgressCallback, SolveOptions, solve


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A case withdrawn (the patient declined, improved, or went elsewhere): its sessions are freed."""

    case: str


@dataclass(frozen=True, slots=True)
class NoShow:
    """A patient did not come for a session: it is rebooked from the next day on."""

    case: str
    session: int = 0


@dataclass(frozen=True, slots=True)
class UrgentCase:
    """A new case to fit in, usually an inpatient marked ``mandatory``."""

    case: CaseToSchedule


Event = Cancellation | NoShow | UrgentCase


def _rebuilt(instance: Instance, **changes: Any) -> Instance:
    data = instance.model_dump() | changes
    return Instance.model_validate(data)


def with_bookings(instance: Instance, plan: Plan, now: dt.datetime) -> Instance:
    """Return the instance with the plan's sessions as bookings and the planning moment ``now``."""
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in plan.sessions:
        booked = Booked(session=s.session, start=s.start, room=s.room, radiologist=s.radiologist, nurse=s.nurse)
        by_case[s.case].append(booked.model_dump())
    cases = [case.model_dump() | {"booked": by_case.get(case.id, [])} for case in instance.cases]
    return _rebuilt(instance, cases=cases, now=now)


def after(instance: Instance, event: Event, now: dt.datetime) -> Instance:
    """Return the instance (with bookings) changed by one event at ``now``."""
    cases = [case.model_dump() for case in instance.cases]
    if isinstance(event, Cancellation):
        cases = [c for c in cases if c["id"] != event.case]
    elif isinstance(event, NoShow):
        for c in cases:
            if c["id"] == event.case:
                c["booked"] = [b for b in c["booked"] if b["session"] < event.session]
                reason = {
                    "date": now.date() + dt.timedelta(days=1),
                    "kind": "patient",
                    "reason": f"no-show {now:%Y-%m-%d}",
                }
                c["not_before"] = [*c["not_before"], reason]
    else:
        cases.append(event.case.model_dump())
    return _rebuilt(instance, cases=cases, now=now)


def current_placement(instance: Instance) -> dict[int, Slot]:
    """Return the instance's bookings as a placement of its problem (the solver's starting point)."""
    problem = problem_of(instance)
    return {
        i: Slot(d.booked.day, d.booked.start, d.booked.room, d.booked.radiologist, d.booked.nurse)
        for i, d in enumerate(problem.sessions)
        if d.booked is not None
    }


def replan(
    instance: Instance,
    plan: Plan,
    event: Event,
    now: dt.datetime,
    options: SolveOptions | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[Instance, Plan]:
    """Return the changed instance and its new plan, starting from the current plan."""
    options = options or SolveOptions()
    changed = after(with_bookings(instance, plan, now), event, now)
    problem = problem_of(changed)
    start = current_placement(changed)
    hint = {i: s for i, s in start.items() if problem.sessions[i].excluded is None}
    new_options = SolveOptions(options.time_limit, options.workers, options.seed, options.method, hint)
    return changed, solve(problem, new_options, progress)
