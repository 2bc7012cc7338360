"""The prescriber's decision on one medicine, recorded by a clinician on the chart (audited, re-assessed).

Antiplatelet therapy for secondary prevention and anticoagulation at high thrombotic risk get no hold
date until this decision is recorded (rules medications.antiplatelet_secondary_decision and
medications.thrombotic_risk_decision); once it is, the hold dates follow it
(medications.prescriber_decision_recorded). The clinician who records it is the signed-in user, never
a value typed in the form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from vertebro.clinical import Assessment, ClinicPolicy
from vertebro.errors import InvalidInput
from vertebro.store.base import clinic_today
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow.base import Actor, check_version, facts_of, load_workflow, record_audit
from vertebro.store.workflow.steps import apply_facts

Decision = Literal["hold", "continue", "bridge"]
ThromboticRisk = Literal["high", "moderate", "low"]
DECISIONS: tuple[Decision, ...] = ("hold", "continue", "bridge")
THROMBOTIC_RISKS: tuple[ThromboticRisk, ...] = ("high", "moderate", "low")


def as_decision(value: str | None) -> Decision | None:
    """Return the decision a form field names (None when empty); InvalidInput for anything else."""
    for decision in DECISIONS:
        if value == decision:
            return decision
    if value is None:
        return None
    raise InvalidInput(f"choose one of: {', '.join(DECISIONS)}", field="decision")


def as_thrombotic_risk(value: str | None) -> ThromboticRisk | None:
    """Return the thrombotic risk a form field names (None when empty); InvalidInput for anything else."""
    for risk in THROMBOTIC_RISKS:
        if value == risk:
            return risk
    if value is None:
        return None
    raise InvalidInput(f"choose one of: {', '.join(THROMBOTIC_RISKS)}", field="thrombotic_risk")


@dataclass(frozen=True, slots=True)
class PrescriberAnswer:
    """What the form gives: the thrombotic risk and/or the decision with the date the prescriber agreed."""

    medication: int  # its position on the case's medication list
    drug: str  # the name the user saw (guards against a list that changed meanwhile)
    thrombotic_risk: ThromboticRisk | None
    decision: Decision | None
    agreed_on: dt.date | None
    stop_days_before: int | None
    note: str | None


def record_prescriber_decision(
    uow: UnitOfWork,
    case_id: int,
    answer: PrescriberAnswer,
    actor: Actor,
    policy: ClinicPolicy,
    *,
    expected_version: int | None,
    today: dt.date | None = None,
) -> Assessment:
    """Store the thrombotic risk and the prescriber's decision on one medicine, re-assess, audit the change.

    Raises InvalidInput when the medicine is not on the list, when a decision has no date agreed, when
    that date is in the future, or when nothing was given.
    """
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    facts = facts_of(workflow.case)
    medications = list(facts.medications or ())
    if not 0 <= answer.medication < len(medications) or medications[answer.medication].name != answer.drug:
        raise InvalidInput(f"{answer.drug} is not on this case's medication list; reload the chart", field="medication")
    if answer.decision is None and answer.thrombotic_risk is None:
        raise InvalidInput("give the thrombotic risk or the prescriber's decision", field="decision")
    med = medications[answer.medication].model_dump(mode="json")
    if answer.thrombotic_risk is not None:
        med["thrombotic_risk"] = answer.thrombotic_risk
    if answer.decision is not None:
        if answer.agreed_on is None:
            raise InvalidInput("give the date the prescriber agreed", field="agreed_on")
        if answer.agreed_on > (today or clinic_today(policy.time_zone)):
            raise InvalidInput("the date the prescriber agreed cannot be in the future", field="agreed_on")
        med["prescriber_decision"] = {
            "decision": answer.decision,
            "agreed_on": answer.agreed_on.isoformat(),
            "recorded_by": actor.username,
            "stop_days_before": answer.stop_days_before,
            "note": answer.note,
        }
    dumped = [m.model_dump(mode="json") for m in medications]
    dumped[answer.medication] = med
    assessment = apply_facts(uow, workflow, {"medications": dumped}, policy)
    record_audit(
        uow,
        actor,
        "update",
        "case",
        case_id,
        workflow.case.patient_id,
        fields=["medications"],
        medication=answer.drug,
        thrombotic_risk=answer.thrombotic_risk,
        prescriber_decision=answer.decision,
        agreed_on=None if answer.agreed_on is None else answer.agreed_on.isoformat(),
    )
    return assessment


def record_creatinine_clearance(
    uow: UnitOfWork,
    case_id: int,
    value: float,
    actor: Actor,
    policy: ClinicPolicy,
    *,
    expected_version: int | None,
) -> Assessment:
    """Store the creatinine clearance (mL/min) that the DOAC intervals need (rule asra.doac), re-assess, audit."""
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    assessment = apply_facts(uow, workflow, {"labs": {"creatinine_clearance_ml_min": value}}, policy)
    record_audit(
        uow, actor, "update", "case", case_id, workflow.case.patient_id, fields=["labs.creatinine_clearance_ml_min"]
    )
    return assessment
