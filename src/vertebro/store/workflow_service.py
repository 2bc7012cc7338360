"""The staff workflow: chart, decisions, checklist, insurance, booking, procedure, monitoring, discharge,
follow-up. Every read and write of a patient's data is audited in the same transaction; every change
checks the version the user saw (optimistic locking) inside that transaction. Services never commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from vertebro.clinical import Assessment, Case, ClinicPolicy, assess, assessment_json
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.procedure import room_minutes
from vertebro.clinical.recommendation import AUGMENTATION
from vertebro.clinical.validation import validation_problems
from vertebro.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, VertebroError
from vertebro.pathway.checklist import Confirmations, missing_items
from vertebro.pathway.machine import Action, CaseSnapshot, Role, State, Verdict, available, evaluate
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    Assessment as StoredAssessment,
)
from vertebro.store.models import (
    AuditEntry,
    Booking,
    CaseWorkflow,
    Complication,
    Discharge,
    FollowUp,
    Observation,
    Patient,
    ProcedureLevel,
    ProcedureRecord,
    Slot,
)
from vertebro.store.models import (
    Case as StoredCase,
)
from vertebro.store.workflow_repository import WorklistEntry

INSURANCE_CLEARED = ("not_required", "approved", "self_pay")
# Records that only exist from a state on: the chart does not query for them earlier.
BOOKED_OR_LATER = frozenset(
    {State.SCHEDULED, State.IN_PROCEDURE, State.MONITORING, State.DISCHARGED, State.FOLLOW_UP, State.CLOSED}
)
TREATED_OR_LATER = frozenset({State.IN_PROCEDURE, State.MONITORING, State.DISCHARGED, State.FOLLOW_UP, State.CLOSED})


class TransitionRefused(VertebroError):
    """A pathway step whose guard refused it; the message lists every reason (409)."""

    status_code: ClassVar[int] = 409

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("; ".join(verdict.refusals), field="action")
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, in which role, from where."""

    username: str
    role: Role
    source: str | None = None


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything the chart shows about one case."""

    workflow: CaseWorkflow
    facts: Case
    assessment: Assessment
    assessment_data: dict[str, Any]
    confirmations: Confirmations
    checklist_missing: tuple[str, ...]
    snapshot: CaseSnapshot
    actions: tuple[Verdict, ...]
    booking: Booking | None
    procedure: ProcedureRecord | None
    observations: tuple[Observation, ...]
    discharge: Discharge | None
    follow_ups: tuple[FollowUp, ...]
    complications: tuple[Complication, ...]
    documentation_missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A patient's chart: the patient, each case, and the timeline."""

    patient: Patient
    cases: tuple[CaseView, ...]
    timeline: tuple[AuditEntry, ...]  # newest first, reads left out
    reads: int


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, entity: str, entity_id: object, patient_id: int, **detail: Any
) -> None:
    uow.audit.append(
        actor=actor.username,
        action=action,
        entity_type=entity,
        entity_id=str(entity_id),
        patient_id=patient_id,
        detail={"role": actor.role.value, **detail},
        source=actor.source,
    )


def _workflow(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> CaseWorkflow:
    workflow = uow.workflows.get(case_id, for_update=for_update)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return workflow


def _check_version(workflow: CaseWorkflow, expected: int | None) -> None:
    if expected is not None and workflow.version != expected:
        raise PreconditionFailed(
            f"this case was changed by someone else (now version {workflow.version}, you saw {expected}); "
            "reload it — your input is kept below",
            field="version",
        )


def facts_of(stored: StoredCase) -> Case:
    """Return the validated facts of a stored case."""
    return Case.model_validate_json(json.dumps(stored.facts))


def confirmations_of(workflow: CaseWorkflow) -> Confirmations:
    """Return the checklist confirmations stored on a workflow."""
    known = {f.name for f in dataclasses.fields(Confirmations)}
    return Confirmations(**{k: v for k, v in (workflow.checklist or {}).items() if k in known})


def documentation_missing(facts: Case, assessment: Assessment) -> tuple[str, ...]:
    """Return what the payer's packet (Medicare LCD list) still lacks for this case."""
    missing: list[str] = []
    if facts.pain.nrs is None:
        missing.append("pain score")
    if facts.conservative_care.optimal is not True:
        missing.append("record of optimal non-surgical management")
    if not assessment.findings.targets or assessment.findings.acuity_pending:
        missing.append("imaging documenting an acute or subacute fracture")
    if facts.function.rdq is None and facts.function.odi_percent is None:
        missing.append("function score (RDQ or ODI)")
    if facts.bone_health.bmd_referral_documented is not True:
        missing.append("bone-density referral and osteoporosis plan")
    return tuple(missing)


def _snapshot(view_parts: dict[str, Any]) -> CaseSnapshot:
    workflow: CaseWorkflow = view_parts["workflow"]
    facts: Case = view_parts["facts"]
    assessment: Assessment = view_parts["assessment"]
    discharge: Discharge | None = view_parts["discharge"]
    procedure: ProcedureRecord | None = view_parts["procedure"]
    today = dt.date.today()
    holds_ok = all(
        (h.last_dose_on is None or h.last_dose_on >= today)
        for h in assessment.preparation.medication_holds
        if h.action is HoldAction.HOLD
    )
    return CaseSnapshot(
        state=State(workflow.state),
        recommended_augmentation=assessment.recommendation.treatment in AUGMENTATION,
        decision_reason=workflow.decision_reason,
        checklist_missing=view_parts["checklist_missing"],
        insurance_cleared=workflow.insurance_status in INSURANCE_CLEARED,
        holds_completable=holds_ok,
        has_booking=view_parts["booking"] is not None,
        procedure_signed=procedure is not None and procedure.signed_at is not None,
        sedated=facts.sedation_planned is True,
        driver_confirmed=bool(discharge and discharge.driver_name),
        companion_confirmed=bool(discharge and discharge.companion_name),
        discharge_criteria_missing=tuple(view_parts.get("discharge_missing", ())),
        aftercare_issued=bool(discharge and discharge.aftercare_issued),
        closing_reason=view_parts.get("closing_reason"),
    )


def case_view(uow: UnitOfWork, case_id: int, actor: Actor, policy: ClinicPolicy, *, audit: bool = True) -> CaseView:
    """Return one case as the chart shows it (assessed now with the current ruleset); audits the read."""
    workflow = _workflow(uow, case_id)
    facts = facts_of(workflow.case)
    assessment = assess(facts, policy)
    confirmations = confirmations_of(workflow)
    missing = missing_items(facts, assessment, confirmations)
    state = State(workflow.state)
    booked = state in BOOKED_OR_LATER
    treated = state in TREATED_OR_LATER
    parts: dict[str, Any] = {
        "workflow": workflow,
        "facts": facts,
        "assessment": assessment,
        "checklist_missing": missing,
        "booking": uow.bookings.active_booking(case_id) if booked else None,
        "procedure": uow.records.procedure(case_id) if treated else None,
        "discharge": uow.records.discharge(case_id) if treated else None,
    }
    snapshot = _snapshot(parts)
    if audit:
        _audit(uow, actor, "read", "case", case_id, workflow.case.patient_id)
    return CaseView(
        workflow=workflow,
        facts=facts,
        assessment=assessment,
        assessment_data=assessment_json(assessment),
        confirmations=confirmations,
        checklist_missing=missing,
        snapshot=snapshot,
        actions=tuple(available(snapshot, actor.role)),
        booking=parts["booking"],
        procedure=parts["procedure"],
        observations=tuple(uow.records.observations(case_id)) if treated else (),
        discharge=parts["discharge"],
        follow_ups=tuple(uow.records.follow_ups(case_id)) if treated else (),
        complications=tuple(uow.records.complications(case_id)) if treated else (),
        documentation_missing=documentation_missing(facts, assessment),
    )


def chart(uow: UnitOfWork, patient_id: int, actor: Actor, policy: ClinicPolicy) -> Chart:
    """Return a patient's chart with every case and the timeline; audits the read."""
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}", field="patient_id")
    views = tuple(
        case_view(uow, w.case_id, actor, policy, audit=False) for w in uow.workflows.cases_of_patient(patient_id)
    )
    _audit(uow, actor, "read", "patient", patient_id, patient_id, view="chart")
    reads = uow.audit.count(patient_id=patient_id, action="read")
    return Chart(patient, views, tuple(uow.audit.timeline(patient_id)), reads)


def _save_assessment(uow: UnitOfWork, workflow: CaseWorkflow, facts: Case, policy: ClinicPolicy) -> Assessment:
    assessment = assess(facts, policy)
    default = assessment.default_verdict
    uow.assessments.add(
        StoredAssessment(
            case_id=workflow.case_id,
            ruleset_version=assessment.ruleset_version,
            default_profile=default.profile,
            default_category=default.category.value,
            treatment=assessment.recommendation.treatment.value,
            result=assessment_json(assessment),
        )
    )
    workflow.treatment = assessment.recommendation.treatment.value
    workflow.default_category = default.category.value
    return assessment


def update_facts(
    uow: UnitOfWork,
    case_id: int,
    changes: dict[str, Any],
    actor: Actor,
    policy: ClinicPolicy,
    *,
    expected_version: int | None,
) -> Assessment:
    """Apply changes to a case's facts (validated strictly, whole case), re-assess and store the result.

    ``changes`` is a JSON-mode patch: top-level keys replace, ``fractures`` entries merge by level.
    Raises InvalidInput naming the JSON path when the changed case is not valid; nothing is written.
    """
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    data = dict(workflow.case.facts)
    for key, value in changes.items():
        if key == "fractures" and isinstance(value, list):
            by_level = {f["level"]: dict(f) for f in data.get("fractures", [])}
            for fracture in value:
                by_level.setdefault(fracture["level"], {}).update(fracture)
            data["fractures"] = list(by_level.values())
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    try:
        facts = Case.model_validate_json(json.dumps(data))
    except ValidationError as error:
        problems = validation_problems(error)
        raise InvalidInput("; ".join(problems), field=problems[0].split(":")[0]) from error
    workflow.case.facts = facts.model_dump(mode="json")
    workflow.case.procedure_date = facts.procedure_date
    workflow.updated_at = utc_now()
    uow.session.flush()
    assessment = _save_assessment(uow, workflow, facts, policy)
    _audit(uow, actor, "update", "case", case_id, workflow.case.patient_id, fields=sorted(changes))
    return assessment


def take_action(
    uow: UnitOfWork,
    case_id: int,
    action: Action,
    actor: Actor,
    policy: ClinicPolicy,
    *,
    expected_version: int | None,
    reason: str | None = None,
) -> CaseWorkflow:
    """Move a case along its path if the guard allows it; every refusal says why."""
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    if action in (Action.ACCEPT, Action.DECLINE):
        reason = (reason or "").strip() or None
        if reason and len(reason) < 10:
            raise InvalidInput("write a reason of at least 10 characters", field="reason")
        workflow.decision_reason = reason
    view = case_view(uow, case_id, actor, policy, audit=False)
    snapshot = dataclasses.replace(view.snapshot, closing_reason=reason if action is Action.CLOSE else None)
    verdict = evaluate(action, snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    before = workflow.state
    workflow.state = verdict.target.value
    workflow.updated_at = utc_now()
    if action in (Action.ACCEPT, Action.DECLINE):
        workflow.decision = "accept" if action is Action.ACCEPT else "decline"
        workflow.decided_by = actor.username
        workflow.decided_at = utc_now()
        against = (action is Action.ACCEPT) != view.snapshot.recommended_augmentation
        _audit(
            uow,
            actor,
            "decide",
            "case",
            case_id,
            workflow.case.patient_id,
            decision=workflow.decision,
            against_recommendation=against,
        )
    if action is Action.START_FOLLOW_UP:
        _schedule_follow_ups(uow, view)
    uow.session.flush()
    _audit(
        uow, actor, "transition", "case", case_id, workflow.case.patient_id, **{"from": before, "to": workflow.state}
    )
    return workflow


def save_checklist(
    uow: UnitOfWork, case_id: int, confirmations: Confirmations, actor: Actor, *, expected_version: int | None
) -> CaseWorkflow:
    """Record the pre-procedure call's confirmations."""
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    workflow.checklist = dataclasses.asdict(confirmations)
    workflow.updated_at = utc_now()
    uow.session.flush()
    _audit(uow, actor, "update", "checklist", case_id, workflow.case.patient_id)
    return workflow


def save_insurance(
    uow: UnitOfWork,
    case_id: int,
    *,
    payer: str | None,
    status: str,
    reference: str | None,
    actor: Actor,
    expected_version: int | None,
) -> CaseWorkflow:
    """Record the payer, the pre-approval status (or a self-pay decision) and its reference."""
    from vertebro.store.models import INSURANCE_STATUSES

    if status not in INSURANCE_STATUSES:
        raise InvalidInput(f"choose one of {', '.join(INSURANCE_STATUSES)}", field="status")
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    workflow.insurance_payer = (payer or "").strip() or None
    workflow.insurance_status = status
    workflow.insurance_reference = (reference or "").strip() or None
    workflow.updated_at = utc_now()
    uow.session.flush()
    _audit(uow, actor, "update", "insurance", case_id, workflow.case.patient_id, status=status)
    return workflow


def free_slots(uow: UnitOfWork, start: dt.datetime, days: int) -> list[tuple[Slot, int | None]]:
    """Return the calendar's slots for ``days`` days from ``start`` with the booking holding each."""
    return uow.bookings.slots_between(start, start + dt.timedelta(days=days))


def book(
    uow: UnitOfWork,
    case_id: int,
    *,
    room: str,
    starts_at: dt.datetime,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
) -> Booking:
    """Book a case into consecutive slots of a room, re-plan its dates and move it to 'scheduled'.

    The guard runs with the new date (holds must still be completable); the database refuses a slot
    that another booking holds, so a slot can never be double-booked.
    """
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    sessions = assess(facts_of(workflow.case), policy).recommendation.sessions
    minutes = room_minutes(len(sessions[0]) if sessions else 1, policy)
    slots = uow.bookings.consecutive_slots(room, starts_at, minutes)
    covered = sum(int((s.ends_at - s.starts_at).total_seconds() // 60) for s in slots)
    if not slots or slots[0].starts_at != starts_at or covered < minutes:
        raise InvalidInput(f"{room} has no run of slots covering {minutes} minutes from this time", field="slot")
    local_start = starts_at.astimezone().replace(tzinfo=None)
    update_facts(
        uow,
        case_id,
        {"procedure_date": local_start.date().isoformat(), "procedure_time": local_start.time().isoformat("minutes")},
        actor,
        policy,
        expected_version=None,
    )
    view = case_view(uow, case_id, actor, policy, audit=False)
    verdict = evaluate(Action.BOOK, view.snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    booking = uow.bookings.reserve(
        Booking(
            case_id=case_id,
            room=room,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            booked_by=actor.username,
        ),
        slots,
    )
    workflow.state = State.SCHEDULED.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    _audit(
        uow, actor, "book", "booking", booking.id, workflow.case.patient_id, room=room, starts_at=starts_at.isoformat()
    )
    return booking


def cancel_booking(
    uow: UnitOfWork, case_id: int, *, reason: str, actor: Actor, policy: ClinicPolicy, expected_version: int | None
) -> None:
    """Cancel a case's booking, free its slots and move it back to 'prepared'."""
    booking = uow.bookings.active_booking(case_id)
    if booking is None:
        raise NotFound("this case has no booking", field="booking")
    take_action(uow, case_id, Action.CANCEL_BOOKING, actor, policy, expected_version=expected_version)
    uow.bookings.release(booking)
    booking.status = "cancelled"
    booking.cancelled_at = utc_now()
    booking.cancel_reason = reason.strip() or None
    uow.session.flush()


@dataclass(frozen=True, slots=True)
class LevelRecord:
    """What the radiologist records for one treated level."""

    level: str
    approach: str
    guidance: str
    contrast: bool
    cement_product: str
    cement_volume_ml: float
    leakage: str
    leakage_symptomatic: bool


def record_procedure(
    uow: UnitOfWork,
    case_id: int,
    *,
    levels: list[LevelRecord],
    sedation: bool,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    complications: list[str],
    notes: str | None,
    sign: bool,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
) -> ProcedureRecord:
    """Record (and optionally sign) the procedure level by level; signing moves the case to monitoring."""
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    if workflow.state != State.IN_PROCEDURE.value:
        raise Conflict(f"the case is {workflow.state}: start the procedure first", field="state")
    if not levels:
        raise InvalidInput("record at least one treated level", field="levels")
    if ended_at is not None and ended_at < started_at:
        raise InvalidInput("the end time is before the start time", field="ended_at")
    record = uow.records.procedure(case_id)
    if record is not None and record.signed_at is not None:
        raise Conflict("the procedure record is signed and can no longer change", field="procedure")
    level_rows = [ProcedureLevel(**dataclasses.asdict(level)) for level in levels]
    if record is None:
        record = ProcedureRecord(case_id=case_id, operator=actor.username, started_at=started_at, levels=level_rows)
        uow.records.add(record)
    else:
        record.levels = level_rows
    record.sedation = sedation
    record.started_at = started_at
    record.ended_at = ended_at
    record.complications = [c for c in complications if c]
    record.notes = (notes or "").strip() or None
    uow.session.flush()
    _audit(uow, actor, "update", "procedure", record.id, workflow.case.patient_id, levels=[lv.level for lv in levels])
    if sign:
        if ended_at is None:
            raise InvalidInput("record the end time before signing", field="ended_at")
        record.signed_by = actor.username
        record.signed_at = utc_now()
        uow.session.flush()
        take_action(uow, case_id, Action.SIGN_PROCEDURE, actor, policy, expected_version=None)
    return record


def record_observation(uow: UnitOfWork, case_id: int, *, kind: str, value: dict[str, Any], actor: Actor) -> Observation:
    """Record a monitoring observation (vitals, neuro check, pain) while the patient is monitored."""
    workflow = _workflow(uow, case_id)
    if workflow.state not in (State.IN_PROCEDURE.value, State.MONITORING.value):
        raise Conflict(f"the case is {workflow.state}: observations are recorded during monitoring", field="state")
    observation = Observation(case_id=case_id, kind=kind, value=value, recorded_by=actor.username)
    uow.records.add(observation)
    _audit(uow, actor, "create", "observation", observation.id, workflow.case.patient_id, kind=kind)
    return observation


DISCHARGE_CRITERIA = (
    "neuro_baseline",
    "walking",
    "pain_not_above_baseline",
    "tolerating_oral_intake",
)


def discharge(
    uow: UnitOfWork,
    case_id: int,
    *,
    criteria: dict[str, bool],
    aldrete: int | None,
    driver_name: str | None,
    companion_name: str | None,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
) -> Discharge:
    """Discharge a monitored patient when every criterion is met (and, after sedation, the escort named)."""
    workflow = _workflow(uow, case_id, for_update=True)
    _check_version(workflow, expected_version)
    facts = facts_of(workflow.case)
    missing = [name.replace("_", " ") for name in DISCHARGE_CRITERIA if not criteria.get(name)]
    if facts.sedation_planned and (aldrete is None or aldrete < 9):
        missing.append("Aldrete score of 9 or more")
    record = uow.records.discharge(case_id) or Discharge(case_id=case_id, discharged_by=actor.username, criteria={})
    record.criteria = {**criteria, "aldrete": aldrete}
    record.driver_name = (driver_name or "").strip() or None
    record.companion_name = (companion_name or "").strip() or None
    record.aftercare_issued = True
    view = case_view(uow, case_id, actor, policy, audit=False)
    snapshot = dataclasses.replace(
        view.snapshot,
        discharge_criteria_missing=tuple(missing),
        driver_confirmed=bool(record.driver_name),
        companion_confirmed=bool(record.companion_name),
    )
    verdict = evaluate(Action.DISCHARGE, snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    if uow.records.discharge(case_id) is None:
        uow.records.add(record)
    workflow.state = State.DISCHARGED.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    _audit(
        uow,
        actor,
        "transition",
        "case",
        case_id,
        workflow.case.patient_id,
        **{"from": "monitoring", "to": "discharged"},
    )
    return record


def _schedule_follow_ups(uow: UnitOfWork, view: CaseView) -> None:
    start = view.discharge.discharged_at.date() if view.discharge else dt.date.today()
    for visit, (lo, hi) in {"2w": (14, 28), "3m": (84, 105), "12m": (358, 386)}.items():
        if uow.records.follow_up(view.workflow.case_id, visit) is None:
            uow.records.add(
                FollowUp(
                    case_id=view.workflow.case_id,
                    visit=visit,
                    due_from=start + dt.timedelta(days=lo),
                    due_until=start + dt.timedelta(days=hi),
                )
            )


def record_follow_up(
    uow: UnitOfWork, case_id: int, *, visit: str, nrs: int, odi_percent: float | None, rdq: int | None, actor: Actor
) -> FollowUp:
    """Record a follow-up questionnaire's scores."""
    workflow = _workflow(uow, case_id)
    follow_up = uow.records.follow_up(case_id, visit)
    if follow_up is None:
        raise NotFound(f"no {visit} follow-up is planned for this case", field="visit")
    follow_up.nrs = nrs
    follow_up.odi_percent = odi_percent
    follow_up.rdq = rdq
    follow_up.completed_at = utc_now()
    follow_up.recorded_by = actor.username
    uow.session.flush()
    _audit(uow, actor, "update", "follow_up", follow_up.id, workflow.case.patient_id, visit=visit)
    return follow_up


def record_complication(
    uow: UnitOfWork, case_id: int, *, kind: str, occurred_on: dt.date, serious: bool, notes: str | None, actor: Actor
) -> Complication:
    """Record a complication noticed after the procedure."""
    workflow = _workflow(uow, case_id)
    if State(workflow.state) not in TREATED_OR_LATER:
        raise Conflict(f"the case is {workflow.state}: there is no procedure to have a complication", field="state")
    complication = Complication(
        case_id=case_id, kind=kind, occurred_on=occurred_on, serious=serious, notes=notes, recorded_by=actor.username
    )
    uow.records.add(complication)
    _audit(uow, actor, "create", "complication", complication.id, workflow.case.patient_id, kind=kind)
    return complication


def worklist(uow: UnitOfWork, actor: Actor, *, state: str | None, query: str | None, limit: int) -> list[WorklistEntry]:
    """Return the worklist (filtered by state and search) and audit each patient shown as read."""
    entries = uow.workflows.worklist(state=state, query=query, limit=limit)
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({e.patient_id for e in entries}),
        detail={"role": actor.role.value, "view": "worklist"},
        source=actor.source,
    )
    return entries


COMPLICATION_KINDS = (
    "new_fracture",
    "adjacent_fracture",
    "infection",
    "cement_embolism",
    "symptomatic_cement_leak",
    "bleeding_or_haematoma",
    "new_neurological_deficit",
    "pain_flare",
    "other",
)


SLOT_MINUTES = 30
DAY_START = dt.time(8, 0)
DAY_END = dt.time(17, 0)


def ensure_calendar(uow: UnitOfWork, rooms: tuple[str, ...], start: dt.date, days: int) -> int:
    """Create the bookable slots (weekdays 08:00-17:00, 30-minute blocks) that do not exist yet; return how many."""
    first = dt.datetime.combine(start, DAY_START).astimezone()
    last = dt.datetime.combine(start + dt.timedelta(days=days), DAY_END).astimezone()
    existing = {(s.room, s.starts_at) for s, _ in uow.bookings.slots_between(first, last)}
    new: list[Slot] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        moment = dt.datetime.combine(day, DAY_START).astimezone()
        end = dt.datetime.combine(day, DAY_END).astimezone()
        while moment < end:
            for room in rooms:
                if (room, moment) not in existing:
                    new.append(Slot(room=room, starts_at=moment, ends_at=moment + dt.timedelta(minutes=SLOT_MINUTES)))
            moment += dt.timedelta(minutes=SLOT_MINUTES)
    if new:
        uow.bookings.add_slots(new)
    return len(new)
