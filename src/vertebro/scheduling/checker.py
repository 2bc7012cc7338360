"""The independent checker: does a plan respect every hard constraint of its instance?

It reads the instance and the plan only: calendars, durations (from the clinical core, as the clinic
defines them) and bookings are re-derived here, not taken from the planners' problem, so a modelling
mistake in the planners shows up as a violation. Used by the tests, the benchmark and ``vertebro
schedule solve --check``. Only the objective is recomputed with the planners' own definition
(:func:`vertebro.scheduling.placement.quantities_of`), to confirm the reported figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from vertebro.scheduling.instance import (
    CaseToSchedule,
    Closure,
    Instance,
    WeeklyHours,
    session_levels,
    session_minutes,
)
from vertebro.scheduling.occupancy import Slot
from vertebro.scheduling.placement import objective_from, quantities_of
from vertebro.scheduling.plan import Plan, PlannedSession
from vertebro.scheduling.problem import problem_of


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint: its name and what is wrong, naming the case and session."""

    constraint: str
    message: str

    def __str__(self) -> str:
        return f"{self.constraint}: {self.message}"


def _within(hours: WeeklyHours, start: dt.datetime, end: dt.datetime, extra_minutes: int = 0) -> bool:
    span = hours.on(start.date())
    if span is None or (end.date() != start.date() and end.time() != dt.time(0, 0)):
        return False
    opening = dt.datetime.combine(start.date(), span.open)
    closing = dt.datetime.combine(start.date(), span.close) + dt.timedelta(minutes=extra_minutes)
    return opening <= start and end <= closing


def _blocked(closures: Iterable[Closure], start: dt.datetime, end: dt.datetime) -> Closure | None:
    return next((c for c in closures if c.start < end and start < c.end), None)


def _overlapping(items: Sequence[tuple[dt.datetime, dt.datetime, str]]) -> list[tuple[str, str]]:
    ordered = sorted(items)
    return [(a[2], b[2]) for a, b in pairwise(ordered) if b[0] < a[1]]


def _name(s: PlannedSession) -> str:
    return f"case {s.case} session {s.session}"


class _Check:
    def __init__(self, instance: Instance, plan: Plan) -> None:
        self.instance = instance
        self.plan = plan
        self.found: list[Violation] = []
        self.cases = {c.id: c for c in instance.cases}
        self.rooms = {r.id: r for r in instance.rooms}
        self.radiologists = {r.id: r for r in instance.radiologists}
        self.nurses = {n.id: n for n in instance.nurses}
        self.policy = instance.clinic_policy
        self.now = instance.now_or_start

    def add(self, constraint: str, message: str) -> None:
        self.found.append(Violation(constraint, message))

    def run(self) -> list[Violation]:
        valid = [s for s in self.plan.sessions if self._identity(s)]
        self._accounting(valid)
        for s in valid:
            self._session(s, self.cases[s.case])
        self._overlaps(valid)
        self._bays(valid)
        self._staging(valid)
        if self.plan.status not in ("infeasible", "no_solution"):
            self._mandatory_and_frozen(valid)
            self._objective()
        return self.found

    def _identity(self, s: PlannedSession) -> bool:
        case = self.cases.get(s.case)
        if case is None:
            self.add("known_session", f"{_name(s)}: no such case")
            return False
        sessions = session_levels(case, self.policy)
        if not 0 <= s.session < len(sessions):
            self.add("known_session", f"{_name(s)}: the case has {len(sessions)} session(s)")
            return False
        if tuple(s.levels) != sessions[s.session]:
            self.add(
                "known_session", f"{_name(s)}: levels {s.levels} are not the session's {list(sessions[s.session])}"
            )
        if s.room not in self.rooms or s.radiologist not in self.radiologists:
            self.add("known_resource", f"{_name(s)}: unknown room {s.room!r} or radiologist {s.radiologist!r}")
            return False
        if s.nurse is not None and s.nurse not in self.nurses:
            self.add("known_resource", f"{_name(s)}: unknown nurse {s.nurse!r}")
            return False
        return True

    def _accounting(self, valid: list[PlannedSession]) -> None:
        planned = [(s.case, s.session) for s in valid]
        left = [(u.case, u.session) for u in self.plan.unscheduled]
        for key in {k for k in planned if planned.count(k) > 1}:
            self.add("planned_once", f"case {key[0]} session {key[1]} is planned more than once")
        every = {(c.id, i) for c in self.instance.cases for i in range(len(session_levels(c, self.policy)))}
        missing = every - set(planned) - set(left)
        both = set(planned) & set(left)
        for case, index in sorted(missing):
            self.add("accounted", f"case {case} session {index} is neither planned nor listed as unscheduled")
        for case, index in sorted(both):
            self.add("accounted", f"case {case} session {index} is both planned and unscheduled")

    def _session(self, s: PlannedSession, case: CaseToSchedule) -> None:
        instance = self.instance
        minutes, monitoring = session_minutes(len(s.levels), case.sedation, self.policy)
        if s.end - s.start != dt.timedelta(minutes=minutes):
            self.add("duration", f"{_name(s)}: {s.start:%H:%M}-{s.end:%H:%M} is not the {minutes} min it takes")
        if s.monitoring_start != s.end or s.monitoring_end - s.monitoring_start != dt.timedelta(minutes=monitoring):
            self.add("monitoring", f"{_name(s)}: monitoring must start at the end and last {monitoring} min")
        if s.start.date() != s.date or not (instance.start <= s.date <= instance.end):
            self.add("horizon", f"{_name(s)}: {s.start:%Y-%m-%d} is not its date or is outside the horizon")
        booked = next((b for b in case.booked if b.session == s.session), None)
        frozen = booked is not None and booked.start < self.now and booked.start == s.start
        if s.start < self.now and not frozen:
            self.add("after_now", f"{_name(s)}: starts {s.start:%Y-%m-%d %H:%M}, before the planning moment")
        ready = max([case.referred, *(nb.date for nb in case.not_before)])
        if s.session == 0 and s.date < ready and not frozen:
            self.add("ready", f"{_name(s)}: {s.date} is before the case is ready ({ready})")
        if case.latest is not None and s.date > case.latest and not frozen:
            self.add("latest", f"{_name(s)}: {s.date} is after the latest useful date {case.latest}")
        if s.date in case.unavailable or s.date in instance.holidays:
            self.add("availability", f"{_name(s)}: the patient or the service is unavailable on {s.date}")
        self._room(s, case)
        self._staff(s, case)
        if not _within(instance.recovery.hours, s.monitoring_start, s.monitoring_end):
            self.add(
                "recovery_hours", f"{_name(s)}: monitoring until {s.monitoring_end:%H:%M} is outside recovery hours"
            )
        if _blocked(instance.recovery.closed, s.monitoring_start, s.monitoring_end):
            self.add("recovery_hours", f"{_name(s)}: monitoring falls in a recovery-area closure")

    def _room(self, s: PlannedSession, case: CaseToSchedule) -> None:
        room = self.rooms[s.room]
        if room.kind not in case.room_kinds:
            self.add("room_kind", f"{_name(s)}: needs {' or '.join(case.room_kinds)}, {room.id} is {room.kind}")
        span = room.hours.on(s.date)
        regular_close = None if span is None else dt.datetime.combine(s.date, span.close)
        if not _within(room.hours, s.start, s.end, room.max_overtime_minutes) or (
            regular_close is not None and s.start >= regular_close
        ):
            self.add("room_hours", f"{_name(s)}: {s.start:%H:%M}-{s.end:%H:%M} is outside {room.id}'s hours")
        if closure := _blocked(room.closed, s.start, s.end):
            self.add("room_closed", f"{_name(s)}: {room.id} is closed ({closure.reason or 'blocked'})")

    def _staff(self, s: PlannedSession, case: CaseToSchedule) -> None:
        rad = self.radiologists[s.radiologist]
        if s.room not in rad.rooms:
            self.add("radiologist_room", f"{_name(s)}: {rad.id} does not work in {s.room}")
        if not _within(rad.hours, s.start, s.end) or _blocked(rad.absent, s.start, s.end):
            self.add("radiologist_hours", f"{_name(s)}: {rad.id} is not available {s.start:%Y-%m-%d %H:%M}")
        if case.sedation and s.nurse is None:
            self.add("sedation_nurse", f"{_name(s)}: a sedated procedure needs a sedation nurse")
        if not case.sedation and s.nurse is not None:
            self.add("sedation_nurse", f"{_name(s)}: the procedure is not sedated but has a nurse")
        if s.nurse is not None:
            nurse = self.nurses[s.nurse]
            if not _within(nurse.hours, s.start, s.end) or _blocked(nurse.absent, s.start, s.end):
                self.add("nurse_hours", f"{_name(s)}: {nurse.id} is not available {s.start:%Y-%m-%d %H:%M}")

    def _overlaps(self, valid: list[PlannedSession]) -> None:
        for kind, key in (("room", "room"), ("radiologist", "radiologist"), ("nurse", "nurse")):
            by: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
            for s in valid:
                who = getattr(s, key)
                if who is not None:
                    by[who].append((s.start, s.end, _name(s)))
            for who, items in by.items():
                for a, b in _overlapping(items):
                    self.add(f"{kind}_overlap", f"{a} and {b} overlap in {kind} {who}")

    def _bays(self, valid: list[PlannedSession]) -> None:
        by_day: dict[dt.date, list[PlannedSession]] = defaultdict(list)
        for s in valid:
            by_day[s.date].append(s)
        for date, sessions in by_day.items():
            bays = self.instance.recovery.bays_on_date(date)
            events = sorted(
                [(s.monitoring_start, 1) for s in sessions] + [(s.monitoring_end, -1) for s in sessions],
                key=lambda e: (e[0], e[1]),
            )
            count = 0
            for moment, change in events:
                count += change
                if count > bays:
                    self.add("recovery_bays", f"{count} patients in {bays} bays at {moment:%Y-%m-%d %H:%M}")
                    break
            by_bay: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
            for s in sessions:
                if s.bay > bays:
                    self.add("recovery_bays", f"{_name(s)}: bay {s.bay} of {bays} on {date}")
                by_bay[s.bay].append((s.monitoring_start, s.monitoring_end, _name(s)))
            for bay, items in by_bay.items():
                for a, b in _overlapping(items):
                    self.add("recovery_bays", f"{a} and {b} share bay {bay}")

    def _staging(self, valid: list[PlannedSession]) -> None:
        dates = {(s.case, s.session): s.date for s in valid}
        gap = self.instance.policy.min_days_between_stages
        for (case, index), date in dates.items():
            if index == 0:
                continue
            before = dates.get((case, index - 1))
            if before is None:
                self.add("staging", f"case {case} session {index} is planned but session {index - 1} is not")
            elif (date - before).days < gap:
                self.add("staging", f"case {case} session {index} is {(date - before).days} days after the previous")

    def _mandatory_and_frozen(self, valid: list[PlannedSession]) -> None:
        planned = {(s.case, s.session): s for s in valid}
        for case in self.instance.cases:
            if case.mandatory and (case.id, 0) not in planned:
                self.add("mandatory", f"case {case.id} is mandatory but not planned")
            for booked in case.booked:
                if booked.start >= self.now:
                    continue
                s = planned.get((case.id, booked.session))
                if s is None or (s.start, s.room, s.radiologist, s.nurse) != (
                    booked.start,
                    booked.room,
                    booked.radiologist,
                    booked.nurse,
                ):
                    self.add("frozen", f"case {case.id} session {booked.session} started already and must not change")

    def _objective(self) -> None:
        problem = problem_of(self.instance)
        index = {(d.case, d.index): i for i, d in enumerate(problem.sessions)}
        placement = {}
        for s in self.plan.sessions:
            i = index.get((s.case, s.session))
            if i is not None:
                day = (s.date - self.instance.start).days
                minute = day * 1440 + s.start.hour * 60 + s.start.minute
                placement[i] = Slot(day, minute, s.room, s.radiologist, s.nurse)
        expected = objective_from(problem, quantities_of(problem, placement))
        if abs(expected.total - self.plan.objective.total) > 1e-6:
            self.add("objective", f"reported {self.plan.objective.total}, recomputed {expected.total}")


def violations(instance: Instance, plan: Plan) -> list[Violation]:
    """Return every hard constraint the plan breaks (an empty list: the plan is valid)."""
    return _Check(instance, plan).run()
