"""What a plan achieves, in the service's terms: acute fractures treated while acute, waits, use, overtime."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vertebro.scheduling.instance import Instance
from vertebro.scheduling.objective import ACUTE_DAYS, overtime_minutes, ready_date
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import problem_of


@dataclass(frozen=True, slots=True)
class PlanMetrics:
    """Figures of one plan on its instance (shares and utilisations are fractions, 0-1)."""

    sessions: int
    unscheduled: int
    cases_started: int
    acute_levels: int
    acute_treated: int
    mean_wait_days: float | None
    room_utilisation: float
    bay_utilisation: float
    overtime_minutes: int

    @property
    def acute_share(self) -> float | None:
        """Share of the acute fractures that could be treated while acute and were."""
        return None if not self.acute_levels else self.acute_treated / self.acute_levels


def _minutes(a: dt.time, b: dt.time) -> int:
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)


def _open_minutes(instance: Instance) -> tuple[int, int]:
    """Return (regular room minutes, bay minutes) over the horizon, less holidays and closures."""
    rooms = bays = 0
    holidays = set(instance.holidays)
    for date in instance.dates():
        if date in holidays:
            continue
        for room in instance.rooms:
            span = room.hours.on(date)
            if span is not None:
                opening = dt.datetime.combine(date, span.open)
                closing = dt.datetime.combine(date, span.close)
                lost = sum(
                    max(0.0, (min(c.end, closing) - max(c.start, opening)).total_seconds() / 60) for c in room.closed
                )
                rooms += _minutes(span.open, span.close) - int(lost)
        span = instance.recovery.hours.on(date)
        if span is not None:
            bays += instance.recovery.bays_on_date(date) * _minutes(span.open, span.close)
    return rooms, bays


def plan_metrics(instance: Instance, plan: Plan) -> PlanMetrics:
    """Return the service figures of a plan.

    Acute fractures are counted among the sessions some plan could include: a level whose fracture is
    under 6 weeks old on the session's ready date is *acute*, and *treated while acute* when its session
    is planned before the fracture reaches 6 weeks. The wait is from referral to the first session.
    """
    problem = problem_of(instance)
    planned = {(s.case, s.session): s for s in plan.sessions}
    acute = treated = 0
    for demand in problem.sessions:
        if demand.excluded is not None:
            continue
        case = instance.case(demand.case)
        ready = ready_date(instance, case, demand.index)
        session = planned.get((demand.case, demand.index))
        for level in demand.levels:
            onset = case.onset_of(level)
            if (ready - onset).days < ACUTE_DAYS:
                acute += 1
                treated += session is not None and (session.date - onset).days < ACUTE_DAYS
    waits = [(s.date - instance.case(s.case).referred).days for s in plan.sessions if s.session == 0]
    room_minutes, bay_minutes = _open_minutes(instance)
    booked = sum(int((s.end - s.start).total_seconds() // 60) for s in plan.sessions)
    monitoring = sum(int((s.monitoring_end - s.monitoring_start).total_seconds() // 60) for s in plan.sessions)
    return PlanMetrics(
        sessions=len(plan.sessions),
        unscheduled=len(plan.unscheduled),
        cases_started=len(waits),
        acute_levels=acute,
        acute_treated=treated,
        mean_wait_days=None if not waits else sum(waits) / len(waits),
        room_utilisation=booked / room_minutes if room_minutes else 0.0,
        bay_utilisation=monitoring / bay_minutes if bay_minutes else 0.0,
        overtime_minutes=sum(overtime_minutes(instance, s) for s in plan.sessions),
    )
