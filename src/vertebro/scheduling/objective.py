"""The objective: what a plan costs, term by term, with weights a service lead can change.

Every term counts from the day a session is *ready* (referral, medication holds, labs and imaging done,
the plan's first day or the re-planning moment, whichever is latest; later stages a staging gap after
the first), so a plan that treats everyone on their ready day, without overtime and without moving
anyone, costs 0. A session left out of the horizon is counted as treated the day after the horizon,
plus the ``unscheduled`` weight.

Points are weight x quantity. The solver works in hundredths of a point (weights have at most two
decimals), so the breakdown computed here from any plan equals the solver's objective exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vertebro.clinical.findings import ACUTE_WEEKS, SUBACUTE_MAX_WEEKS
from vertebro.scheduling.instance import CaseToSchedule, Instance, Weights, session_levels
from vertebro.scheduling.plan import Objective, PlannedSession, Term

ACUTE_DAYS = round(ACUTE_WEEKS * 7)  # 42: acute fractures are younger than 6 weeks (acuity.age_bands)
UNHEALED_DAYS = round(SUBACUTE_MAX_WEEKS * 7)  # 91: beyond 3 months a fracture is chronic
NEAR_HOURS = 48
SCALE = 100  # hundredths of a point

TERMS = (
    "acute_missed",
    "fracture_age",
    "waiting",
    "bed_days",
    "overtime",
    "unscheduled",
    "moved",
    "moved_within_48h",
)
UNITS = {
    "acute_missed": "levels",
    "fracture_age": "level-days",
    "waiting": "case-days",
    "bed_days": "inpatient-days",
    "overtime": "minutes",
    "unscheduled": "sessions",
    "moved": "sessions",
    "moved_within_48h": "sessions",
}
MEANINGS = {
    "acute_missed": "a level that is acute (< 6 weeks) when ready but treated at 6 weeks or later, or not in the plan",
    "fracture_age": "each day a level waits while its fracture is under 13 weeks old (benefit is greatest early)",
    "waiting": "each day a case waits for its first session after it is ready",
    "bed_days": "each day an inpatient waits for its first session after it is ready (an occupied bed)",
    "overtime": "each procedure minute after a room's regular closing time",
    "unscheduled": "a session left out of the horizon (also counted as treated the day after it)",
    "moved": "an already-booked session moved to another day or time, or dropped",
    "moved_within_48h": "the same, when the booking was less than 48 hours away (holds and escorts already arranged)",
}


@dataclass(frozen=True, slots=True)
class Coefficients:
    """Weights in hundredths of a point per unit, as the solver uses them."""

    by_term: Mapping[str, int]

    def __getitem__(self, term: str) -> int:
        return self.by_term[term]


def coefficients(weights: Weights) -> Coefficients:
    """Return the integer coefficient (hundredths of a point per unit) of every term."""
    return Coefficients({term: round(getattr(weights, term) * SCALE) for term in TERMS})


def ready_date(instance: Instance, case: CaseToSchedule, session: int) -> dt.date:
    """Return the first date a session could be treated, ignoring capacity (earliest useful date)."""
    dates = [instance.start, instance.now_or_start.date(), case.referred, *(nb.date for nb in case.not_before)]
    return max(dates) + dt.timedelta(days=session * instance.policy.min_days_between_stages)


def session_quantities(
    instance: Instance, case: CaseToSchedule, session: int, levels: tuple[str, ...], treated: dt.date | None
) -> dict[str, int]:
    """Return the day-dependent quantities of one session treated on ``treated`` (None: not in the plan)."""
    ready = ready_date(instance, case, session)
    when = treated if treated is not None else instance.end + dt.timedelta(days=1)
    acute = age = 0
    for level in levels:
        onset = case.onset_of(level)
        at_ready, at_treatment = (ready - onset).days, (when - onset).days
        acute += at_ready < ACUTE_DAYS <= at_treatment
        age += max(0, min(at_treatment, UNHEALED_DAYS) - min(at_ready, UNHEALED_DAYS))
    delay = max(0, (when - ready).days) if session == 0 else 0
    return {
        "acute_missed": acute,
        "fracture_age": age,
        "waiting": delay,
        "bed_days": delay if case.inpatient else 0,
        "unscheduled": int(treated is None),
    }


def room_close(instance: Instance, room_id: str, date: dt.date) -> dt.datetime | None:
    """Return the regular closing time of a room on a date, or None when it is closed that weekday."""
    room = next(r for r in instance.rooms if r.id == room_id)
    span = room.hours.on(date)
    return None if span is None else dt.datetime.combine(date, span.close)


def overtime_minutes(instance: Instance, session: PlannedSession) -> int:
    """Return the minutes of a planned procedure after its room's regular closing time."""
    close = room_close(instance, session.room, session.date)
    if close is None:
        return int((session.end - session.start).total_seconds() // 60)
    return max(0, int((session.end - max(session.start, close)).total_seconds() // 60))


def move_term(instance: Instance, booked_start: dt.datetime) -> str:
    """Return which move term applies to a booking: ``moved_within_48h`` when it is less than 48 h away."""
    near = booked_start - instance.now_or_start < dt.timedelta(hours=NEAR_HOURS)
    return "moved_within_48h" if near else "moved"


def terms_of(quantities: Mapping[str, int], weights: Weights) -> Objective:
    """Return the objective with its terms from total quantities per term."""
    coef = coefficients(weights)
    terms = [
        Term(
            name=term,
            quantity=quantities.get(term, 0),
            unit=UNITS[term],
            weight=getattr(weights, term),
            points=coef[term] * quantities.get(term, 0) / SCALE,
        )
        for term in TERMS
    ]
    total = sum(coef[term] * quantities.get(term, 0) for term in TERMS)
    return Objective(total=total / SCALE, terms=terms)


def objective_of(instance: Instance, sessions: Iterable[PlannedSession]) -> Objective:
    """Return the objective of a plan's sessions, computed from the instance alone (used by the checker)."""
    planned = {(s.case, s.session): s for s in sessions}
    totals = dict.fromkeys(TERMS, 0)
    policy = instance.clinic_policy
    for case in instance.cases:
        for index, levels in enumerate(session_levels(case, policy)):
            booking = planned.get((case.id, index))
            quantities = session_quantities(instance, case, index, levels, None if booking is None else booking.date)
            for term, value in quantities.items():
                totals[term] += value
            if booking is not None:
                totals["overtime"] += overtime_minutes(instance, booking)
        for booked in case.booked:
            now_planned = planned.get((case.id, booked.session))
            if now_planned is None or now_planned.start != booked.start:
                totals[move_term(instance, booked.start)] += 1
    return terms_of(totals, instance.weights)
