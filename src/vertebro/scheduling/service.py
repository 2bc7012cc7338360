"""Planning on the database: the instance from the stored cases and the calendar, proposals, edits, acceptance.

The cases ready to schedule are the *prepared* ones (checklist complete) and the *scheduled* ones (their
booking is the current plan, which the planner may move at the ``moved`` cost). Everything a session
needs comes from the clinical core on the stored facts: the levels and their staging (recommendation),
room and monitoring time (the instance's policy is the clinic's), sedation, the inpatient flag, the
earliest date (medication holds started today, labs still to take) and the fracture ages (onset weeks at
referral). The calendar's free 30-minute slots are the rooms' hours: a slot that is missing or held by a
booking outside the plan is a closure. The store keeps no staff rosters, so each room's list counts as
staffed: one radiologist and one sedation nurse per room (decision 0012).

Services never commit; the CLI command or the web request does. Every read of patient data for a plan
and every change is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vertebro.clinical import Case as Facts
from vertebro.clinical import ClinicPolicy, assess
from vertebro.clinical.clock import aware, wall_clock
from vertebro.errors import Conflict, InvalidInput, NotFound, VertebroError
from vertebro.scheduling.checker import violations
from vertebro.scheduling.explain import weights_explained
from vertebro.scheduling.fcfs import fcfs_plan
from vertebro.scheduling.instance import Instance, InstanceError, Weights, instance_json, parse_instance
from vertebro.scheduling.metrics import PlanMetrics, plan_metrics
from vertebro.scheduling.objective import ACUTE_DAYS, UNHEALED_DAYS
from vertebro.scheduling.occupancy import Occupancy, Slot
from vertebro.scheduling.placement import plan_of
from vertebro.scheduling.plan import Plan, PlannedSession
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.repository import CalendarSlot, PatientLabel, PlanningRepository, StoredCase
from vertebro.scheduling.solver import ProgressCallback, SolveOptions, solve
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SchedulePlan
from vertebro.store.workflow import Actor, TransitionRefused, book, feasibility_now, reschedule
from vertebro.store.workflow.booking import DAY_END, DAY_START, SLOT_MINUTES

GRANULARITY = SLOT_MINUTES
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
MAX_TIME_LIMIT = 60.0


class PlanningFailed(VertebroError):
    """The planner returned a plan that breaks a hard constraint (a bug: nothing is stored) (500)."""

    status_code: ClassVar[int] = 500


@dataclass(frozen=True, slots=True)
class PlanningSetup:
    """The clinic's planning resources beyond the calendar: room names, recovery bays and their hours."""

    rooms: tuple[str, ...]
    recovery_bays: int = 4
    recovery_close: dt.time = dt.time(21, 0)


@dataclass(frozen=True, slots=True)
class DatabaseInstance:
    """A scheduling instance built from the database, and the way back from its ids to cases and rooms."""

    instance: Instance
    cases: Mapping[str, int]  # instance case id -> stored case id
    patients: Mapping[str, int]  # instance case id -> patient id
    rooms: Mapping[str, str]  # instance room id -> room name in the calendar

    def references(self) -> dict[str, Any]:
        """Return the id mappings as a JSON document (stored with the plan)."""
        return {"cases": dict(self.cases), "patients": dict(self.patients), "rooms": dict(self.rooms)}


@dataclass(frozen=True, slots=True)
class Proposal:
    """The CP-SAT plan and the first-come-first-served baseline on one database instance."""

    source: DatabaseInstance
    plan: Plan
    baseline: Plan


def room_ids(names: tuple[str, ...]) -> dict[str, str]:
    """Return an instance identifier for every room name ('Room 1' -> 'Room-1'), unique, in order."""
    ids: dict[str, str] = {}
    for i, name in enumerate(names):
        base = re.sub(r"[^A-Za-z0-9_.:-]+", "-", name).strip("-")[:60] or f"room-{i + 1}"
        candidate = base if base not in ids else f"{base}-{i + 1}"
        ids[candidate] = name
    return ids


def _local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """Return an aware moment as the clinic's wall-clock time (the instance's time), never the server's zone."""
    return wall_clock(moment, zone_name)


def _aware(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """Return a clinic wall-clock time as an aware moment (the calendar's time)."""
    return aware(moment, zone_name)


def _weekly(open_at: dt.time, close_at: dt.time) -> dict[str, dict[str, str]]:
    return {day: {"open": open_at.isoformat("minutes"), "close": close_at.isoformat("minutes")} for day in WEEKDAYS}


def _closures(
    slots: list[CalendarSlot],
    rooms: Mapping[str, str],
    dates: list[dt.date],
    usable_bookings: set[int],
    zone_name: str,
) -> dict[str, list[dict[str, str]]]:
    """Return, per room id, the periods within regular hours without a usable slot (missing or held by others)."""
    free: set[tuple[str, dt.datetime]] = {
        (s.room, _local(s.starts_at, zone_name))
        for s in slots
        if s.booking_id is None or s.booking_id in usable_bookings
    }
    closed: dict[str, list[dict[str, str]]] = {}
    for room_id, name in rooms.items():
        spans: list[dict[str, str]] = []
        for date in dates:
            if date.weekday() >= len(WEEKDAYS):
                continue
            moment = dt.datetime.combine(date, DAY_START)
            end_of_day = dt.datetime.combine(date, DAY_END)
            run_start: dt.datetime | None = None
            while moment < end_of_day:
                if (name, moment) in free:
                    if run_start is not None:
                        spans.append(_span(run_start, moment))
                        run_start = None
                elif run_start is None:
                    run_start = moment
                moment += dt.timedelta(minutes=SLOT_MINUTES)
            if run_start is not None:
                spans.append(_span(run_start, end_of_day))
        closed[room_id] = spans
    return closed


def _span(start: dt.datetime, end: dt.datetime) -> dict[str, str]:
    return {
        "start": start.isoformat(timespec="minutes"),
        "end": end.isoformat(timespec="minutes"),
        "reason": "no free slot in the calendar",
    }


def _levels_and_not_before(
    facts: Facts, policy: ClinicPolicy, now: dt.datetime
) -> tuple[list[str], list[dict[str, str]]] | None:
    """Return the case's levels to treat and its not-before dates, or None when no date is bookable yet.

    The dates are the booking service's (rule booking.feasible_start: holds completable from now, fasting
    and labs in time), rounded up to the first day whose opening hour they allow.
    """
    assessment = assess(facts, policy, as_of=now.date())
    sessions = assessment.recommendation.sessions
    levels = [level for session in sessions for level in session] or [f.level for f in facts.fractures]
    feasible = feasibility_now(facts, policy, _aware(now, policy.time_zone))
    if not feasible.bookable:
        return None
    not_before: list[dict[str, str]] = []
    for constraint in feasible.constraints:
        if constraint.not_before is None:  # pragma: no cover - excluded by ``bookable``
            continue
        ready = _local(constraint.not_before, policy.time_zone)
        date = ready.date() + dt.timedelta(days=int(ready.time() > DAY_START))
        kind = {"hold": "hold", "labs": "labs"}.get(constraint.kind, "patient")
        not_before.append(
            {"date": date.isoformat(), "kind": kind, "reason": f"{constraint.subject}: {constraint.reason}"}
        )
    return levels, not_before


def _case_entry(
    stored: StoredCase, instance_id: str, policy: ClinicPolicy, now: dt.datetime, rooms_by_name: Mapping[str, str]
) -> dict[str, Any] | None:
    facts = Facts.model_validate_json(json.dumps(stored.facts))
    plannable = _levels_and_not_before(facts, policy, now)
    if plannable is None:
        return None
    levels, not_before = plannable
    referred = _local(stored.referred_at, policy.time_zone).date()
    onsets = {f.level: f.onset_weeks for f in facts.fractures}
    entries = []
    for level in levels:
        weeks = onsets.get(level)
        # unknown fracture age: counted as healed (no priority), never as acute
        days = UNHEALED_DAYS if weeks is None else round(weeks * 7)
        entries.append({"level": level, "onset": (referred - dt.timedelta(days=days)).isoformat()})
    sedation = facts.sedation_planned is True
    entry: dict[str, Any] = {
        "id": instance_id,
        "referred": referred.isoformat(),
        "inpatient": facts.patient.hospitalized is True,
        "levels": entries,
        "sedation": sedation,
    }
    room = rooms_by_name.get(stored.booking_room or "")
    if stored.booking_starts_at is not None and room is not None:
        start = _local(stored.booking_starts_at, policy.time_zone)
        # the booking holds until it is moved: its own not-before dates cannot push it later than itself
        not_before = [
            nb if nb["date"] <= start.date().isoformat() else {**nb, "date": start.date().isoformat()}
            for nb in not_before
        ]
        entry["booked"] = [
            {
                "session": 0,
                "start": start.isoformat(timespec="minutes"),
                "room": room,
                "radiologist": f"radiologist-{room}",
                **({"nurse": f"nurse-{room}"} if sedation else {}),
            }
        ]
    if not_before:
        entry["not_before"] = not_before
    return entry


def database_instance(
    uow: UnitOfWork,
    *,
    start: dt.date,
    weeks: int,
    setup: PlanningSetup,
    policy: ClinicPolicy,
    actor: Actor,
    weights: Weights | None = None,
    now: dt.datetime | None = None,
) -> DatabaseInstance:
    """Return the scheduling instance of the cases ready to schedule and the calendar from ``start``.

    Every case read is audited (one ``read`` row per patient, purpose ``schedule plan``).
    """
    if not 1 <= weeks <= 12:
        raise InvalidInput(f"{weeks} weeks: plan between 1 and 12 weeks", field="weeks")
    if not setup.rooms:
        raise InvalidInput("no procedure rooms are configured", field="rooms")
    now = (now or wall_clock(utc_now(), policy.time_zone)).replace(second=0, microsecond=0)
    days = weeks * 7
    end = start + dt.timedelta(days=days)
    repository = PlanningRepository(uow.session)
    rooms = room_ids(setup.rooms)
    by_name = {name: room_id for room_id, name in rooms.items()}
    window_start = _aware(dt.datetime.combine(start, dt.time(0, 0)), policy.time_zone)
    window_end = _aware(dt.datetime.combine(end, dt.time(0, 0)), policy.time_zone)
    cases: dict[str, int] = {}
    patients: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    usable: set[int] = set()
    for stored in repository.plannable_cases():
        booked = stored.booking_starts_at
        if booked is not None and not (window_start <= booked < window_end and stored.booking_room in by_name):
            continue  # booked outside this horizon: the booking stays as it is, and its slots stay taken
        instance_id = f"case-{stored.case_id}"
        entry = _case_entry(stored, instance_id, policy, now, by_name)
        if entry is None:
            continue  # a decision on a medicine is outstanding: no date can be planned yet
        entries.append(entry)
        cases[instance_id] = stored.case_id
        patients[instance_id] = stored.patient_id
        if stored.booking_id is not None:
            usable.add(stored.booking_id)
    slots = repository.slots_between(window_start, window_end)
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    closed = _closures(slots, rooms, dates, usable, policy.time_zone)
    hours = _weekly(DAY_START, DAY_END)
    data: dict[str, Any] = {
        "name": f"calendar from {start.isoformat()}, {weeks} week{'s' if weeks > 1 else ''}",
        "start": start.isoformat(),
        "days": days,
        "granularity_minutes": GRANULARITY,
        "policy": {
            "setup_minutes": policy.setup_minutes,
            "minutes_per_level": policy.minutes_per_level,
            "max_levels_per_session": policy.max_levels_per_session,
            "monitoring_base_minutes": policy.monitoring_base_minutes,
            "monitoring_per_extra_level_minutes": policy.monitoring_per_extra_level_minutes,
            "monitoring_sedation_extra_minutes": policy.monitoring_sedation_extra_minutes,
            "monitoring_max_minutes": policy.monitoring_max_minutes,
        },
        "rooms": [{"id": r, "kind": "fluoroscopy", "hours": hours, "closed": closed[r]} for r in rooms],
        "radiologists": [{"id": f"radiologist-{r}", "rooms": [r], "hours": hours} for r in rooms],
        "nurses": [{"id": f"nurse-{r}", "hours": hours} for r in rooms],
        "recovery": {"bays": setup.recovery_bays, "hours": _weekly(DAY_START, setup.recovery_close)},
        "cases": entries,
    }
    if start <= now.date() < end:
        data["now"] = now.isoformat(timespec="minutes")
    if weights is not None:
        data["weights"] = weights.model_dump()
    try:
        instance = parse_instance(json.dumps(data))
    except InstanceError as error:
        raise InvalidInput("; ".join(error.problems), field="instance") from None
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted(set(patients.values())),
        detail={"role": actor.role.value, "purpose": "schedule plan", "from": start.isoformat(), "weeks": weeks},
        source=actor.source,
    )
    return DatabaseInstance(instance, cases, patients, rooms)


def proposal(
    source: DatabaseInstance,
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    hint: Mapping[int, Slot] | None = None,
) -> Proposal:
    """Return the CP-SAT plan and the first-come-first-served baseline, both checked by the independent checker.

    ``hint`` is a starting placement (a re-plan starts from the current bookings: ``replan.current_placement``).
    """
    if not 0.1 <= time_limit <= MAX_TIME_LIMIT:
        raise InvalidInput(
            f"{time_limit:g} s: give a time limit from 0.1 to {MAX_TIME_LIMIT:g} seconds", field="time_limit"
        )
    problem = problem_of(source.instance)
    baseline = fcfs_plan(problem)
    start = {i: slot for i, slot in (hint or {}).items() if problem.sessions[i].excluded is None} or None
    plan = solve(problem, SolveOptions(time_limit=time_limit, workers=workers, seed=seed, hint=start), progress)
    for made in (plan, baseline):
        broken = violations(source.instance, made)
        if broken:
            raise PlanningFailed(
                f"the {made.planner} plan breaks hard constraints (a bug: nothing was stored): "
                + "; ".join(str(v) for v in broken[:5]),
                field="plan",
            )
    return Proposal(source, plan, baseline)


def save_proposal(uow: UnitOfWork, made: Proposal, *, time_limit: float, actor: Actor) -> SchedulePlan:
    """Store a proposal as a plan awaiting the service lead's decision; audited per patient in it."""
    instance = made.source.instance
    row = PlanningRepository(uow.session).add_plan(
        SchedulePlan(
            status="proposed",
            starts_on=instance.start,
            weeks=instance.days // 7,
            time_limit_seconds=time_limit,
            instance=instance_json(instance),
            plan=made.plan.model_dump(mode="json"),
            baseline=made.baseline.model_dump(mode="json"),
            references=made.source.references(),
            edits=0,
            created_by=actor.username,
        )
    )
    for case_key, patient_id in sorted(made.source.patients.items()):
        uow.audit.append(
            actor=actor.username,
            action="propose_schedule",
            entity_type="schedule_plan",
            entity_id=row.id,
            patient_id=patient_id,
            detail={"role": actor.role.value, "case": made.source.cases[case_key]},
            source=actor.source,
        )
    return row


# --- viewing -----------------------------------------------------------------------------------------------

AGE_BANDS = (
    ("acute", f"under {ACUTE_DAYS // 7} weeks: the window with sham-controlled evidence of benefit"),
    ("subacute", f"{ACUTE_DAYS // 7} to {UNHEALED_DAYS // 7} weeks"),
    ("chronic", f"{UNHEALED_DAYS // 7} weeks or older, or age unknown"),
)


def age_band(days: int) -> str:
    """Return the fracture-age band of a fracture this many days old (rule acuity.age_bands)."""
    if days < ACUTE_DAYS:
        return "acute"
    if days < UNHEALED_DAYS:
        return "subacute"
    return "chronic"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One planned session as the calendar shows it."""

    key: str  # "<instance case id>/<session>"
    case_id: int
    patient: PatientLabel | None
    session: PlannedSession
    band: str
    youngest_weeks: int
    inpatient: bool
    sedation: bool


@dataclass(frozen=True, slots=True)
class Comparison:
    """One line of the comparison with first come, first served."""

    label: str
    planned: str
    baseline: str


@dataclass(frozen=True, slots=True)
class PlanView:
    """Everything the plan page shows."""

    row: SchedulePlan
    instance: Instance
    plan: Plan
    baseline: Plan
    metrics: PlanMetrics
    baseline_metrics: PlanMetrics
    rooms: Mapping[str, str]
    dates: list[dt.date]
    grid: Mapping[tuple[dt.date, str], list[CalendarEntry]]
    entries: list[CalendarEntry]
    unscheduled: list[tuple[str, PatientLabel | None, int]]  # (detail line, patient, case id)
    comparison: list[Comparison]
    terms: list[tuple[str, float, str, str, float, float]]  # name, weight, unit, meaning, points plan, points fcfs
    times: list[dt.time] = field(default_factory=list)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _comparison(m: PlanMetrics, b: PlanMetrics, plan: Plan, baseline: Plan) -> list[Comparison]:
    def acute(x: PlanMetrics) -> str:
        return f"{_percent(x.acute_share)} ({x.acute_treated} of {x.acute_levels} levels)"

    def wait(x: PlanMetrics) -> str:
        return "-" if x.mean_wait_days is None else f"{x.mean_wait_days:.1f} days"

    return [
        Comparison("Acute fractures treated while acute", acute(m), acute(b)),
        Comparison("Mean wait from referral", wait(m), wait(b)),
        Comparison("Sessions planned", str(m.sessions), str(b.sessions)),
        Comparison("Sessions left out", str(m.unscheduled), str(b.unscheduled)),
        Comparison("Room utilisation", _percent(m.room_utilisation), _percent(b.room_utilisation)),
        Comparison("Recovery-bay utilisation", _percent(m.bay_utilisation), _percent(b.bay_utilisation)),
        Comparison("Overtime", f"{m.overtime_minutes} min", f"{b.overtime_minutes} min"),
        Comparison(
            "Objective (points, lower is better)", f"{plan.objective.total:,.2f}", f"{baseline.objective.total:,.2f}"
        ),
    ]


def stored_plan(uow: UnitOfWork, plan_id: int, *, for_update: bool = False) -> SchedulePlan:
    """Return a stored plan or raise NotFound."""
    row = PlanningRepository(uow.session).plan(plan_id, for_update=for_update)
    if row is None:
        raise NotFound(f"no schedule plan {plan_id}", field="plan_id")
    return row


def _instance_of(row: SchedulePlan) -> Instance:
    return parse_instance(json.dumps(row.instance))


def plan_view(uow: UnitOfWork, plan_id: int, actor: Actor) -> PlanView:
    """Return the plan page's content; the patients shown are audited (one ``read`` row each)."""
    row = stored_plan(uow, plan_id)
    instance = _instance_of(row)
    plan = Plan.model_validate(row.plan)
    baseline = Plan.model_validate(row.baseline)
    refs = row.references
    repository = PlanningRepository(uow.session)
    labels = repository.patients(sorted(set(refs["patients"].values())))
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted(labels),
        detail={"role": actor.role.value, "purpose": "schedule plan", "plan": row.id},
        source=actor.source,
    )
    entries: list[CalendarEntry] = []
    grid: dict[tuple[dt.date, str], list[CalendarEntry]] = {}
    for s in plan.sessions:
        case = instance.case(s.case)
        youngest = min((s.date - case.onset_of(level)).days for level in s.levels)
        entry = CalendarEntry(
            key=f"{s.case}/{s.session}",
            case_id=refs["cases"][s.case],
            patient=labels.get(refs["patients"][s.case]),
            session=s,
            band=age_band(youngest),
            youngest_weeks=youngest // 7,
            inpatient=case.inpatient,
            sedation=case.sedation,
        )
        entries.append(entry)
        grid.setdefault((s.date, s.room), []).append(entry)
    unscheduled = [
        (
            f"{' '.join(u.levels)} (session {u.session + 1}): {u.reason.value.replace('_', ' ')} — {u.detail}",
            labels.get(refs["patients"][u.case]),
            refs["cases"][u.case],
        )
        for u in plan.unscheduled
    ]
    metrics, baseline_metrics = plan_metrics(instance, plan), plan_metrics(instance, baseline)
    baseline_points = {t.name: t.points for t in baseline.objective.terms}
    terms = [
        (name, weight, unit, meaning, plan.objective.points(name), baseline_points.get(name, 0.0))
        for name, weight, unit, meaning in weights_explained(instance.weights.model_dump())
    ]
    dates = [d for d in instance.dates() if d.weekday() < len(WEEKDAYS)]
    times = []
    moment = dt.datetime.combine(instance.start, DAY_START)
    while moment.time() < DAY_END:
        times.append(moment.time())
        moment += dt.timedelta(minutes=SLOT_MINUTES)
    return PlanView(
        row=row,
        instance=instance,
        plan=plan,
        baseline=baseline,
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        rooms=refs["rooms"],
        dates=dates,
        grid=grid,
        entries=entries,
        unscheduled=unscheduled,
        comparison=_comparison(metrics, baseline_metrics, plan, baseline),
        terms=terms,
        times=times,
    )


# --- editing and accepting -------------------------------------------------------------------------------


def _proposed(row: SchedulePlan, expected_version: int | None) -> None:
    if row.status != "proposed":
        raise Conflict(f"schedule plan {row.id} is {row.status}: make a new plan", field="plan_id")
    if expected_version is not None and row.version != expected_version:
        raise Conflict(
            f"schedule plan {row.id} was changed meanwhile (now version {row.version}, you saw {expected_version}): "
            "reload it",
            field="version",
        )


def move_session(
    uow: UnitOfWork,
    plan_id: int,
    *,
    session_key: str,
    starts_at: dt.datetime,
    room: str,
    actor: Actor,
    expected_version: int | None,
) -> SchedulePlan:
    """Move one planned session to another start and room; the edited plan must pass the checker.

    ``starts_at`` is local wall-clock time, ``room`` a room name of the calendar. The objective is
    recomputed; the solver's bound still holds (it bounds every plan of the instance).
    """
    row = stored_plan(uow, plan_id, for_update=True)
    _proposed(row, expected_version)
    instance = _instance_of(row)
    plan = Plan.model_validate(row.plan)
    rooms = row.references["rooms"]
    room_id = next((rid for rid, name in rooms.items() if name == room), None)
    if room_id is None:
        raise InvalidInput(f"unknown room {room!r}", field="room")
    case_key, _, number = session_key.partition("/")
    problem = problem_of(instance)
    index_of = {(d.case, d.index): i for i, d in enumerate(problem.sessions)}
    if not number.isdecimal() or (case_key, int(number)) not in index_of:
        raise InvalidInput(f"no session {session_key!r} in this plan", field="session")
    moving = index_of[case_key, int(number)]
    placement: dict[int, Slot] = {}
    for s in plan.sessions:
        day = (s.date - instance.start).days
        placement[index_of[s.case, s.session]] = Slot(
            day, day * 1440 + s.start.hour * 60 + s.start.minute, s.room, s.radiologist, s.nurse
        )
    if moving not in placement:
        raise InvalidInput(f"session {session_key} is not planned: only planned sessions can be moved", field="session")
    day = (starts_at.date() - instance.start).days
    if not 0 <= day < instance.days:
        raise InvalidInput(f"{starts_at:%Y-%m-%d} is outside the plan's weeks", field="starts_at")
    minute = day * 1440 + starts_at.hour * 60 + starts_at.minute
    demand = problem.sessions[moving]
    del placement[moving]
    occupancy = Occupancy(problem)
    for i, slot in placement.items():
        occupancy.add(problem.sessions[i], slot)
    candidates = [
        Slot(day, minute, room_id, rad.id, nurse)
        for rad in problem.radiologists
        if rad.can_work_in(room_id)
        for nurse in ([n.id for n in problem.nurses] if demand.sedation else [None])
    ]
    chosen = next((c for c in candidates if occupancy.accepts(demand, c, overtime=False)), None)
    when = f"{room} on {starts_at:%Y-%m-%d} at {starts_at:%H:%M}"
    if chosen is None:
        raise InvalidInput(
            f"{when} is not free for this session (room time {demand.minutes} min, then {demand.monitoring} min "
            "in recovery): the room, its list or the recovery bays are taken, or it is outside the hours or "
            "before the case is ready",
            field="starts_at",
        )
    placement[moving] = chosen
    edited = plan_of(
        problem, placement, planner=plan.planner, status="feasible", seconds=plan.seconds, bound=plan.bound
    )
    broken = violations(instance, edited)
    if broken:
        raise InvalidInput(f"{when}: " + "; ".join(v.message for v in broken[:3]), field="starts_at")
    row.plan = edited.model_dump(mode="json")
    row.edits += 1
    uow.session.flush()
    uow.audit.append(
        actor=actor.username,
        action="edit_schedule_plan",
        entity_type="schedule_plan",
        entity_id=row.id,
        patient_id=row.references["patients"][case_key],
        detail={"role": actor.role.value, "session": session_key, "to": starts_at.isoformat(), "room": room},
        source=actor.source,
    )
    return row


def accept_plan(
    uow: UnitOfWork, plan_id: int, *, actor: Actor, policy: ClinicPolicy, expected_version: int | None
) -> list[int]:
    """Book every case's first session of the plan through the booking service; return the booking ids.

    All or nothing: the caller commits only when every booking went through. A slot taken meanwhile
    (the database refuses a second reservation), or a case that can no longer be booked, fails the whole
    acceptance with a message naming the session. Bookings that the plan moves are moved through the booking
    service's ``reschedule`` (the patient told once that the appointment has moved, hazard H122); unchanged
    ones are kept. Later stages are shown in the plan but booked after the first session.
    """
    row = stored_plan(uow, plan_id, for_update=True)
    _proposed(row, expected_version)
    plan = Plan.model_validate(row.plan)
    if plan.status in ("infeasible", "no_solution"):
        raise Conflict(f"schedule plan {row.id} has no schedule ({plan.status}): make a new plan", field="plan_id")
    refs = row.references
    labels = PlanningRepository(uow.session).patients(sorted(set(refs["patients"].values())))
    made: list[int] = []
    for s in sorted((s for s in plan.sessions if s.session == 0), key=lambda s: (s.start, s.room)):
        case_id = refs["cases"][s.case]
        room = refs["rooms"][s.room]
        starts_at = _aware(s.start, policy.time_zone)
        label = labels.get(refs["patients"][s.case])
        who = f"{label.name or label.identifier} ({label.identifier})" if label else f"case {case_id}"
        where = f"{room} on {s.start:%a %d %b %Y} at {s.start:%H:%M} for {who}"
        current = uow.bookings.active_booking(case_id)
        if current is not None and current.room == room and current.starts_at == starts_at:
            continue
        try:
            if current is not None:  # accepting the plan is the confirmation; the patient is told once: moved
                booking = reschedule(
                    uow,
                    case_id,
                    room=room,
                    starts_at=starts_at,
                    reason=f"moved by schedule plan {row.id}",
                    actor=actor,
                    policy=policy,
                )
            else:
                booking = book(
                    uow, case_id, room=room, starts_at=starts_at, actor=actor, policy=policy, expected_version=None
                )
        except Conflict as error:
            raise Conflict(
                f"{where}: that slot was booked by someone else after the plan was made. Nothing was booked; "
                "make a new plan (or move this session) and accept again.",
                field="plan",
            ) from error
        except (TransitionRefused, InvalidInput, NotFound) as error:
            raise Conflict(
                f"{where}: the case cannot be booked now ({error.message}). Nothing was booked; make a new plan.",
                field="plan",
            ) from error
        made.append(booking.id)
    row.status = "accepted"
    row.decided_by = actor.username
    row.decided_at = utc_now()
    uow.session.flush()
    uow.audit.append(
        actor=actor.username,
        action="accept_schedule_plan",
        entity_type="schedule_plan",
        entity_id=row.id,
        detail={"role": actor.role.value, "bookings": made},
        source=actor.source,
    )
    return made


def recent_plans(uow: UnitOfWork, limit: int = 10) -> list[SchedulePlan]:
    """Return the newest stored plans (no patient data is shown from them in a list)."""
    return PlanningRepository(uow.session).recent_plans(limit)
