"""Personal documents built from one patient's assessment: the preparation handout and the discharge sheet.

Everything dated comes from :func:`vertebro.clinical.assess` (``Assessment.preparation`` and
``Assessment.recovery``); nothing here adds or subtracts a clinical interval. The only transformation
is :class:`~vertebro.education.dates.LocalClock`, which shows the core's times in the clinic's zone so
that they stay right across a daylight-saving change. A document that cannot yet be written safely
(no procedure date, sedation undecided, a plan that is not vertebroplasty or kyphoplasty) raises
:class:`HandoutNotReady` saying what must be decided first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from vertebro.clinical.allergens import allergy_labels
from vertebro.clinical.assessment import Assessment
from vertebro.clinical.clinic import Clinic
from vertebro.clinical.clock import zone_of
from vertebro.clinical.evidence import source
from vertebro.clinical.facts import Case
from vertebro.clinical.levels import level_index, region
from vertebro.clinical.medications import HoldAction, MedicationHold
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.preparation import Status
from vertebro.clinical.recommendation import AUGMENTATION
from vertebro.clinical.recovery import DatedStep, DrivingAdvice, FollowUpVisit, RedFlag, driving_advice
from vertebro.clinical.rules import Rule
from vertebro.education.content import Reference
from vertebro.education.dates import LocalClock
from vertebro.errors import InvalidInput

_REGION_WORDS = {
    "cervical": "neck",
    "thoracic": "middle back",
    "lumbar": "lower back",
    "sacral": "base of the spine",
}
WHAT_TO_BRING = (
    "a list of every medicine you take, with the doses, or the medicines in their boxes",
    "your glasses, hearing aids and walking aid if you use them",
    "photo ID and your insurance or health card",
    "loose, comfortable clothes that are easy to put on",
    "this handout",
)
WHAT_TO_LEAVE = "Leave jewellery and valuables at home."


class HandoutNotReady(InvalidInput):
    """The plan lacks something a personal document needs; the message says what (422, CLI exit 2)."""


@dataclass(frozen=True, slots=True)
class PatientHeader:
    """Who the document is for."""

    name: str
    identifier: str
    birth_date: dt.date | None


@dataclass(frozen=True, slots=True)
class Level:
    """A treated vertebra, by its code and where it is."""

    code: str
    where: str


@dataclass(frozen=True, slots=True)
class MedicineStep:
    """What to do with one medicine before, and when it may restart after."""

    drug: str
    drug_class: str
    action: HoldAction
    last_dose_on: dt.date | None
    last_dose_by: dt.datetime | None
    restart_from: dt.datetime | None
    restart_until: dt.datetime | None
    condition: str | None
    note: str | None
    to_confirm: bool
    date_passed: bool
    needs_prescriber: bool = False  # the prescriber must agree before any date is given
    waiting_for: tuple[str, ...] = ()  # what the team still needs before giving a date, in plain words
    agreed_on: dt.date | None = None  # the date the prescriber agreed the plan
    bridging: bool = False  # the prescriber plans a heparin bridge while it is stopped


@dataclass(frozen=True, slots=True)
class Timed:
    """An instruction with the local time it applies to."""

    instruction: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Escort:
    """The adult who drives the patient home after sedation and stays with them."""

    companion_hours: int
    until: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DocumentHeader:
    """What every personal document shows in its header and footer."""

    patient: PatientHeader
    clinic: Clinic
    produced_on: dt.date
    ruleset_version: str
    zone_name: str | None
    clock_change: bool
    treatment: str
    levels: tuple[Level, ...]
    procedure_start: dt.datetime
    references: tuple[Reference, ...]


@dataclass(frozen=True, slots=True)
class PreparationHandout:
    """The personal preparation handout."""

    header: DocumentHeader
    later_sessions: tuple[tuple[Level, ...], ...]
    arrival: dt.datetime | None
    blood_thinners: tuple[MedicineStep, ...]
    ask_about: tuple[MedicineStep, ...]
    keep_taking: tuple[str, ...]
    tests: tuple[Timed | str, ...]
    allergies: tuple[str, ...]
    sedated: bool
    fasting: tuple[Timed, ...]
    escort: Escort | None
    stay_minutes: int
    bring: tuple[str, ...]
    leave_at_home: str
    driving: DrivingAdvice | None = None  # recovery.driving: the same answer as the going-home sheet


@dataclass(frozen=True, slots=True)
class ActivityStep:
    """One aftercare instruction with the dates it applies."""

    instruction: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Performed:
    """What the signed procedure record says was done: it, not the recommendation, heads the discharge sheet."""

    treatment: str
    levels: tuple[str, ...]
    operator: str
    override_reason: str | None = None
    override_by: str | None = None
    skin_check: bool = (
        False  # the dose reached the substantial radiation dose level (rule dose.substantial-radiation-dose)
    )


@dataclass(frozen=True, slots=True)
class DischargeSheet:
    """The discharge and aftercare sheet."""

    header: DocumentHeader
    escort: Escort | None
    activity: tuple[ActivityStep, ...]
    wound: tuple[ActivityStep, ...]
    restarts: tuple[MedicineStep, ...]
    red_flags: tuple[RedFlag, ...]
    follow_up: tuple[FollowUpVisit, ...]
    bone_health: bool
    performed: Performed | None = None


def level_of(code: str) -> Level:
    """Return a vertebral level with the part of the back it is in, for a patient."""
    return Level(code, _REGION_WORDS[region(code)])


def references_of(rules: Iterable[Rule]) -> tuple[Reference, ...]:
    """Number the sources behind ``rules`` in order of first use (the document's source list)."""
    seen: dict[str, None] = {}
    for r in rules:
        for sid in r.sources:
            seen.setdefault(sid, None)
    return tuple(Reference(n, source(sid)) for n, sid in enumerate(seen, start=1))


def _ready(assessment: Assessment, case: Case, what: str, *, performed: bool = False) -> dt.datetime:
    problems = []
    treatment = assessment.recommendation.treatment
    if treatment not in AUGMENTATION and not performed:
        problems.append(f"the current plan is {treatment.value.replace('_', ' ')}, not vertebroplasty or kyphoplasty")
    start = assessment.preparation.procedure_start
    if start is None:
        problems.append("no procedure date is booked")
    if case.sedation_planned is None:
        problems.append("whether sedation is planned is not decided (fasting and the escort depend on it)")
    if problems or start is None:
        raise HandoutNotReady(f"no {what} yet: " + "; ".join(problems), field="plan")
    return start


def _header(
    case: Case,
    assessment: Assessment,
    *,
    clinic: Clinic,
    produced_on: dt.date,
    clock: LocalClock,
    shown: Iterable[dt.datetime],
    rules: Iterable[Rule],
) -> DocumentHeader:
    """Return the document header; ``shown`` are the core's (naive) times the document prints."""
    patient = case.patient
    times = [clock.anchor, *shown]
    rec = assessment.recommendation
    first_session = rec.sessions[0] if rec.sessions else rec.levels
    return DocumentHeader(
        patient=PatientHeader(
            name=patient.name or "(name not recorded)",
            identifier=patient.identifier or "(no identifier)",
            birth_date=patient.birth_date,
        ),
        clinic=clinic,
        produced_on=produced_on,
        ruleset_version=assessment.ruleset_version,
        zone_name=None if clock.zone is None else str(clock.zone.key),
        clock_change=clock.clock_change_between(min(times), max(times)),
        treatment=rec.treatment.value,
        levels=tuple(level_of(code) for code in first_session),
        procedure_start=clock(clock.anchor),
        references=references_of(rules),
    )


_PLAIN_MISSING = {
    "creatinine clearance": "a blood test that shows how well your kidneys work",
    "stop interval agreed with the prescriber": "the stopping time from the doctor who prescribes it",
}


def _plain(missing: str) -> str:
    """Return what the team still needs, in words a patient reads (no clinical shorthand)."""
    if missing.startswith("thrombotic risk"):
        return "a few questions about your risk of blood clots"
    return _PLAIN_MISSING.get(missing, "more information from your care team")


def _medicine(hold: MedicationHold, clock: LocalClock, produced_on: dt.date) -> MedicineStep:
    last_by = None if hold.last_dose_by is None else clock(hold.last_dose_by)
    last_day = hold.last_dose_on or (None if last_by is None else last_by.date())
    decision = hold.decision
    return MedicineStep(
        needs_prescriber=hold.action is HoldAction.SHARED_DECISION,
        waiting_for=tuple(dict.fromkeys(_plain(m) for m in hold.missing)),
        agreed_on=None if decision is None else decision.agreed_on,
        bridging=decision is not None and decision.decision == "bridge",
        drug=hold.drug,
        drug_class=hold.drug_class,
        action=hold.action,
        last_dose_on=hold.last_dose_on,
        last_dose_by=last_by,
        restart_from=None if hold.restart_from is None else clock(hold.restart_from),
        restart_until=None if hold.restart_until is None else clock(hold.restart_until),
        condition=hold.condition,
        note=hold.note,
        to_confirm=hold.verify,
        date_passed=last_day is not None and last_day < produced_on,
    )


def _clock(start: dt.datetime, zone: ZoneInfo | None, policy: ClinicPolicy) -> LocalClock:
    """The document's clock: the clinic's zone from the policy unless another display zone is asked for."""
    return LocalClock(start, zone or zone_of(policy.time_zone), policy.time_zone)


def _held(holds: Iterable[MedicationHold]) -> list[MedicationHold]:
    return [h for h in holds if h.action in (HoldAction.HOLD, HoldAction.SHARED_DECISION)]


def preparation_handout(
    case: Case,
    assessment: Assessment,
    policy: ClinicPolicy,
    *,
    produced_on: dt.date,
    zone: ZoneInfo | None = None,
    clinic: Clinic | None = None,
) -> PreparationHandout:
    """Return the personal preparation handout for the first session of the plan."""
    start = _ready(assessment, case, "preparation handout")
    prep, recovery = assessment.preparation, assessment.recovery
    clock = _clock(start, zone, policy)
    holds = prep.medication_holds
    held = _held(holds)
    fasting = tuple(
        Timed(item.instruction, clock(item.due)) for item in prep.items if item.kind == "fasting" and item.due
    )
    tests: list[Timed | str] = []
    for item in prep.items:
        if item.kind == "lab" and item.status is not Status.DONE:
            name = "INR (how fast your blood clots)" if item.instruction.startswith("INR") else "platelet count"
            due = item.due or start
            tests.append(Timed(f"a blood test: {name}", clock(due)))
        elif item.kind == "pregnancy":
            tests.append("a pregnancy test on the day, before the procedure")
    sedated = case.sedation_planned is True
    escort = None
    if sedated:
        until = None if recovery.escort_until is None else clock(recovery.escort_until)
        escort = Escort(policy.companion_hours, until)
    shown = [
        *(item.due for item in prep.items if item.due is not None),
        *(h.last_dose_by for h in held if h.last_dose_by),
        *(h.restart_from for h in held if h.restart_from),
    ]
    rules = [h.rule for h in held] + [i.rule for i in prep.items if i.kind in ("fasting", "escort", "lab", "arrival")]
    rec = assessment.recommendation
    return PreparationHandout(
        header=_header(
            case,
            assessment,
            clinic=clinic or policy.clinic,
            produced_on=produced_on,
            clock=clock,
            shown=shown,
            rules=rules,
        ),
        later_sessions=tuple(tuple(level_of(c) for c in s) for s in rec.sessions[1:]),
        arrival=None if prep.arrival is None else clock(prep.arrival),
        blood_thinners=tuple(_medicine(h, clock, produced_on) for h in held),
        ask_about=tuple(_medicine(h, clock, produced_on) for h in holds if h.action is HoldAction.CHECK),
        keep_taking=tuple(h.drug for h in holds if h.action is HoldAction.CONTINUE),
        tests=tuple(tests),
        allergies=allergy_labels(case.allergies),
        sedated=sedated,
        fasting=fasting,
        escort=escort,
        stay_minutes=recovery.monitoring_minutes,
        bring=WHAT_TO_BRING,
        leave_at_home=WHAT_TO_LEAVE,
        driving=driving_advice(start.date(), case.sedation_planned, policy),
    )


def _step(step: DatedStep) -> ActivityStep | None:
    if step.start is None or step.end is None:
        return None
    return ActivityStep(step.instruction, step.start, step.end)


def _is_wound(step: DatedStep) -> bool:
    return any(word in step.instruction for word in ("dressing", "bath", "wound"))


def discharge_sheet(
    case: Case,
    assessment: Assessment,
    policy: ClinicPolicy,
    *,
    produced_on: dt.date,
    zone: ZoneInfo | None = None,
    clinic: Clinic | None = None,
    performed: Performed | None = None,
) -> DischargeSheet:
    """Return the discharge and aftercare sheet for the first session of the plan.

    Once the procedure record is signed, ``performed`` (from that record) gives the technique and levels; the
    case's procedure date follows the record (a changed date moves it when the record is signed).
    """
    start = _ready(assessment, case, "discharge sheet", performed=performed is not None)
    recovery = assessment.recovery
    clock = _clock(start, zone, policy)
    held = _held(assessment.preparation.medication_holds)
    escort = None
    if case.sedation_planned:
        until = None if recovery.escort_until is None else clock(recovery.escort_until)
        escort = Escort(policy.companion_hours, until)
    shown = [h.restart_from for h in held if h.restart_from]
    if recovery.escort_until is not None:
        shown.append(recovery.escort_until)
    steps = [(s, _step(s)) for s in recovery.aftercare]
    rules = [*(h.rule for h in held), *recovery.rules]
    header = _header(
        case, assessment, clinic=clinic or policy.clinic, produced_on=produced_on, clock=clock, shown=shown, rules=rules
    )
    if performed is not None:
        ordered = sorted(performed.levels, key=level_index)
        header = dataclasses.replace(
            header, treatment=performed.treatment, levels=tuple(level_of(code) for code in ordered)
        )
    return DischargeSheet(
        header=header,
        escort=escort,
        activity=tuple(a for s, a in steps if a is not None and not _is_wound(s)),
        wound=tuple(a for s, a in steps if a is not None and _is_wound(s)),
        restarts=tuple(_medicine(h, clock, produced_on) for h in held),
        red_flags=recovery.red_flags,
        follow_up=recovery.follow_up,
        bone_health=recovery.bone_health_referral,
        performed=performed,
    )
