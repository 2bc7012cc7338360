"""MedicationStatement: a current medication of the case (name, purpose, route)."""

from __future__ import annotations

from typing import Any

from vertebro.fhir.codes import local
from vertebro.fhir.elements import Resource, case_identifier, concept, reference


def medication_statement(resource_id: str, patient_id: int, case_id: int, medication: dict[str, Any]) -> Resource:
    """Return the MedicationStatement of one medication (``purpose`` as reasonCode, ``route`` in dosage)."""
    resource: Resource = {
        "resourceType": "MedicationStatement",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "status": "active",
        "medicationCodeableConcept": concept(text=medication["name"]),
        "subject": reference("Patient", patient_id),
    }
    if medication.get("purpose"):
        resource["reasonCode"] = [concept(local("medication-purpose", medication["purpose"]))]
    if medication.get("route"):
        resource["dosage"] = [{"route": concept(local("route", medication["route"]))}]
    return resource


IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
NO_KNOWN_MEDICATIONS = {"system": IPS_ABSENT, "code": "no-known-medications", "display": "No known medications"}


def no_known_medications(resource_id: str, patient_id: int, case_id: int) -> Resource:
    """Return the MedicationStatement that says the list was reviewed and is empty (IPS "no known medications").

    An empty medication list means "reviewed: takes none"; no MedicationStatement at all means "not reviewed".
    """
    return {
        "resourceType": "MedicationStatement",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "status": "active",
        "medicationCodeableConcept": concept(NO_KNOWN_MEDICATIONS, text="No known medications"),
        "subject": reference("Patient", patient_id),
    }
