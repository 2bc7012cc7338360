"""CarePlan: a case's aftercare, one activity per follow-up visit (2 weeks, 3 months, 12 months)."""

from __future__ import annotations

from vertebro.fhir.codes import local
from vertebro.fhir.elements import Resource, case_identifier, concept, reference
from vertebro.fhir.service_request import referral_id
from vertebro.store.models import FollowUp


def care_plan_id(case_id: int) -> str:
    """Return the FHIR id of a case's aftercare plan."""
    return f"c{case_id}-aftercare"


def care_plan(case_id: int, patient_id: int, levels: list[str], follow_ups: list[FollowUp]) -> Resource:
    """Return the aftercare CarePlan of a case with its follow-ups (completed ones point at their response)."""
    activities = []
    for follow_up in follow_ups:
        done = follow_up.completed_at is not None
        activity: Resource = {
            "detail": {
                "kind": "Task",
                "code": concept(local("follow-up-visit", follow_up.visit)),
                "status": "completed" if done else "scheduled",
                "scheduledPeriod": {"start": follow_up.due_from.isoformat(), "end": follow_up.due_until.isoformat()},
            }
        }
        if done:
            activity["outcomeReference"] = [reference("QuestionnaireResponse", f"f{follow_up.id}")]
        activities.append(activity)
    return {
        "resourceType": "CarePlan",
        "id": care_plan_id(case_id),
        "identifier": [case_identifier(case_id)],
        "status": "active" if any(a["detail"]["status"] != "completed" for a in activities) else "completed",
        "intent": "plan",
        "title": "Aftercare after vertebroplasty",
        "subject": reference("Patient", patient_id),
        "addresses": [reference("Condition", f"c{case_id}-{level}") for level in levels],
        "supportingInfo": [reference("ServiceRequest", referral_id(case_id))],  # R4 basedOn is CarePlan only
        "activity": activities,
    }
