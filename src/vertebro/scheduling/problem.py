"""The planners' input: an instance turned into minutes, calendars, sessions and cost tables.

Time is counted in minutes from 00:00 on the horizon's first day. Every session of every case becomes a
:class:`Demand` with its room and monitoring minutes (from the clinical core), the days on which it
could be done at all, and per term the quantity it costs on each of those days. A session that cannot
be done on any day carries the reason (``excluded``) and is never offered to a planner.

The CP-SAT model, the first-come-first-served planner and the explanations all read this value; the
independent checker does not (it reads the instance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vertebro.scheduling.instance import (
    CaseToSchedule,
    Closure,
    Instance,
    NotBefore,
    Span,
    WeeklyHours,
    session_levels,
    session_minutes,
)
from vertebro.scheduling.objective import (
    TERMS,
    UNITS,
    coefficients,
    move_term,
    ready_date,
    session_quantities,
)
from vertebro.scheduling.plan import Reason

DAY = 1440


@dataclass(frozen=True, slots=True)
class Window:
    """One day's opening, in minutes from the horizon start: ``open`` to ``close`` (regular), ``limit`` (latest end)."""

    open: int
    close: int
    limit: int


@dataclass(frozen=True, slots=True)
class Resource:
    """A room, radiologist or nurse: a window per day (None: closed or absent) and blocked periods."""

    id: str
    windows: tuple[Window | None, ...]
    blocked: tuple[tuple[int, int], ...]
    rooms: frozenset[str] | None = None
    kind: str = ""

    def can_work_in(self, room: str) -> bool:
        """Return True when this staff member may work in ``room`` (rooms themselves: only in themselves)."""
        return self.rooms is None or room in self.rooms


@dataclass(frozen=True, slots=True)
class RecoveryArea:
    """The recovery bays: a window and a bay count per day, and periods when the area is closed."""

    windows: tuple[Window | None, ...]
    bays: tuple[int, ...]
    blocked: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Booking:
    """A session's current appointment; ``frozen`` when it started before the planning moment."""

    day: int
    start: int
    room: str
    radiologist: str
    nurse: str | None
    frozen: bool
    move_term: str


@dataclass(frozen=True, slots=True)
class Demand:
    """One session to place, the days it may go on, and its cost quantities per day."""

    case: str
    index: int
    levels: tuple[str, ...]
    referred: dt.date
    minutes: int
    monitoring: int
    sedation: bool
    rooms: tuple[str, ...]
    days: tuple[int, ...]
    earliest: int
    previous: int | None
    gap_days: int
    mandatory: bool
    booked: Booking | None
    excluded: tuple[Reason, str] | None
    quantities: Mapping[str, tuple[int, ...]]
    radiologists: frozenset[str] | None = None

    def may_work(self, radiologist: str) -> bool:
        """Return True when ``radiologist`` may do this session (None: any who works in its room)."""
        return self.radiologists is None or radiologist in self.radiologists

    def quantity(self, term: str, day: int | None, horizon: int) -> int:
        """Return the quantity of ``term`` when placed on ``day`` (None: left out)."""
        return self.quantities[term][horizon if day is None else day]


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything a planner needs, in minutes and integers."""

    name: str
    start: dt.date
    days: int
    granularity: int
    now: int
    rooms: tuple[Resource, ...]
    radiologists: tuple[Resource, ...]
    nurses: tuple[Resource, ...]
    recovery: RecoveryArea
    sessions: tuple[Demand, ...]
    terms: tuple[str, ...]
    units: Mapping[str, str]
    weights: Mapping[str, float]
    coefficients: Mapping[str, int]
    room_day_term: str | None = None

    def room(self, room_id: str) -> Resource:
        """Return the room with this id."""
        return next(r for r in self.rooms if r.id == room_id)

    def date(self, day: int) -> dt.date:
        """Return the date of a horizon day."""
        return self.start + dt.timedelta(days=day)

    def moment(self, minute: int) -> dt.datetime:
        """Return the local date and time of a minute from the horizon start."""
        return dt.datetime.combine(self.start, dt.time(0, 0)) + dt.timedelta(minutes=minute)


def _minute(start: dt.date, moment: dt.datetime) -> int:
    return int((moment - dt.datetime.combine(start, dt.time(0, 0))).total_seconds() // 60)


def _ceil(value: int, g: int) -> int:
    return -(-value // g) * g


def _blocked(start: dt.date, days: int, closures: Sequence[Closure], g: int) -> tuple[tuple[int, int], ...]:
    spans = []
    for c in closures:
        a, b = max(0, _minute(start, c.start) // g * g), min(days * DAY, _ceil(_minute(start, c.end), g))
        if a < b:
            spans.append((a, b))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


def _windows(
    instance: Instance, hours: WeeklyHours, blocked: tuple[tuple[int, int], ...], overtime: int = 0
) -> tuple[Window | None, ...]:
    g = instance.granularity_minutes
    holidays = set(instance.holidays)
    result: list[Window | None] = []
    for day, date in enumerate(instance.dates()):
        span: Span | None = hours.on(date)
        if span is None or date in holidays:
            result.append(None)
            continue
        open_m, close_m = span.minutes()
        w = Window(
            day * DAY + _ceil(open_m, g), day * DAY + close_m // g * g, day * DAY + (close_m + overtime) // g * g
        )
        covered = any(a <= w.open and b >= w.limit for a, b in blocked)
        result.append(None if covered or w.close <= w.open else w)
    return tuple(result)


def _resources(instance: Instance) -> tuple[tuple[Resource, ...], tuple[Resource, ...], tuple[Resource, ...]]:
    g, start, days = instance.granularity_minutes, instance.start, instance.days
    rooms = []
    for room in instance.rooms:
        blocked = _blocked(start, days, room.closed, g)
        rooms.append(
            Resource(
                room.id, _windows(instance, room.hours, blocked, room.max_overtime_minutes), blocked, kind=room.kind
            )
        )
    radiologists = []
    for rad in instance.radiologists:
        blocked = _blocked(start, days, rad.absent, g)
        radiologists.append(Resource(rad.id, _windows(instance, rad.hours, blocked), blocked, frozenset(rad.rooms)))
    nurses = []
    for nurse in instance.nurses:
        blocked = _blocked(start, days, nurse.absent, g)
        nurses.append(Resource(nurse.id, _windows(instance, nurse.hours, blocked), blocked))
    return tuple(rooms), tuple(radiologists), tuple(nurses)


def _recovery(instance: Instance) -> RecoveryArea:
    g = instance.granularity_minutes
    blocked = _blocked(instance.start, instance.days, instance.recovery.closed, g)
    windows = _windows(instance, instance.recovery.hours, blocked)
    bays = tuple(instance.recovery.bays_on_date(date) for date in instance.dates())
    return RecoveryArea(
        tuple(w if w is not None and b > 0 else None for w, b in zip(windows, bays, strict=True)), bays, blocked
    )


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return max(a[0], b[0]), min(a[1], b[1])


def start_range(
    room: Window, radiologist: Window, nurse: Window | None, recovery: Window, minutes: int, monitoring: int
) -> tuple[int, int]:
    """Return the range of start minutes a session may take on one day with these windows (may be empty).

    A procedure starts before the room's regular closing time and ends by its overtime limit, within the
    radiologist's (and sedation nurse's) hours; monitoring starts when it ends and ends before the
    recovery area closes.
    """
    lo, hi = room.open, min(room.close - 1, room.limit - minutes)
    lo, hi = _intersect((lo, hi), (radiologist.open, radiologist.close - minutes))
    if nurse is not None:
        lo, hi = _intersect((lo, hi), (nurse.open, nurse.close - minutes))
    return _intersect((lo, hi), (recovery.open - minutes, recovery.close - minutes - monitoring))


def _feasible_on(
    day: int, demand_rooms: Sequence[Resource], rads: Sequence[Resource], nurses: Sequence[Resource] | None,
    recovery: RecoveryArea, minutes: int, monitoring: int, earliest: int,
) -> bool:  # fmt: skip
    rec = recovery.windows[day]
    if rec is None:
        return False
    for room in demand_rooms:
        rw = room.windows[day]
        if rw is None:
            continue
        for rad in rads:
            dw = rad.windows[day]
            if dw is None or not rad.can_work_in(room.id):
                continue
            for nurse in nurses if nurses is not None else [None]:
                nw = None if nurse is None else nurse.windows[day]
                if nurse is not None and nw is None:
                    continue
                lo, hi = start_range(rw, dw, nw, rec, minutes, monitoring)
                if max(lo, earliest) <= hi:
                    return True
    return False


def _binding(items: Sequence[NotBefore], when: dt.date) -> NotBefore | None:
    return next((nb for nb in sorted(items, key=lambda nb: nb.date, reverse=True) if nb.date == when), None)


def _not_ready_reason(case: CaseToSchedule, ready: dt.date) -> tuple[Reason, str]:
    binding = _binding(case.not_before, ready)
    if binding is None:
        return Reason.NOT_READY, f"referred on {case.referred}, ready on {ready}"
    code = Reason.HOLD_NOT_FINISHED if binding.kind == "hold" else Reason.NOT_READY
    return code, f"{binding.kind}: {binding.reason} (not before {binding.date})"


@dataclass(frozen=True, slots=True)
class _Calendars:
    instance: Instance
    rooms: tuple[Resource, ...]
    radiologists: tuple[Resource, ...]
    nurses: tuple[Resource, ...]
    recovery: RecoveryArea
    now: int

    def day(self, date: dt.date) -> int:
        return (date - self.instance.start).days

    def date(self, day: int) -> dt.date:
        return self.instance.start + dt.timedelta(days=day)


def _possible_days(
    cal: _Calendars, case: CaseToSchedule, index: int, minutes: int, monitoring: int
) -> tuple[tuple[int, ...], tuple[Reason, str] | None]:
    """Return the days a session could go on, ignoring other sessions, or why there are none."""
    instance = cal.instance
    rooms = [r for r in cal.rooms if r.kind in case.room_kinds]
    if not rooms:
        return (), (
            Reason.NO_COMPATIBLE_RESOURCE,
            f"needs a {' or '.join(case.room_kinds)} room; the instance has none",
        )
    first_ready, ready = ready_date(instance, case, 0), ready_date(instance, case, index)
    first = max(cal.day(ready), cal.now // DAY)
    last = min(instance.days - 1, cal.day(case.latest) if case.latest else instance.days - 1)
    if first > last:
        if index and first_ready <= min(instance.end, case.latest or instance.end):
            gap = instance.policy.min_days_between_stages
            return (), (
                Reason.STAGE_GAP,
                f"session {index} comes {gap} days after the previous one: not before {ready}",
            )
        if first > instance.days - 1:
            code, why = _not_ready_reason(case, first_ready)
            return (), (code, f"{why}; the plan ends on {instance.end}")
        return (), (
            Reason.AFTER_LATEST_DATE,
            f"latest useful date {case.latest} is before the first possible date {ready}",
        )
    span = f"{cal.date(first)} to {cal.date(last)}"
    working = [d for d in range(first, last + 1) if any(r.windows[d] is not None for r in rooms)]
    if not working:
        code, why = _not_ready_reason(case, first_ready)
        return (), (code, f"{why}; no working day from then to {cal.date(last)}")
    unavailable = set(case.unavailable)
    candidates = [d for d in working if cal.date(d) not in unavailable]
    if not candidates:
        return (), (Reason.PATIENT_UNAVAILABLE, f"the patient is unavailable on every working day {span}")
    nurses = cal.nurses if case.sedation else None
    feasible = tuple(
        d
        for d in candidates
        if _feasible_on(d, rooms, cal.radiologists, nurses, cal.recovery, minutes, monitoring, cal.now)
    )
    if feasible:
        return feasible, None
    nurse = ", a sedation nurse" if case.sedation else ""
    return (), (
        Reason.NO_COMPATIBLE_RESOURCE,
        f"no day {span} with a {' or '.join(case.room_kinds)} room, a radiologist for it{nurse} and the recovery "
        f"area available for {minutes} min of procedure and {monitoring} min of monitoring",
    )


def _quantities(
    instance: Instance, case: CaseToSchedule, index: int, levels: tuple[str, ...]
) -> dict[str, tuple[int, ...]]:
    """Return per term the quantity on each horizon day, then when left out (the last entry)."""
    columns: dict[str, list[int]] = {}
    for day in range(instance.days + 1):
        date = None if day == instance.days else instance.start + dt.timedelta(days=day)
        for term, value in session_quantities(instance, case, index, levels, date).items():
            columns.setdefault(term, []).append(value)
    return {term: tuple(values) for term, values in columns.items()}


def _booking(instance: Instance, case: CaseToSchedule, index: int, now: int) -> Booking | None:
    booked = next((b for b in case.booked if b.session == index), None)
    if booked is None:
        return None
    start = _minute(instance.start, booked.start)
    return Booking(
        start // DAY,
        start,
        booked.room,
        booked.radiologist,
        booked.nurse,
        start < now,
        move_term(instance, booked.start),
    )


def problem_of(instance: Instance) -> Problem:
    """Return the planners' view of an instance: calendars in minutes, sessions, days and cost tables."""
    g = instance.granularity_minutes
    rooms, radiologists, nurses = _resources(instance)
    now = _ceil(_minute(instance.start, instance.now_or_start), g)
    cal = _Calendars(instance, rooms, radiologists, nurses, _recovery(instance), now)
    policy = instance.clinic_policy
    demands: list[Demand] = []
    for case in instance.cases:
        for index, levels in enumerate(session_levels(case, policy)):
            minutes, monitoring = session_minutes(len(levels), case.sedation, policy)
            booking = _booking(instance, case, index, now)
            previous = len(demands) - 1 if index else None
            days: tuple[int, ...] = ()
            excluded: tuple[Reason, str] | None = None
            if booking is not None and booking.frozen:
                days = (booking.day,)
            elif previous is not None and demands[previous].excluded is not None:
                excluded = (Reason.PREVIOUS_STAGE_UNSCHEDULED, f"session {index - 1} of the case cannot be planned")
            else:
                days, excluded = _possible_days(cal, case, index, minutes, monitoring)
            demands.append(
                Demand(
                    case=case.id,
                    index=index,
                    levels=levels,
                    referred=case.referred,
                    minutes=minutes,
                    monitoring=monitoring,
                    sedation=case.sedation,
                    rooms=tuple(r.id for r in rooms if r.kind in case.room_kinds),
                    days=days,
                    earliest=now,
                    previous=previous,
                    gap_days=instance.policy.min_days_between_stages,
                    mandatory=case.mandatory and index == 0,
                    booked=booking,
                    excluded=excluded,
                    quantities=_quantities(instance, case, index, levels),
                )
            )
    return Problem(
        name=instance.name,
        start=instance.start,
        days=instance.days,
        granularity=g,
        now=now,
        rooms=rooms,
        radiologists=radiologists,
        nurses=nurses,
        recovery=cal.recovery,
        sessions=tuple(demands),
        terms=TERMS,
        units=UNITS,
        weights={term: float(getattr(instance.weights, term)) for term in TERMS},
        coefficients=dict(coefficients(instance.weights).by_term),
    )
