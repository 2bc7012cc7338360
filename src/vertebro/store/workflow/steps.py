"""Steps on a case: facts and re-assessment, pathway transitions, the checklist and insurance."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pydantic import ValidationError

from vertebro.clinical import Assessment, Case, ClinicPolicy, assess, assessment_json
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.validation import validation_problems
from vertebro.errors import InvalidInput
from vertebro.pathway.checklist import Confirmations, holds_not_dated
from vertebro.pathway.handover import fact_handovers, stored_handover
from vertebro.pathway.machine import Action, evaluate
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    Assessment as StoredAssessment,
)
from vertebro.store.models import (
    CaseWorkflow,
)
from vertebro.store.workflow.base import (
    Actor,
    TransitionRefused,
    check_version,
    facts_of,
    load_workflow,
    record_audit,
)
from vertebro.store.workflow.chart import case_view
from vertebro.store.workflow.followups import plan_follow_ups

BOOKING_ACTIONS = {
    Action.BOOK: "booking needs a slot: choose one in the calendar (API: POST the case's /booking)",
    Action.CANCEL_BOOKING: "cancel through the booking's cancel form, with a reason and a confirmation",
}


def store_assessment(uow: UnitOfWork, workflow: CaseWorkflow, facts: Case, policy: ClinicPolicy) -> Assessment:
    assessment = assess(facts, policy)
    default = assessment.default_verdict
    result = assessment_json(assessment)
    uow.assessments.add(
        StoredAssessment(
            case_id=workflow.case_id,
            ruleset_version=assessment.ruleset_version,
            default_profile=default.profile,
            default_category=default.category.value,
            treatment=assessment.recommendation.treatment.value,
            result=result,
        )
    )
    workflow.handover_roles, workflow.handover = stored_handover(fact_handovers(result))
    workflow.treatment = assessment.recommendation.treatment.value
    workflow.default_category = default.category.value
    workflow.default_profile = default.profile
    return assessment


def apply_facts(uow: UnitOfWork, workflow: CaseWorkflow, changes: dict[str, Any], policy: ClinicPolicy) -> Assessment:
    """Merge a JSON-mode patch into a (locked) workflow's case facts, validate the whole case, re-assess, store.

    Top-level keys replace, nested objects merge, ``fractures`` entries merge by level. Raises InvalidInput
    naming the JSON path when the changed case is not valid; nothing is written then. The caller audits.
    """
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
    return store_assessment(uow, workflow, facts, policy)


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
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    assessment = apply_facts(uow, workflow, changes, policy)
    record_audit(uow, actor, "update", "case", case_id, workflow.case.patient_id, fields=sorted(changes))
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
    """Move a case along its path if the guard allows it; every refusal says why.

    Booking and cancelling change a booking with the state, so they go through ``booking.book`` and
    ``booking.cancel_booking`` only: a bare transition would leave the state and the booking apart.
    """
    if action in BOOKING_ACTIONS:
        raise InvalidInput(BOOKING_ACTIONS[action], field="action")
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
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
    if action is Action.UNDO_DECISION:  # the decision and its undo both stay in the audit log (decision 0033)
        record_audit(
            uow,
            actor,
            "undo",
            "case",
            case_id,
            workflow.case.patient_id,
            decision=workflow.decision,
            decided_at=None if workflow.decided_at is None else workflow.decided_at.isoformat(),
            reason=workflow.decision_reason,
        )
        workflow.decision = workflow.decided_by = workflow.decided_at = None
        workflow.decision_reason = workflow.decision_category = None
    if action in (Action.ACCEPT, Action.DECLINE):
        workflow.decision = "accept" if action is Action.ACCEPT else "decline"
        workflow.decided_by = actor.username
        workflow.decided_at = utc_now()
        workflow.decision_category = workflow.default_category  # the verdict the decision was taken on
        against = (action is Action.ACCEPT) != view.snapshot.recommended_augmentation
        record_audit(
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
        plan_follow_ups(uow, view, policy.time_zone)
    uow.session.flush()
    record_audit(
        uow, actor, "transition", "case", case_id, workflow.case.patient_id, **{"from": before, "to": workflow.state}
    )
    return workflow


def save_checklist(
    uow: UnitOfWork,
    case_id: int,
    confirmations: Confirmations,
    actor: Actor,
    *,
    expected_version: int | None,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> CaseWorkflow:
    """Record the pre-procedure call's confirmations.

    "Holds and restart dates explained" is refused while a hold has no dates yet (pathway.checklist.holds_not_dated).
    """
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    if confirmations.holds_explained:
        facts = facts_of(workflow.case)
        undated = holds_not_dated(facts, assess(facts, policy))
        if undated:
            raise InvalidInput(
                "the hold and restart dates cannot be explained yet: " + "; ".join(undated), field="holds_explained"
            )
    workflow.checklist = dataclasses.asdict(confirmations)
    workflow.updated_at = utc_now()
    uow.session.flush()
    record_audit(uow, actor, "update", "checklist", case_id, workflow.case.patient_id)
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
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    workflow.insurance_payer = (payer or "").strip() or None
    workflow.insurance_status = status
    workflow.insurance_reference = (reference or "").strip() or None
    workflow.updated_at = utc_now()
    uow.session.flush()
    record_audit(uow, actor, "update", "insurance", case_id, workflow.case.patient_id, status=status)
    return workflow
