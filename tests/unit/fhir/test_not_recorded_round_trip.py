"""FHIR keeps "not recorded" apart from "no": an absent resource is not recorded, a reviewed-empty list is a
"no known allergy" / "no known medications" resource, and a coded allergy keeps its code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vertebro.clinical import Case
from vertebro.fhir.case_record import case_resources
from vertebro.fhir.patient import patient_resource
from vertebro.intake.case_file import read_case
from vertebro.intake.fhir_bundle import case_from_resources
from vertebro.store.models import Patient

CASE = Path(__file__).resolve().parents[3] / "src/vertebro/cli/demo_cases/02-inpatient-t12.yaml"


def _round_trip(**changes: Any) -> Case:
    facts = read_case(CASE).model_dump(mode="json")
    facts.update(changes)
    case = Case.model_validate(facts)
    patient = Patient(id=7, identifier="X-1", name=None, birth_date=None, sex=case.patient.sex, version=1)
    resources = [patient_resource(patient), *case_resources(3, 7, case.model_dump(mode="json"), {})]
    return case_from_resources(resources)


def test_reviewed_empty_lists_survive_and_absent_ones_stay_not_recorded() -> None:
    reviewed = _round_trip(allergies=[], medications=[])
    assert reviewed.allergies == []
    assert reviewed.medications == []
    unknown = _round_trip(allergies=None, medications=None, patient={**read_case(CASE).patient.model_dump()})
    assert unknown.allergies is None
    assert unknown.medications is None


def test_an_absent_observation_is_not_recorded_never_false() -> None:
    patient = read_case(CASE).patient.model_dump(mode="json")
    case = _round_trip(patient={**patient, "hospitalized": None}, red_flags={"fever": None})
    assert case.patient.hospitalized is None
    assert case.red_flags.fever is None


def test_a_coded_allergy_keeps_its_code() -> None:
    coded = {"code": "426722004", "system": "http://snomed.info/sct", "text": "X-ray dye"}
    case = _round_trip(allergies=[coded, "latex"])
    assert [a if isinstance(a, str) else a.model_dump() for a in case.allergies or []] == [coded, "latex"]
