"""MedicationStatement: a current medication of the case (name, purpose, route, and what holds wait for).

The thrombotic risk and the recorded prescriber decision (decision 0016) travel as two vertebro
extensions, so a FHIR export and import keeps the decision a hold date rests on.
"""

from __future__ import annotations

from typing import Any

from vertebro.fhir.codes import local, system
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
    extensions = []
    if medication.get("thrombotic_risk"):
        extensions.append({"url": system("thrombotic-risk-extension"), "valueCode": medication["thrombotic_risk"]})
    decision = medication.get("prescriber_decision")
    if decision:
        parts: list[dict[str, Any]] = [
            {"url": "decision", "valueCode": decision["decision"]},
            {"url": "agreedOn", "valueDate": decision["agreed_on"]},
            {"url": "recordedBy", "valueString": decision["recorded_by"]},
        ]
        if decision.get("stop_days_before") is not None:
            parts.append({"url": "stopDaysBefore", "valueInteger": decision["stop_days_before"]})
        if decision.get("note"):
            parts.append({"url": "note", "valueString": decision["note"]})
        extensions.append({"url": system("prescriber-decision-extension"), "extension": parts})
    if extensions:
        resource["extension"] = extensions
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
