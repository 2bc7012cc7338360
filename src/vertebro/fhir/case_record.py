"""A case's facts (the stored ``cases.facts`` JSON) as FHIR resources.

Works on the JSON document, not on the pydantic model, so bulk export never validates anything:
Conditions per fracture, an Observation per recorded fact, MedicationStatements and AllergyIntolerances.
``vertebro.intake.fhir_bundle`` reads the same resources back into a case (the same ``maps.json``).
"""

from __future__ import annotations

from typing import Any

from vertebro.fhir.allergy_intolerance import NO_KNOWN_ALLERGY, allergy_intolerance
from vertebro.fhir.codes import coding, maps
from vertebro.fhir.condition import fracture_condition
from vertebro.fhir.elements import Resource
from vertebro.fhir.medication_statement import medication_statement, no_known_medications
from vertebro.fhir.observation import fact_observation, genant_observation


def _at(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _slug(reference: str) -> str:
    return coding(reference)["code"]


def case_resources(
    case_id: int, patient_id: int, facts: dict[str, Any], genant_by_level: dict[str, int | None] | None = None
) -> list[Resource]:
    """Return the FHIR resources of one case: fracture Conditions and their Observations, fact Observations,
    MedicationStatements and AllergyIntolerances (ids derived from the case id, so stable across exports)."""
    table = maps()
    resources: list[Resource] = []
    for fracture in facts["fractures"]:
        level = fracture["level"]
        evidence: list[Resource] = []
        for spec in table["fracture_facts"]:
            value = _at(fracture, spec["path"])
            if value is not None:
                rid = f"c{case_id}-{level}-{_slug(spec['code'])}"
                evidence.append(fact_observation(rid, patient_id, case_id, spec, value, level=level))
        grade = (genant_by_level or {}).get(level)
        if grade is not None:
            evidence.append(genant_observation(f"c{case_id}-{level}-genant", patient_id, case_id, level, grade))
        condition_id = f"c{case_id}-{level}"
        ids = [r["id"] for r in evidence]
        resources.append(fracture_condition(condition_id, patient_id, case_id, level, fracture["cause"], ids))
        resources.extend(evidence)
    for spec in table["case_facts"]:
        value = _at(facts, spec["path"])
        if value is not None:
            resources.append(fact_observation(f"c{case_id}-{_slug(spec['code'])}", patient_id, case_id, spec, value))
    for index, medication in enumerate(facts.get("medications") or []):
        resources.append(medication_statement(f"c{case_id}-med{index + 1}", patient_id, case_id, medication))
    if facts.get("medications") == []:  # reviewed: takes none (absent = not reviewed: no resource)
        resources.append(no_known_medications(f"c{case_id}-med0", patient_id, case_id))
    allergies = facts.get("allergies")
    if allergies == []:  # reviewed: none known
        allergies = [NO_KNOWN_ALLERGY]
    for index, substance in enumerate(allergies or []):
        resources.append(allergy_intolerance(f"c{case_id}-allergy{index + 1}", patient_id, case_id, substance))
    return resources
