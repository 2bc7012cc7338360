"""CDS Hooks requests built from a demo case's FHIR resources (shared by the unit and integration tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.fhir.test_case_mapping import DEMO, _resources

VERTEBROPLASTY = {
    "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "22511"}],
    "text": "Vertebroplasty L1",
}


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a searchset Bundle of resources (as an EHR answers a prefetch query)."""
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def order(occurrence: str | None = "2030-03-12", code: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a draft vertebral augmentation ServiceRequest."""
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "code": code or VERTEBROPLASTY,
        "subject": {"reference": "Patient/ehr-7"},
    }
    if occurrence:
        request["occurrenceDateTime"] = occurrence
    return request


def hook_request(
    hook: str, path: Path = DEMO[0], *, identifier: str | None = None, orders: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return a CDS Hooks request whose prefetch holds the demo case's Patient, Conditions and Observations."""
    resources = _resources(path)
    patient = resources[0]
    if identifier is not None:
        patient["identifier"] = [{"system": "urn:oid:1.2.3", "value": identifier}]

    def of(kind: str) -> dict[str, Any]:
        return searchset([r for r in resources if r["resourceType"] == kind])

    context: dict[str, Any] = {"userId": "Practitioner/1", "patientId": str(patient["id"])}
    if hook != "patient-view":
        context["draftOrders"] = searchset(orders if orders is not None else [order()])
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": context,
        "prefetch": {
            "patient": patient,
            "conditions": of("Condition"),
            "observations": of("Observation"),
            "medicationStatements": of("MedicationStatement"),
            "medicationRequests": None,
            "allergies": of("AllergyIntolerance"),
        },
    }
