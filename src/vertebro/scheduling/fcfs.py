"""The first-come-first-served planner: what a clinic does by hand, kept as the baseline on every instance.

Cases are booked in referral order (urgent, mandatory cases first, as a clinic would squeeze them in).
Each session goes into the first slot that is free in every resource, within regular hours, from the
day it is ready (later stages a staging gap after the previous one). Existing bookings are kept where
they still fit. Only a mandatory case may be booked into overtime, when regular hours are full.
"""

from __future__ import annotations

import time
from itertools import groupby

from vertebro.scheduling.occupancy import Occupancy, Slot
from vertebro.scheduling.placement import plan_of
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import Demand, Problem


def _first_fit(occupancy: Occupancy, demand: Demand, first_day: int, overtime: bool) -> Slot | None:
    for day in demand.days:
        if day >= first_day:
            found = occupancy.fit(demand, day, overtime=overtime)
            if isinstance(found, Slot):
                return found
    return None


def fcfs_placement(problem: Problem) -> dict[int, Slot]:
    """Return the first-come-first-served placement: session index -> slot."""
    occupancy = Occupancy(problem)
    placement: dict[int, Slot] = {}
    for frozen_first in (True, False):
        for index, demand in enumerate(problem.sessions):
            booked = demand.booked
            if booked is None or booked.frozen is not frozen_first:
                continue
            slot = Slot(booked.day, booked.start, booked.room, booked.radiologist, booked.nurse)
            previous = None if demand.previous is None else placement.get(demand.previous)
            in_order = demand.previous is None or (
                previous is not None and booked.day >= previous.day + demand.gap_days
            )
            if booked.frozen or (in_order and booked.day in demand.days and occupancy.accepts(demand, slot)):
                occupancy.add(demand, slot)
                placement[index] = slot
    groups = [list(g) for _, g in groupby(range(len(problem.sessions)), key=lambda i: problem.sessions[i].case)]
    groups.sort(key=lambda g: (not problem.sessions[g[0]].mandatory, problem.sessions[g[0]].referred, g[0]))
    for group in groups:
        for index in group:
            demand = problem.sessions[index]
            if index in placement:
                continue
            if demand.previous is not None and demand.previous not in placement:
                break
            first = placement[demand.previous].day + demand.gap_days if demand.previous is not None else 0
            attempts = (False, True) if demand.mandatory else (False,)
            for overtime in attempts:
                found = _first_fit(occupancy, demand, first, overtime)
                if found is not None:
                    occupancy.add(demand, found)
                    placement[index] = found
                    break
    return placement


def fcfs_plan(problem: Problem) -> Plan:
    """Return the first-come-first-served plan of a problem, with its objective and reasons.

    When a mandatory case finds no slot the plan's status is ``no_solution`` (the baseline could not meet
    every hard constraint) and ``problems`` names the case; the sessions it did book are still listed.
    """
    started = time.perf_counter()
    placement = fcfs_placement(problem)
    missed = [
        f"case {d.case} is mandatory but found no slot first come, first served"
        for i, d in enumerate(problem.sessions)
        if d.mandatory and i not in placement
    ]
    return plan_of(
        problem,
        placement,
        planner="fcfs",
        status="no_solution" if missed else "feasible",
        seconds=time.perf_counter() - started,
        problems=missed,
    )
