"""The earliest safe procedure start for a case at a given moment: every hold completable, fasting and labs in time.

A procedure may only be booked at a start from which the patient can still follow every instruction of the
preparation plan (rule ``booking.feasible_start``):

* a hold of N whole days (ASRA 2018 high-risk table) puts the last dose on the day N+1 days before the
  procedure day; that day must be *after* the booking day in the clinic's time zone, because the usual
  dose times on a day are not recorded (a twice-daily DOAC's evening dose may already be taken or due);
* a hold counted in hours (heparins) puts the last dose N hours before the start; that moment must not be
  past at booking time (elapsed time, right across a clock change);
* a medicine whose plan has no date yet (a decision with the prescriber outstanding, or a medicine to
  check with the prescriber) makes no start feasible until the decision is recorded;
* before sedation, the first fasting limit (ASA 2017) must not be past at booking time;
* labs still to take (INR, platelets) are taken the day before at the earliest: not before tomorrow.

Every moment is timezone-aware; dates are the clinic's local dates (``zone``; None means the machine's
local zone, which is the zone the calendar is kept in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from vertebro.clinical.facts import Case
from vertebro.clinical.findings import case_findings
from vertebro.clinical.medications import HoldAction, medication_holds
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.preparation import R_FASTING, R_LABS, Status, preparation_plan
from vertebro.clinical.rules import Rule, rule

R_FEASIBLE_START = rule(
    "booking.feasible_start",
    "A procedure start is offered and booked only when every medication hold can still be completed before "
    "it: a last dose on a calendar day falls after the booking day in the clinic's time zone, a last dose "
    "counted in hours is not yet past, and a medicine awaiting the prescriber's decision has no bookable "
    "start until the decision is recorded.",
    "asra-2018",
    "local-policy",
)

ConstraintKind = Literal["hold", "decision", "fasting", "labs"]
# A reference start for reading the plan's intervals (fasting limits) off a dated plan.
_REFERENCE_START = dt.datetime(2001, 1, 1, 8, 0)


@dataclass(frozen=True, slots=True)
class StartConstraint:
    """One thing that keeps the procedure from starting earlier than ``not_before`` (None: not bookable)."""

    kind: ConstraintKind
    subject: str  # the drug, or the preparation step
    reason: str
    not_before: dt.datetime | None  # aware; None until a decision is recorded
    rule: Rule


@dataclass(frozen=True, slots=True)
class Feasibility:
    """The constraints on a case's procedure start at one moment, and the earliest start they allow."""

    now: dt.datetime
    zone: dt.tzinfo | None
    constraints: tuple[StartConstraint, ...]

    @property
    def bookable(self) -> bool:
        """False while any constraint has no date (a decision is outstanding)."""
        return all(c.not_before is not None for c in self.constraints)

    @property
    def earliest(self) -> dt.datetime | None:
        """The earliest start every constraint allows (``now`` when nothing constrains), or None if none does."""
        if not self.bookable:
            return None
        return max([self.now, *(c.not_before for c in self.constraints if c.not_before is not None)])

    def refusals(self, start: dt.datetime) -> tuple[str, ...]:
        """Return, in plain words, why ``start`` cannot be booked: each drug or step with its earliest date."""
        if start.tzinfo is None:
            raise ValueError("a procedure start must be timezone-aware")
        out: list[str] = []
        start = start.astimezone(dt.UTC)
        if start < self.now:
            out.append("this time is already past")
        for c in self.constraints:
            if c.not_before is None:
                out.append(f"{c.subject}: {c.reason}; no date can be booked until it is recorded")
            elif start < c.not_before:
                out.append(f"{c.subject}: {c.reason}; earliest possible start {self.describe(c.not_before)}")
        return tuple(out)

    def allows(self, start: dt.datetime) -> bool:
        """True when ``start`` breaks no constraint."""
        return not self.refusals(start)

    def local(self, moment: dt.datetime) -> dt.datetime:
        """Return a moment in the clinic's time zone."""
        return moment.astimezone(self.zone)

    def describe(self, moment: dt.datetime) -> str:
        """Return a moment as the clinic reads it: 'Friday 11 December 2026' (with the time unless midnight)."""
        local = self.local(moment)
        day = f"{local:%A} {local.day} {local:%B %Y}"
        return day if local.time() == dt.time(0) else f"{day}, {local:%H:%M}"


def _local_midnight(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    if zone is None:
        return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)  # no zone given: UTC, never the server's
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def start_feasibility(case: Case, policy: ClinicPolicy, now: dt.datetime, zone: dt.tzinfo | None = None) -> Feasibility:
    """Return the constraints on the case's procedure start at ``now`` (rule booking.feasible_start).

    ``now`` must be timezone-aware. The hold intervals are the clinical core's (ASRA 2018 or PAUSE as the
    policy says); ``Feasibility.earliest`` is the earliest start, ``Feasibility.refusals`` why a start fails.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(dt.UTC)  # hours are elapsed time: aware arithmetic in a local zone is wall-clock
    today = now.astimezone(zone or dt.UTC).date()
    constraints: list[StartConstraint] = []
    holds = medication_holds(case, policy, None, None)
    for hold in holds:
        if hold.action is HoldAction.CONTINUE:
            continue
        if hold.action is not HoldAction.HOLD or not (hold.stop_days_before or hold.stop_hours_before):
            why = hold.note or "the prescriber's decision is outstanding"
            constraints.append(StartConstraint("decision", hold.drug, f"no hold date yet ({why})", None, hold.rule))
        elif hold.stop_days_before:
            days = hold.stop_days_before
            # last dose on day -(N+1) must be after today: the procedure day is today + N + 2 at the earliest
            first_day = today + dt.timedelta(days=days + 2)
            reason = f"stop {days} whole days before the procedure day, so the last dose must fall after today"
            constraints.append(StartConstraint("hold", hold.drug, reason, _local_midnight(first_day, zone), hold.rule))
        elif hold.stop_hours_before:
            hours = hold.stop_hours_before
            reason = f"the last dose {hours} hours before the start must not be past"
            constraints.append(StartConstraint("hold", hold.drug, reason, now + dt.timedelta(hours=hours), hold.rule))
    plan = preparation_plan(case, case_findings(case), holds, _REFERENCE_START, policy)
    fasting = [_REFERENCE_START - item.due for item in plan.items if item.kind == "fasting" and item.due is not None]
    if fasting:
        longest = max(fasting)
        constraints.append(
            StartConstraint(
                "fasting",
                "fasting before sedation",
                f"the first fasting limit ({longest.total_seconds() / 3600:g} hours before the start) must not be past",
                now + longest,
                R_FASTING,
            )
        )
    labs = [item.instruction for item in plan.items if item.kind == "lab" and item.status is Status.NEEDED]
    if labs:
        tomorrow = _local_midnight(today + dt.timedelta(days=1), zone)
        constraints.append(
            StartConstraint(
                "labs", "labs", f"still to take: {', '.join(labs)} (not on the day itself)", tomorrow, R_LABS
            )
        )
    return Feasibility(now=now, zone=zone, constraints=tuple(constraints))
