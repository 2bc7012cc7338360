"""AllergyIntolerance: an allergy of the case, by name."""

from __future__ import annotations

from typing import Any

from vertebro.clinical.allergens import SNOMED
from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource, case_identifier, concept, reference

NO_KNOWN_ALLERGY: dict[str, Any] = {"code": "716186003", "system": SNOMED, "text": "No known allergy"}
"""The entry an allergy list reviewed and found empty is exported as (SNOMED CT "No known allergy")."""


def allergy_intolerance(resource_id: str, patient_id: int, case_id: int, substance: str | dict[str, Any]) -> Resource:
    """Return the AllergyIntolerance of one allergy: the substance as text, or coded as recorded."""
    if isinstance(substance, dict):
        coding = {"system": substance["system"], "code": substance["code"]}
        code = concept(coding, text=substance.get("text"))
    else:
        code = concept(text=substance)
    return {
        "resourceType": "AllergyIntolerance",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "clinicalStatus": concept({"system": system("allergy-clinical"), "code": "active"}),
        "code": code,
        "patient": reference("Patient", patient_id),
    }
