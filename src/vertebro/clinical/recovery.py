"""After the procedure: monitoring, discharge, aftercare, follow-up, bone health and red flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from vertebro.clinical.clock import shifted
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.rules import Rule, rule

R_MONITORING = rule(
    "recovery.monitoring",
    "Monitoring: bed rest for the first hour, then sitting up with help; vital signs and lower-limb "
    "neurological checks every 15 min for 1 h, then every 30 min for 1 h.",
    "postop-orders",
    "medscape-bedrest",
)
R_MONITORING_LENGTH = rule(
    "recovery.monitoring_length",
    "Monitoring lasts 2 h for one level, 30 min more for each further level and 60 min more after "
    "sedation, at most 5 h (most patients go home within 4-5 h).",
    "local-policy",
    "postop-orders",
)
R_DISCHARGE = rule(
    "recovery.discharge_criteria",
    "Discharge when: neurological exam at baseline, walking, pain not above baseline, tolerating "
    "oral intake, and after sedation an Aldrete score of 9 or more.",
    "discharge-criteria",
)
R_ESCORT = rule(
    "recovery.escort_after_sedation",
    "After sedation the patient goes home with a responsible adult who drives and stays with them "
    "for 12 hours (duration: clinic policy).",
    "asa-sedation-2018",
    "local-policy",
)
R_AFTERCARE = rule(
    "recovery.aftercare",
    "Aftercare: dressing off after 24-48 h; no bath or pool for 2 days; no lifting over 4.5 kg (10 lb) "
    "for 3 months; short walks, increased gradually.",
    "baycare-discharge",
)
R_DRIVING = rule(
    "recovery.driving",
    "No driving for 2 days after vertebroplasty, and never while taking opioid pain medicine; so the "
    "patient never drives home, with or without sedation (CIRSE 2017 and the ACR-SIR practice parameter "
    "give no driving interval; the clinic applies the patient instruction to every patient).",
    "baycare-discharge",
    "local-policy",
)
R_FOLLOW_UP = rule(
    "recovery.follow_up",
    "Follow-up visit 2-4 weeks after the procedure; outcome questionnaires at 3 and 12 months.",
    "hirsch-2018",
    "local-policy",
)
R_BONE_HEALTH = rule(
    "recovery.bone_health",
    "After a fragility fracture: bone-density evaluation and osteoporosis treatment (without "
    "treatment about 1 in 5 patients has another fracture).",
    "cms-lcd-pva",
    "hirsch-2018",
)
R_RED_FLAGS = rule(
    "recovery.red_flags",
    "Call emergency services for chest pain, shortness of breath, or loss of bowel or bladder "
    "control; call the team for fever of 38 C (100.4 F) or more, new weakness or numbness in the "
    "legs, or increasing pain.",
    "baycare-discharge",
)


@dataclass(frozen=True, slots=True)
class DatedStep:
    """An instruction that applies from one date until another (inclusive)."""

    instruction: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class FollowUpVisit:
    """A follow-up contact and the window in which it is due."""

    name: str
    due_from: dt.date | None
    due_until: dt.date | None
    questionnaires: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A symptom and what to do about it."""

    symptom: str
    action: str


@dataclass(frozen=True, slots=True)
class RecoveryPlan:
    """Monitoring, discharge and aftercare for one session."""

    monitoring_minutes: int
    monitoring_checks: tuple[str, ...]
    discharge_criteria: tuple[str, ...]
    escort_required: bool | None
    escort_until: dt.datetime | None
    aftercare: tuple[DatedStep, ...]
    follow_up: tuple[FollowUpVisit, ...]
    bone_health_referral: bool
    red_flags: tuple[RedFlag, ...]
    rules: tuple[Rule, ...]


def monitoring_minutes(levels: int, sedated: bool, policy: ClinicPolicy) -> int:
    """Return the monitoring time after a session (recovery.monitoring_length)."""
    if levels < 1:
        raise ValueError(f"levels must be 1 or more, got {levels}")
    minutes = policy.monitoring_base_minutes + policy.monitoring_per_extra_level_minutes * (levels - 1)
    if sedated:
        minutes += policy.monitoring_sedation_extra_minutes
    return min(minutes, policy.monitoring_max_minutes)


RED_FLAGS = (
    RedFlag("chest pain or sudden shortness of breath", "call emergency services now"),
    RedFlag("loss of bowel or bladder control", "call emergency services now"),
    RedFlag("fever of 38 C (100.4 F) or more", "call the vertebroplasty team the same day"),
    RedFlag(
        "new weakness, numbness or tingling in the legs",
        "call the vertebroplasty team now",
    ),
    RedFlag("back pain that keeps increasing", "call the vertebroplasty team the same day"),
)


def _day(date: dt.date | None, days: int) -> dt.date | None:
    return None if date is None else date + dt.timedelta(days=days)


@dataclass(frozen=True, slots=True)
class DrivingAdvice:
    """Driving after the procedure (rule recovery.driving): the one answer every document gives.

    ``first_day``-``last_day`` are the days without driving (the procedure day included); ``transport``
    is the preparation instruction and ``aftercare`` the discharge instruction; both say the same.
    """

    may_drive_home: bool
    no_driving_days: int
    first_day: dt.date | None
    last_day: dt.date | None
    transport: str
    aftercare: str


def driving_advice(procedure_day: dt.date | None, sedated: bool | None, policy: ClinicPolicy) -> DrivingAdvice:
    """Return whether and when the patient may drive after the procedure (rule recovery.driving).

    The answer is the same with or without sedation: the patient never drives home and does not drive
    for ``policy.no_driving_days`` days after the procedure day; sedation adds the escort (recovery.
    escort_after_sedation), not a different driving rule.
    """
    days = policy.no_driving_days
    who = "an adult" if sedated else "someone else (a relative, a friend or a taxi)"
    return DrivingAdvice(
        may_drive_home=False,
        no_driving_days=days,
        first_day=procedure_day,
        last_day=_day(procedure_day, days),
        transport=f"{who} takes the patient home: no driving on the procedure day or for {days} days after",
        aftercare="do not drive (and never while taking opioid pain medicines)",
    )


@lru_cache(maxsize=4096)
def recovery_plan(
    levels_first_session: int,
    sedated: bool | None,
    procedure_end: dt.datetime | None,
    fragility: bool,
    policy: ClinicPolicy,
    procedure_day: dt.date | None = None,
) -> RecoveryPlan:
    """Return the recovery plan for the first session; dates are absent without a procedure date.

    Aftercare and follow-up count from ``procedure_day``, the day the procedure was done (recovery.driving: "no
    driving on the procedure day or for N days after"), not from the planned end: a session started late in the
    evening whose planned length runs past midnight still dates its aftercare from its own day.
    """
    minutes = monitoring_minutes(max(levels_first_session, 1), sedated is True, policy)
    day0 = procedure_day if procedure_day is not None else None if procedure_end is None else procedure_end.date()
    discharge_at = None if procedure_end is None else shifted(procedure_end, policy.time_zone, minutes=minutes)
    criteria = [
        "neurological examination of the legs unchanged from before the procedure",
        "walking as before the procedure",
        "pain not above the pre-procedure level",
        "drinking and eating without vomiting",
    ]
    if sedated:
        criteria.insert(0, "Aldrete score of 9 or more")
        criteria.append(f"driver and {policy.companion_hours}-hour companion present")
    driving = driving_advice(day0, sedated, policy)
    aftercare = (
        DatedStep(driving.aftercare, driving.first_day, driving.last_day),
        DatedStep("keep the dressing on; remove it after 24-48 hours", day0, _day(day0, 2)),
        DatedStep("no bath, pool or hot tub", day0, _day(day0, 2)),
        DatedStep(
            "no lifting over 4.5 kg (10 lb); short walks, increased gradually",
            day0,
            _day(day0, 91),
        ),
    )
    follow_up = (
        FollowUpVisit("2-4 week visit", _day(day0, 14), _day(day0, 28), ("NRS", "ODI", "RDQ")),
        FollowUpVisit(
            "3-month questionnaires",
            _day(day0, 84),
            _day(day0, 105),
            ("NRS", "ODI", "RDQ"),
        ),
        FollowUpVisit(
            "12-month questionnaires",
            _day(day0, 358),
            _day(day0, 386),
            ("NRS", "ODI", "RDQ"),
        ),
    )
    escort_until = None
    if sedated and discharge_at is not None:
        escort_until = shifted(discharge_at, policy.time_zone, hours=policy.companion_hours)
    return RecoveryPlan(
        monitoring_minutes=minutes,
        monitoring_checks=(
            "bed rest for the first hour (log-roll allowed), then sit up with help",
            "vital signs and leg neurological checks every 15 min for 1 h, then every 30 min for 1 h",
            "pain score at the end of the procedure and at 2 h; report pain above baseline",
        ),
        discharge_criteria=tuple(criteria),
        escort_required=sedated,
        escort_until=escort_until,
        aftercare=aftercare,
        follow_up=follow_up,
        bone_health_referral=fragility,
        red_flags=RED_FLAGS,
        rules=(
            R_MONITORING,
            R_MONITORING_LENGTH,
            R_DISCHARGE,
            R_ESCORT,
            R_AFTERCARE,
            R_DRIVING,
            R_FOLLOW_UP,
            R_BONE_HEALTH,
            R_RED_FLAGS,
        ),
    )


R_OBSERVATION_SCHEDULE = rule(
    "recovery.observation_schedule",
    "Observation sets (vital signs with NEWS2, and the leg neurological check) at the end of the procedure, "
    "every 15 min for the first hour, then every 30 min until the planned monitoring time ends (beyond the "
    "second hour: clinic policy); a check not recorded 5 minutes after it was due is overdue (clinic policy).",
    "postop-orders",
    "local-policy",
)


@dataclass(frozen=True, slots=True)
class ObservationCheck:
    """One planned observation check: when it is due and whether a set was recorded for it."""

    due_at: dt.datetime
    status: str  # "done", "overdue", "due" or "planned"
    recorded_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ObservationSchedule:
    """The planned checks after a procedure, the next one due and the overdue ones."""

    checks: tuple[ObservationCheck, ...]
    next_due: dt.datetime | None
    overdue: tuple[dt.datetime, ...]
    policy_words: str


def observation_times(
    procedure_end: dt.datetime, planned_minutes: int, policy: ClinicPolicy
) -> tuple[dt.datetime, ...]:
    """Return when each observation set is due (recovery.observation_schedule), as aware times.

    Counted in elapsed time from the recorded end of the procedure (aware), so a clock change does not move a
    check; the last check is at the end of the planned monitoring time.
    """
    if procedure_end.tzinfo is None:
        raise ValueError("procedure_end must be an aware time")
    minutes: list[int] = []
    at = 0
    while at <= planned_minutes:
        minutes.append(at)
        early = at < policy.observation_early_for_minutes
        at += policy.observation_early_every_minutes if early else policy.observation_later_every_minutes
    if minutes[-1] != planned_minutes and planned_minutes > 0:
        minutes.append(planned_minutes)
    start = procedure_end.astimezone(dt.UTC)  # elapsed time: aware arithmetic in a zone would add wall-clock time
    return tuple(start + dt.timedelta(minutes=m) for m in minutes)


def observation_schedule(
    procedure_end: dt.datetime,
    planned_minutes: int,
    taken: tuple[dt.datetime, ...],
    now: dt.datetime,
    policy: ClinicPolicy,
) -> ObservationSchedule:
    """Return each planned check with its status, the next check due and the overdue ones
    (recovery.observation_schedule).

    A set recorded from ``grace`` minutes before a check until ``grace`` minutes before the next one counts for
    that check (one set counts once). A check without a set is "planned" before its time, "due" until ``grace``
    minutes after it, then "overdue" (a missed check stays overdue: it is listed for the nurse). All times aware.
    """
    if now.tzinfo is None or any(t.tzinfo is None for t in taken):
        raise ValueError("now and the observation times must be aware")
    now = now.astimezone(dt.UTC)
    times = observation_times(procedure_end, planned_minutes, policy)
    grace = dt.timedelta(minutes=policy.observation_grace_minutes)
    ordered = sorted(taken)
    checks: list[ObservationCheck] = []
    for index, due in enumerate(times):
        opens = due - grace
        closes = times[index + 1] - grace if index + 1 < len(times) else None
        recorded = next((t for t in ordered if t >= opens and (closes is None or t < closes)), None)
        if recorded is not None:
            status = "done"
        elif now < due:
            status = "planned"
        elif now <= due + grace:
            status = "due"
        else:
            status = "overdue"
        checks.append(ObservationCheck(due, status, recorded))
    next_due = next((c.due_at for c in checks if c.status in ("due", "planned")), None)
    overdue = tuple(c.due_at for c in checks if c.status == "overdue")
    words = (
        f"every {policy.observation_early_every_minutes} minutes for the first "
        f"{policy.observation_early_for_minutes} minutes, then every {policy.observation_later_every_minutes} "
        f"minutes until the monitoring time ends; overdue {policy.observation_grace_minutes} minutes after the due time"
    )
    return ObservationSchedule(tuple(checks), next_due, overdue, words)
