"""Provenance: who signed a procedure record, and who decided on a case (accept or decline)."""

from __future__ import annotations

import datetime as dt

from vertebro.fhir.codes import codings, maps
from vertebro.fhir.elements import Resource, concept, reference


def _agent(role: str, who: str) -> Resource:
    return {"type": concept(*codings([maps()["workflow"][role]])), "who": {"display": who}}


def signature_provenance(procedure_id: int, target_ids: list[str], signed_by: str, signed_at: dt.datetime) -> Resource:
    """Return the Provenance of a signed procedure record (its per-level Procedures), signer as verifier."""
    return {
        "resourceType": "Provenance",
        "id": f"p{procedure_id}-signed",
        "target": [reference("Procedure", i) for i in target_ids],
        "recorded": signed_at.isoformat(),
        "agent": [_agent("provenance_verifier", signed_by)],
    }


def decision_provenance(case_id: int, target_id: str, decided_by: str, decided_at: dt.datetime) -> Resource:
    """Return the Provenance of the decision on a case's referral, the decider as author."""
    return {
        "resourceType": "Provenance",
        "id": f"c{case_id}-decision",
        "target": [reference("ServiceRequest", target_id)],
        "recorded": decided_at.isoformat(),
        "agent": [_agent("provenance_author", decided_by)],
    }
