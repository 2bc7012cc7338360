"""ServiceRequest: the referral of a case for vertebroplasty; its status follows the case's workflow state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vertebro.fhir.codes import codings, local, maps
from vertebro.fhir.elements import Resource, case_identifier, concept, reference


def referral_id(case_id: int) -> str:
    """Return the FHIR id of a case's referral."""
    return f"c{case_id}-referral"


def service_request(
    case_id: int, patient_id: int, facts: dict[str, Any], state: str | None, created_at: dt.datetime
) -> Resource:
    """Return the ServiceRequest of a case: vertebroplasty at the fractured levels, for those fractures."""
    levels = [f["level"] for f in facts["fractures"]]
    return {
        "resourceType": "ServiceRequest",
        "id": referral_id(case_id),
        "identifier": [case_identifier(case_id)],
        "status": maps()["workflow"]["service_request_status"][state or "requested"],
        "intent": "order",
        "priority": "routine",
        "code": concept(*codings(maps()["procedure"]["vertebroplasty"])),
        "subject": reference("Patient", patient_id),
        "authoredOn": created_at.isoformat(),
        "bodySite": [concept(local("level", level)) for level in levels],
        "reasonReference": [reference("Condition", f"c{case_id}-{level}") for level in levels],
    }
