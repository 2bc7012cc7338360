"""Validate the FHIR resources we emit three ways: fhir.resources R4B models, the official R4 JSON schema
(per resource type), and our own checks of required bindings and reference target types."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from fhir.resources.R4B import get_fhir_model_class

SCHEMA = Path(__file__).resolve().parents[2] / "fixtures" / "fhir-examples" / "fhir.schema.json"

# Required bindings (the codes FHIR R4 allows) of elements we emit; fhir.resources does not check them.
REQUIRED_BINDINGS: dict[tuple[str, str], frozenset[str]] = {
    ("Observation", "status"): frozenset(
        {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
    ),
    ("MedicationStatement", "status"): frozenset(
        {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
    ),
    ("GuidanceResponse", "status"): frozenset(
        {"success", "data-requested", "data-required", "in-progress", "failure", "entered-in-error"}
    ),
    ("Procedure", "status"): frozenset(
        {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"}
    ),
    ("AdverseEvent", "actuality"): frozenset({"actual", "potential"}),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("ServiceRequest", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("ServiceRequest", "intent"): frozenset(
        {
            "proposal",
            "plan",
            "directive",
            "order",
            "original-order",
            "reflex-order",
            "filler-order",
            "instance-order",
            "option",
        }
    ),
    ("ServiceRequest", "priority"): frozenset({"routine", "urgent", "asap", "stat"}),
    ("Appointment", "status"): frozenset(
        {
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        }
    ),
    ("CarePlan", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("QuestionnaireResponse", "status"): frozenset(
        {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
    ),
    ("DocumentReference", "status"): frozenset({"current", "superseded", "entered-in-error"}),
    ("AuditEvent", "action"): frozenset({"C", "R", "U", "D", "E"}),
    ("AuditEvent", "outcome"): frozenset({"0", "4", "8", "12"}),
}
# Required bindings inside elements: (type, dotted path) -> allowed codes.
NESTED_BINDINGS: dict[tuple[str, str], frozenset[str]] = {
    ("Appointment", "participant.status"): frozenset({"accepted", "declined", "tentative", "needs-action"}),
    ("Appointment", "participant.required"): frozenset({"required", "optional", "information-only"}),
    ("CarePlan", "activity.detail.kind"): frozenset(
        {
            "Appointment",
            "CommunicationRequest",
            "DeviceRequest",
            "MedicationRequest",
            "NutritionOrder",
            "Task",
            "ServiceRequest",
            "VisionPrescription",
        }
    ),
    ("CarePlan", "activity.detail.status"): frozenset(
        {
            "not-started",
            "scheduled",
            "in-progress",
            "on-hold",
            "completed",
            "cancelled",
            "stopped",
            "unknown",
            "entered-in-error",
        }
    ),
    ("AuditEvent", "agent.network.type"): frozenset({"1", "2", "3", "4", "5"}),
}
CODED_BINDINGS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("Condition", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
    ),
    ("Condition", "verificationStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        frozenset({"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}),
    ),
    ("AllergyIntolerance", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
        frozenset({"active", "inactive", "resolved"}),
    ),
}
# Reference target types allowed by R4 for the references we emit (a subset of what R4 allows is fine).
REFERENCE_TARGETS: dict[tuple[str, str], frozenset[str]] = {
    ("Observation", "subject"): frozenset({"Patient", "Group", "Device", "Location"}),
    ("Observation", "partOf"): frozenset({"Procedure", "MedicationStatement", "ImagingStudy", "Immunization"}),
    ("Condition", "subject"): frozenset({"Patient", "Group"}),
    ("Condition", "evidence.detail"): frozenset({"Observation", "DiagnosticReport", "ImagingStudy", "Condition"}),
    ("MedicationStatement", "subject"): frozenset({"Patient", "Group"}),
    ("AllergyIntolerance", "patient"): frozenset({"Patient"}),
    ("GuidanceResponse", "subject"): frozenset({"Patient", "Group"}),
    ("Procedure", "subject"): frozenset({"Patient", "Group"}),
    ("AdverseEvent", "subject"): frozenset({"Patient", "Group", "Practitioner", "RelatedPerson"}),
    ("AdverseEvent", "suspectEntity.instance"): frozenset({"Procedure", "Device", "Medication", "Substance"}),
    ("ServiceRequest", "subject"): frozenset({"Patient", "Group", "Location", "Device"}),
    ("ServiceRequest", "reasonReference"): frozenset(
        {"Condition", "Observation", "DiagnosticReport", "DocumentReference"}
    ),
    ("Appointment", "basedOn"): frozenset({"ServiceRequest"}),
    ("Appointment", "participant.actor"): frozenset(
        {"Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Device", "HealthcareService", "Location", ""}
    ),
    ("CarePlan", "subject"): frozenset({"Patient", "Group"}),
    ("CarePlan", "basedOn"): frozenset({"CarePlan"}),
    ("CarePlan", "addresses"): frozenset({"Condition"}),
    ("CarePlan", "activity.outcomeReference"): frozenset(
        {
            "Appointment",
            "Encounter",
            "Procedure",
            "Observation",
            "QuestionnaireResponse",
            "DiagnosticReport",
            "DocumentReference",
            "MedicationAdministration",
            "MedicationDispense",
            "MedicationStatement",
            "Communication",
            "ImagingStudy",
            "RiskAssessment",
            "Goal",
            "ServiceRequest",
            "Task",
        }
    ),
    ("QuestionnaireResponse", "subject"): frozenset({"Patient", "Group", "Resource"}),
    ("QuestionnaireResponse", "basedOn"): frozenset({"CarePlan", "ServiceRequest"}),
    ("Observation", "derivedFrom"): frozenset(
        {"DocumentReference", "ImagingStudy", "Media", "QuestionnaireResponse", "Observation", "MolecularSequence"}
    ),
    ("DocumentReference", "subject"): frozenset({"Patient", "Practitioner", "Group", "Device"}),
    ("AuditEvent", "entity.what"): frozenset({"Patient", ""}),
    ("Provenance", "target"): frozenset({"Procedure", "ServiceRequest"}),
}


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(resource_type: str) -> jsonschema.Draft6Validator:
    schema = {"$ref": f"#/definitions/{resource_type}", "definitions": _schema()["definitions"]}
    return jsonschema.Draft6Validator(schema)


def _values(node: Any, path: list[str]) -> list[Any]:
    if not path:
        return node if isinstance(node, list) else [node]
    items = node if isinstance(node, list) else [node]
    found: list[Any] = []
    for item in items:
        if isinstance(item, dict) and path[0] in item:
            found.extend(_values(item[path[0]], path[1:]))
    return found


def problems(resource: dict[str, Any]) -> list[str]:
    """Return every problem found in one resource by the three validators (empty when valid)."""
    kind = resource["resourceType"]
    found: list[str] = []
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as error:  # pydantic's ValidationError and fhir-core's own errors
        found.append(f"fhir.resources R4B: {error}")
    found.extend(
        f"schema: {e.json_path}: {e.message}"
        for e in _validator(kind).iter_errors(resource)
        # The published R4 schema's FHIRVersion enum stops at 4.0.0 (a known defect of fhir.schema.json).
        if not (e.json_path == "$.fhirVersion" and e.instance == "4.0.1")
    )
    for (rtype, element), allowed in REQUIRED_BINDINGS.items():
        if rtype == kind and element in resource and resource[element] not in allowed:
            found.append(f"{kind}.{element}: {resource[element]!r} is not in the required value set")
    for (rtype, element), (system, allowed) in CODED_BINDINGS.items():
        if rtype == kind and element in resource:
            codes = [(c.get("system"), c.get("code")) for c in resource[element].get("coding", [])]
            if not any(s == system and c in allowed for s, c in codes):
                found.append(f"{kind}.{element}: no code of {system} from the required value set")
    for (rtype, path), allowed_codes in NESTED_BINDINGS.items():
        if rtype == kind:
            found.extend(
                f"{kind}.{path}: {value!r} is not in the required value set"
                for value in _values(resource, path.split("."))
                if value not in allowed_codes
            )
    for (rtype, path), targets in REFERENCE_TARGETS.items():
        if rtype != kind:
            continue
        for ref in _values(resource, path.split(".")):
            target = str(ref.get("reference", "")).split("/")[0]
            if target not in targets:
                found.append(f"{kind}.{path}: a reference to {target!r} is not allowed")
    return found
