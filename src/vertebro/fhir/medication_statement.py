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
