"""The chart: one case as staff see it (assessed now), the patient's chart and the worklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vertebro.clinical import Assessment, Case, ClinicPolicy, assess, assessment_json
from vertebro.clinical.recommendation import AUGMENTATION
from vertebro.clinical.recovery import ObservationSchedule, monitoring_minutes, observation_schedule
from vertebro.errors import NotFound
from vertebro.pathway.checklist import Confirmations, holds_not_dated, missing_items
from vertebro.pathway.handover import BEFORE_PROCEDURE, states_for
from vertebro.pathway.machine import CaseSnapshot, Role, State, Verdict, available
from vertebro.pathway.monitoring import MonitoringStatus, monitoring_status
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.fact_sources import FactSourcesView, view_of
from vertebro.store.models import (
    AuditEntry,
    Booking,
    CaseWorkflow,
    Complication,
    Discharge,
    FollowUp,
    Observation,
    Patient,
    ProcedureRecord,
)
from vertebro.store.workflow.base import (
    BOOKED_OR_LATER,
    INSURANCE_CLEARED,
    TREATED_OR_LATER,
    Actor,
    confirmations_of,
    facts_of,
    load_workflow,
    record_audit,
    start_allowed,
)
from vertebro.store.workflow_repository import ForRole, WorklistEntry


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
    monitoring: MonitoringStatus | None = None
    schedule: ObservationSchedule | None = None  # the observation checks while monitored (decision 0034)
    holds_undated: tuple[str, ...] = ()  # why "holds and restart dates explained" cannot be ticked yet


@dataclass(frozen=True, slots=True)
class Chart:
    """A patient's chart: the patient, each case, and the timeline."""

    patient: Patient
    cases: tuple[CaseView, ...]
    timeline: tuple[AuditEntry, ...]  # newest first, reads left out
    fact_sources: dict[int, FactSourcesView] = field(default_factory=dict)  # by case id: cases read from FHIR


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


def case_snapshot(view_parts: dict[str, Any]) -> CaseSnapshot:
    workflow: CaseWorkflow = view_parts["workflow"]
    facts: Case = view_parts["facts"]
    assessment: Assessment = view_parts["assessment"]
    discharge: Discharge | None = view_parts["discharge"]
    procedure: ProcedureRecord | None = view_parts["procedure"]
    holds_ok = view_parts.get("holds_completable", True)
    actor: Actor | None = view_parts.get("actor")
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
        monitoring_concerns=view_parts["monitoring"].concerns if view_parts.get("monitoring") else (),
        decided_ago=None if workflow.decided_at is None else utc_now() - workflow.decided_at,
        decided_by_actor=actor is not None and workflow.decided_by == actor.username,
    )


def monitoring_of(
    procedure: ProcedureRecord | None, observations: tuple[Observation, ...], policy: ClinicPolicy
) -> MonitoringStatus:
    """Return where monitoring stands: the recovery plan's time for the levels and sedation recorded, from the
    recorded end of the procedure, and the observation sets (pathway.monitoring)."""
    levels = len(procedure.levels) if procedure is not None else 1
    planned = monitoring_minutes(max(levels, 1), bool(procedure and procedure.sedation), policy)
    return monitoring_status(
        now=utc_now(),
        procedure_end=None if procedure is None else procedure.ended_at,
        planned_minutes=planned,
        observations=[o.value for o in observations if o.kind == "vitals"],
        zone_name=policy.time_zone,
    )


def schedule_of(
    procedure: ProcedureRecord | None, observations: tuple[Observation, ...], policy: ClinicPolicy
) -> ObservationSchedule | None:
    """Return the observation checks after the recorded end of the procedure (recovery.observation_schedule), or
    None while the end is not recorded."""
    if procedure is None or procedure.ended_at is None:
        return None
    levels = len(procedure.levels)
    planned = monitoring_minutes(max(levels, 1), bool(procedure.sedation), policy)
    taken = tuple(o.taken_at for o in observations if o.kind == "vitals")
    return observation_schedule(procedure.ended_at, planned, taken, utc_now(), policy)


def overdue_checks(uow: UnitOfWork, case_ids: list[int], policy: ClinicPolicy) -> dict[int, int]:
    """Return how many observation checks are overdue for each monitored case given (recovery.observation_schedule);
    cases without one are left out. Two queries per case: the worklist shows few monitored cases at a time."""
    counts: dict[int, int] = {}
    for case_id in case_ids:
        observations = tuple(uow.records.observations(case_id))
        schedule = schedule_of(uow.records.procedure(case_id), observations, policy)
        if schedule is not None and schedule.overdue:
            counts[case_id] = len(schedule.overdue)
    return counts


def case_view(uow: UnitOfWork, case_id: int, actor: Actor, policy: ClinicPolicy, *, audit: bool = True) -> CaseView:
    """Return one case as the chart shows it (assessed now with the current ruleset); audits the read."""
    return view_of_workflow(uow, load_workflow(uow, case_id), actor, policy, audit=audit)


def view_of_workflow(
    uow: UnitOfWork, workflow: CaseWorkflow, actor: Actor, policy: ClinicPolicy, *, audit: bool = True
) -> CaseView:
    """Return the chart's view of an already loaded workflow (with its case and patient); audits the read."""
    case_id = workflow.case_id
    facts = facts_of(workflow.case)
    assessment = assess(facts, policy)
    confirmations = confirmations_of(workflow)
    missing = missing_items(facts, assessment, confirmations)
    state = State(workflow.state)
    booked = state in BOOKED_OR_LATER
    treated = state in TREATED_OR_LATER
    parts: dict[str, Any] = {
        "actor": actor,
        "workflow": workflow,
        "facts": facts,
        "assessment": assessment,
        "checklist_missing": missing,
        "booking": uow.bookings.active_booking(case_id) if booked else None,
        "procedure": uow.records.procedure(case_id) if treated else None,
        "discharge": uow.records.discharge(case_id) if treated else None,
    }
    if state is State.PREPARED:  # only booking looks at it: the recorded start, judged now (booking.feasible_start)
        parts["holds_completable"] = start_allowed(facts, policy)
    observations = tuple(uow.records.observations(case_id)) if treated else ()
    if state is State.MONITORING:
        parts["monitoring"] = monitoring_of(parts["procedure"], observations, policy)
        parts["schedule"] = schedule_of(parts["procedure"], observations, policy)
    snapshot = case_snapshot(parts)
    if audit:
        record_audit(uow, actor, "read", "case", case_id, workflow.case.patient_id)
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
        observations=observations,
        discharge=parts["discharge"],
        follow_ups=tuple(uow.records.follow_ups(case_id)) if treated else (),
        complications=tuple(uow.records.complications(case_id)) if treated else (),
        documentation_missing=documentation_missing(facts, assessment),
        monitoring=parts.get("monitoring"),
        schedule=parts.get("schedule"),
        holds_undated=holds_not_dated(facts, assessment),
    )


def chart(uow: UnitOfWork, patient_id: int, actor: Actor, policy: ClinicPolicy) -> Chart:
    """Return a patient's chart with every case and the timeline; audits the read."""
    workflows = uow.workflows.cases_of_patient(patient_id)  # loads the patient with the cases
    patient = workflows[0].case.patient if workflows else uow.patients.get(patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}", field="patient_id")
    views = tuple(view_of_workflow(uow, w, actor, policy, audit=False) for w in workflows)
    record_audit(uow, actor, "read", "patient", patient_id, patient_id, view="chart")
    stored = uow.cases.fact_sources([w.case_id for w in workflows])
    sources = {
        view.workflow.case_id: view_of(stored[view.workflow.case_id], view.facts.model_dump(mode="json"))
        for view in views
        if view.workflow.case_id in stored
    }
    return Chart(patient, views, tuple(uow.audit.timeline(patient_id)), sources)


def worklist(
    uow: UnitOfWork,
    actor: Actor,
    *,
    state: str | None,
    query: str | None,
    limit: int,
    sort: str = "updated",
    descending: bool = True,
    for_you: bool = False,
    change_asked: bool = False,
) -> list[WorklistEntry]:
    """Return the worklist (filtered by state, search, "for you" and an open change request of the patient, sorted)
    and audit each patient shown as read."""
    entries = uow.workflows.worklist(
        state=state,
        query=query,
        limit=limit,
        sort=sort,
        descending=descending,
        for_role=for_role(actor.role) if for_you else None,
        change_asked=change_asked,
    )
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({e.patient_id for e in entries}),
        detail={"role": actor.role.value, "view": "worklist"},
        source=actor.source,
    )
    return entries


def for_role(role: Role) -> ForRole:
    """Return the worklist's "for you" of a role: the states whose next step it takes (pathway.handover.NEXT_STEP,
    from the permission map) and the cases before the procedure whose hand-over names it."""
    return ForRole(
        role.value,
        tuple(sorted(s.value for s in states_for(role))),
        tuple(sorted(s.value for s in BEFORE_PROCEDURE)),
    )
