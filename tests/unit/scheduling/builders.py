"""Builders of tiny scheduling instances: a one-room week that each test changes only where it matters."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from vertebro.scheduling.checker import violations
from vertebro.scheduling.fcfs import fcfs_plan
from vertebro.scheduling.instance import Instance, parse_instance
from vertebro.scheduling.plan import Plan, PlannedSession
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.solver import SolveOptions, solve

START = dt.date(2027, 1, 4)  # a Monday
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def day(n: int) -> dt.date:
    """Return the date of horizon day ``n``."""
    return START + dt.timedelta(days=n)


def at(n: int, time: str) -> str:
    """Return an ISO date-time on horizon day ``n``."""
    return f"{day(n)}T{time}"


def hours(open_: str = "08:00", close: str = "17:00", days: tuple[str, ...] = WORKDAYS) -> dict[str, Any]:
    """Return weekly hours, the same every listed weekday."""
    return {d: {"open": open_, "close": close} for d in days}


def base(**changes: Any) -> dict[str, Any]:
    """One fluoroscopy room, one radiologist, one sedation nurse, four bays, five days, no cases."""
    data: dict[str, Any] = {
        "name": "tiny",
        "start": str(START),
        "days": 5,
        "granularity_minutes": 30,
        "rooms": [{"id": "room-1", "kind": "fluoroscopy", "hours": hours()}],
        "radiologists": [{"id": "ir-1", "rooms": ["room-1"], "hours": hours("08:00", "18:00")}],
        "nurses": [{"id": "sn-1", "hours": hours("08:00", "18:00")}],
        "recovery": {"bays": 4, "hours": hours("08:00", "20:00")},
        "cases": [],
    }
    data.update(copy.deepcopy(changes))
    return data


def case(
    case_id: str,
    *,
    levels: tuple[str, ...] = ("L1",),
    age_days: int = 20,
    referred_days_ago: int = 1,
    sedation: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """Return a case ready on day 0, its fractures ``age_days`` old on day 0."""
    onset = START - dt.timedelta(days=age_days)
    referred = START - dt.timedelta(days=min(referred_days_ago, age_days))
    data: dict[str, Any] = {
        "id": case_id,
        "referred": str(referred),
        "levels": [{"level": level, "onset": str(onset)} for level in levels],
        "sedation": sedation,
    }
    data.update(extra)
    return data


def instance(data: dict[str, Any]) -> Instance:
    """Return the validated instance of JSON-compatible data."""
    return parse_instance(json.dumps(data))


def checked_plan(data: dict[str, Any] | Instance, *, time_limit: float = 10.0, method: str = "decomposition") -> Plan:
    """Solve with CP-SAT, assert the independent checker accepts the plan, and return it."""
    inst = data if isinstance(data, Instance) else instance(data)
    options = SolveOptions(time_limit=time_limit, workers=2, method=method)  # type: ignore[arg-type]
    plan = solve(problem_of(inst), options)
    assert violations(inst, plan) == [], violations(inst, plan)
    return plan


def checked_fcfs(data: dict[str, Any] | Instance) -> Plan:
    """Plan first come, first served, assert the checker accepts it, and return it."""
    inst = data if isinstance(data, Instance) else instance(data)
    plan = fcfs_plan(problem_of(inst))
    assert violations(inst, plan) == [], violations(inst, plan)
    return plan


def sessions_of(plan: Plan, case_id: str) -> list[PlannedSession]:
    """Return the planned sessions of one case, in session order."""
    return sorted((s for s in plan.sessions if s.case == case_id), key=lambda s: s.session)


def only(plan: Plan, case_id: str) -> PlannedSession:
    """Return the one planned session of a case."""
    found = sessions_of(plan, case_id)
    assert len(found) == 1, f"{case_id}: {found}"
    return found[0]
