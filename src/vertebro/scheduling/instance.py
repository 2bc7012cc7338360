"""The scheduling instance: what a planner is given, as strict, immutable pydantic models.

An instance is a JSON document (format ``vertebro-schedule-instance/1``, every field described in
``docs/scheduling.md``): a horizon of days, the rooms, interventional radiologists, sedation nurses and
recovery bays with their calendars, and the eligible cases with their levels, fracture onset dates,
earliest and latest useful dates and, when re-planning, their current bookings.

Every problem with a file is reported with the JSON path of the offending value, e.g.
``cases[3].booked[0].room: unknown room 'fluoro-9'`` (:func:`read_instance`).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vertebro.clinical.levels import level_error, level_index
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.clinical.procedure import room_minutes
from vertebro.clinical.recommendation import sessions_of
from vertebro.clinical.recovery import monitoring_minutes
from vertebro.clinical.validation import validation_problems

FORMAT: Literal["vertebro-schedule-instance/1"] = "vertebro-schedule-instance/1"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
RoomKind = Literal["fluoroscopy", "ct"]
ROOM_KINDS: tuple[RoomKind, ...] = ("fluoroscopy", "ct")
NotBeforeKind = Literal["hold", "labs", "imaging", "patient", "other"]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=300)]
Points = Annotated[float, Field(ge=0, le=100_000)]


class Strict(BaseModel):
    """Base of every instance model: strict types, immutable, no unknown fields."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class Span(Strict):
    """A daily opening window, e.g. 08:00 to 17:00 (``close`` after ``open``, same day)."""

    open: dt.time
    close: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.close <= self.open:
            raise ValueError(f"close: {self.close:%H:%M} is not after open {self.open:%H:%M}")
        return self

    def minutes(self) -> tuple[int, int]:
        """Return (open, close) in minutes after midnight."""
        return self.open.hour * 60 + self.open.minute, self.close.hour * 60 + self.close.minute


class WeeklyHours(Strict):
    """Regular hours per weekday; a weekday that is absent (or null) is closed."""

    mon: Span | None = None
    tue: Span | None = None
    wed: Span | None = None
    thu: Span | None = None
    fri: Span | None = None
    sat: Span | None = None
    sun: Span | None = None

    def on(self, date: dt.date) -> Span | None:
        """Return the window on ``date``'s weekday, or None when closed that weekday."""
        span: Span | None = getattr(self, WEEKDAYS[date.weekday()])
        return span


class Closure(Strict):
    """A blocked period (maintenance, a meeting, leave): ``start`` to ``end``, local time."""

    start: dt.datetime
    end: dt.datetime
    reason: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end <= self.start:
            raise ValueError(f"end: {self.end:%Y-%m-%dT%H:%M} is not after start {self.start:%Y-%m-%dT%H:%M}")
        return self


class Room(Strict):
    """A procedure room: its imaging (fluoroscopy or CT), regular hours, overtime allowance, closures."""

    id: Identifier
    kind: RoomKind
    hours: WeeklyHours
    max_overtime_minutes: int = Field(default=0, ge=0, le=240)
    closed: list[Closure] = Field(default_factory=list)


class Radiologist(Strict):
    """An interventional radiologist: the rooms they work in, their hours and absences."""

    id: Identifier
    rooms: list[Identifier] = Field(min_length=1)
    hours: WeeklyHours
    absent: list[Closure] = Field(default_factory=list)


class Nurse(Strict):
    """A sedation nurse, needed for the whole procedure of a sedated patient."""

    id: Identifier
    hours: WeeklyHours
    absent: list[Closure] = Field(default_factory=list)


class Recovery(Strict):
    """The recovery (monitoring) area: bays, opening hours, per-date bay counts and closures."""

    bays: int = Field(ge=1, le=100)
    hours: WeeklyHours
    bays_on: dict[dt.date, Annotated[int, Field(ge=0, le=100)]] = Field(default_factory=dict)
    closed: list[Closure] = Field(default_factory=list)

    def bays_on_date(self, date: dt.date) -> int:
        """Return the number of bays staffed on ``date``."""
        return self.bays_on.get(date, self.bays)


class LevelToTreat(Strict):
    """One fractured level to treat and the date its fracture (pain) began."""

    level: str
    onset: dt.date

    @field_validator("level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        problem = level_error(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class NotBefore(Strict):
    """Why a case cannot be treated before a date: a medication hold, labs, imaging, the patient."""

    date: dt.date
    kind: NotBeforeKind
    reason: Text


class Booked(Strict):
    """An existing appointment for one session of a case (used when re-planning)."""

    session: int = Field(ge=0, le=7)
    start: dt.datetime
    room: Identifier
    radiologist: Identifier
    nurse: Identifier | None = None


class CaseToSchedule(Strict):
    """An eligible case: its levels, sedation, where it can be done and when."""

    id: Identifier
    referred: dt.date
    inpatient: bool = False
    mandatory: bool = False
    levels: list[LevelToTreat] = Field(min_length=1, max_length=24)
    sedation: bool
    room_kinds: list[RoomKind] = Field(default_factory=lambda: list(ROOM_KINDS), min_length=1)
    not_before: list[NotBefore] = Field(default_factory=list)
    latest: dt.date | None = None
    unavailable: list[dt.date] = Field(default_factory=list)
    booked: list[Booked] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CaseToSchedule:
        seen: set[str] = set()
        for i, item in enumerate(self.levels):
            if item.level in seen:
                raise ValueError(f"levels[{i}].level: {item.level} is listed twice")
            seen.add(item.level)
            if item.onset > self.referred:
                raise ValueError(
                    f"levels[{i}].onset: {item.onset} is after the referral date {self.referred}",
                )
        sessions = [b.session for b in self.booked]
        if len(set(sessions)) != len(sessions):
            raise ValueError("booked: a session is booked twice")
        return self

    def levels_in_spinal_order(self) -> tuple[LevelToTreat, ...]:
        """Return the levels from the top of the spine down."""
        return tuple(sorted(self.levels, key=lambda item: level_index(item.level)))

    def onset_of(self, level: str) -> dt.date:
        """Return the onset date of one of the case's levels."""
        return next(item.onset for item in self.levels if item.level == level)


class SchedulingPolicy(Strict):
    """The clinic-policy values the scheduler uses (defaults: :class:`ClinicPolicy`), plus staging."""

    setup_minutes: int = Field(default=DEFAULT_POLICY.setup_minutes, ge=0, le=240)
    minutes_per_level: int = Field(default=DEFAULT_POLICY.minutes_per_level, ge=5, le=240)
    max_levels_per_session: int = Field(default=DEFAULT_POLICY.max_levels_per_session, ge=1, le=6)
    monitoring_base_minutes: int = Field(default=DEFAULT_POLICY.monitoring_base_minutes, ge=0, le=720)
    monitoring_per_extra_level_minutes: int = Field(
        default=DEFAULT_POLICY.monitoring_per_extra_level_minutes, ge=0, le=240
    )
    monitoring_sedation_extra_minutes: int = Field(
        default=DEFAULT_POLICY.monitoring_sedation_extra_minutes, ge=0, le=240
    )
    monitoring_max_minutes: int = Field(default=DEFAULT_POLICY.monitoring_max_minutes, ge=0, le=720)
    min_days_between_stages: int = Field(default=7, ge=1, le=90)

    def clinic_policy(self) -> ClinicPolicy:
        """Return the clinical policy with these values, for the clinical core's duration rules."""
        return ClinicPolicy(
            setup_minutes=self.setup_minutes,
            minutes_per_level=self.minutes_per_level,
            max_levels_per_session=self.max_levels_per_session,
            monitoring_base_minutes=self.monitoring_base_minutes,
            monitoring_per_extra_level_minutes=self.monitoring_per_extra_level_minutes,
            monitoring_sedation_extra_minutes=self.monitoring_sedation_extra_minutes,
            monitoring_max_minutes=self.monitoring_max_minutes,
        )


class Weights(Strict):
    """Objective weights in points per unit (see ``docs/scheduling.md``); a service lead may change them."""

    acute_missed: Points = 30.0
    fracture_age: Points = 1.0
    waiting: Points = 1.0
    bed_days: Points = 3.0
    overtime: Points = 0.5
    unscheduled: Points = 60.0
    moved: Points = 40.0
    moved_within_48h: Points = 150.0

    @model_validator(mode="after")
    def _hundredths(self) -> Weights:
        for name, value in self.model_dump().items():
            if abs(value * 100 - round(value * 100)) > 1e-6:
                raise ValueError(f"{name}: {value} has more than two decimals")
        return self


class Instance(Strict):
    """A scheduling problem: horizon, resources with calendars, cases, policy and weights."""

    format: Literal["vertebro-schedule-instance/1"] = FORMAT
    name: Text
    start: dt.date
    days: int = Field(ge=1, le=120)
    now: dt.datetime | None = None
    granularity_minutes: Literal[5, 10, 15, 20, 30, 60] = 15
    policy: SchedulingPolicy = SchedulingPolicy()
    weights: Weights = Weights()
    holidays: list[dt.date] = Field(default_factory=list)
    rooms: list[Room] = Field(min_length=1)
    radiologists: list[Radiologist] = Field(min_length=1)
    nurses: list[Nurse] = Field(default_factory=list)
    recovery: Recovery
    cases: list[CaseToSchedule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Instance:
        problems = _reference_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def end(self) -> dt.date:
        """The last day of the horizon."""
        return self.start + dt.timedelta(days=self.days - 1)

    @property
    def now_or_start(self) -> dt.datetime:
        """The moment of planning: ``now`` or the start of the first day."""
        return self.now or dt.datetime.combine(self.start, dt.time(0, 0))

    @cached_property
    def clinic_policy(self) -> ClinicPolicy:
        """The clinical policy that gives room and monitoring times."""
        return self.policy.clinic_policy()

    def dates(self) -> list[dt.date]:
        """Return every date of the horizon."""
        return [self.start + dt.timedelta(days=d) for d in range(self.days)]

    def case(self, case_id: str) -> CaseToSchedule:
        """Return the case with this id."""
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)


def session_levels(case: CaseToSchedule, policy: ClinicPolicy) -> tuple[tuple[str, ...], ...]:
    """Return the case's sessions: its levels in spinal order, split by ``max_levels_per_session``."""
    levels = tuple(item.level for item in case.levels_in_spinal_order())
    return sessions_of(levels, policy.max_levels_per_session)


def session_minutes(levels: int, sedation: bool, policy: ClinicPolicy) -> tuple[int, int]:
    """Return (room minutes, monitoring minutes) of one session, from the clinical core."""
    return room_minutes(levels, policy), monitoring_minutes(levels, sedation, policy)


def _duplicates(kind: str, ids: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for i, value in enumerate(ids):
        if value in seen:
            problems.append(f"{kind}[{i}].id: {value!r} is used twice")
        seen.add(value)
    return problems


def _reference_problems(instance: Instance) -> list[str]:
    """Return every cross-reference problem, each starting with its JSON path."""
    problems = _duplicates("rooms", [r.id for r in instance.rooms])
    problems += _duplicates("radiologists", [r.id for r in instance.radiologists])
    problems += _duplicates("nurses", [n.id for n in instance.nurses])
    problems += _duplicates("cases", [c.id for c in instance.cases])
    rooms = {r.id for r in instance.rooms}
    radiologists = {r.id: r for r in instance.radiologists}
    nurses = {n.id for n in instance.nurses}
    g = instance.granularity_minutes
    for i, rad in enumerate(instance.radiologists):
        for j, room in enumerate(rad.rooms):
            if room not in rooms:
                problems.append(f"radiologists[{i}].rooms[{j}]: unknown room {room!r}")
    policy = instance.policy
    for name in (
        "setup_minutes",
        "minutes_per_level",
        "monitoring_base_minutes",
        "monitoring_per_extra_level_minutes",
        "monitoring_sedation_extra_minutes",
        "monitoring_max_minutes",
    ):
        value = getattr(policy, name)
        if value % g:
            problems.append(f"policy.{name}: {value} is not a multiple of granularity_minutes ({g})")
    if instance.now is not None and not (instance.start <= instance.now.date() <= instance.end):
        problems.append(f"now: {instance.now:%Y-%m-%dT%H:%M} is outside the horizon {instance.start}-{instance.end}")
    clinic = policy.clinic_policy()
    for i, case in enumerate(instance.cases):
        sessions = len(session_levels(case, clinic))
        for j, booking in enumerate(case.booked):
            path = f"cases[{i}].booked[{j}]"
            if booking.session >= sessions:
                problems.append(f"{path}.session: the case has {sessions} session(s), numbered from 0")
            if booking.room not in rooms:
                problems.append(f"{path}.room: unknown room {booking.room!r}")
            if booking.radiologist not in radiologists:
                problems.append(f"{path}.radiologist: unknown radiologist {booking.radiologist!r}")
            if booking.nurse is not None and booking.nurse not in nurses:
                problems.append(f"{path}.nurse: unknown nurse {booking.nurse!r}")
            if case.sedation and booking.nurse is None:
                problems.append(f"{path}.nurse: a sedated session needs a sedation nurse")
            if not case.sedation and booking.nurse is not None:
                problems.append(f"{path}.nurse: the case is not sedated; leave nurse out")
            minute = booking.start.hour * 60 + booking.start.minute
            if minute % g or booking.start.second or booking.start.microsecond:
                problems.append(f"{path}.start: {booking.start:%H:%M} is not on the {g}-minute grid")
            if not (instance.start <= booking.start.date() <= instance.end):
                problems.append(f"{path}.start: {booking.start:%Y-%m-%d} is outside the horizon")
    return problems


class InstanceError(ValueError):
    """An instance file that cannot be read or does not describe a valid instance."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def instance_problems(error: ValidationError) -> list[str]:
    """Return one line per validation error: the JSON path, then the problem in plain words."""
    return validation_problems(error, root="(instance)", schema_hint="see docs/scheduling.md")


def parse_instance(text: str) -> Instance:
    """Return the instance described by the JSON ``text``, strictly validated (InstanceError otherwise)."""
    try:
        return Instance.model_validate_json(text)
    except ValidationError as exc:
        raise InstanceError(instance_problems(exc)) from None


def read_instance(path: Path) -> Instance:
    """Return the instance in a JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstanceError([f"(file): cannot read {path}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise InstanceError([f"(file): {path} is not UTF-8 text"]) from None
    return parse_instance(text)


def instance_json(instance: Instance) -> dict[str, Any]:
    """Return the instance as JSON-compatible data (the documented format)."""
    data: dict[str, Any] = instance.model_dump(mode="json", exclude_none=True)
    return data
