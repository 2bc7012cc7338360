"""Condition: one vertebral fracture, coded ICD-10-CM + SNOMED CT by cause, the level in ``bodySite``."""

from __future__ import annotations

from vertebro.fhir.codes import codings, local, maps, system
from vertebro.fhir.elements import Resource, case_identifier, concept, reference


def fracture_condition(
    resource_id: str, patient_id: int, case_id: int, level: str, cause: str, evidence_ids: list[str]
) -> Resource:
    """Return the Condition of a fracture at ``level`` with the given cause (see ``fracture_cause`` in maps.json)."""
    cause_codings = [*codings(maps()["fracture_cause"][cause]), local("cause", cause)]
    resource: Resource = {
        "resourceType": "Condition",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "clinicalStatus": concept({"system": system("condition-clinical"), "code": "active"}),
        "verificationStatus": concept({"system": system("condition-verification"), "code": "confirmed"}),
        "category": [concept({"system": system("condition-category"), "code": "encounter-diagnosis"})],
        "code": concept(*cause_codings, text=f"Vertebral compression fracture {level}"),
        "bodySite": [concept(local("level", level))],
        "subject": reference("Patient", patient_id),
    }
    if evidence_ids:
        resource["evidence"] = [{"detail": [reference("Observation", i) for i in evidence_ids]}]
    return resource
