"""AllergyIntolerance: an allergy of the case, by name."""

from __future__ import annotations

from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource, case_identifier, concept, reference


def allergy_intolerance(resource_id: str, patient_id: int, case_id: int, substance: str) -> Resource:
    """Return the AllergyIntolerance of one allergy (the substance as text: we hold no coded allergen)."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "clinicalStatus": concept({"system": system("allergy-clinical"), "code": "active"}),
        "code": concept(text=substance),
        "patient": reference("Patient", patient_id),
    }
