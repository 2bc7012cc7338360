"""A case's facts as FHIR and back: every resource validates, and reading them back gives the same case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.fhir.validation import problems
from vertebro.clinical import assess, assessment_json
from vertebro.fhir.case_record import case_resources
from vertebro.fhir.guidance_response import guidance_responses
from vertebro.fhir.patient import patient_resource
from vertebro.intake.case_file import CaseFileError, read_case
from vertebro.intake.fhir_bundle import case_from_bundle, case_from_resources
from vertebro.store.models import Patient

DEMO = sorted((Path(__file__).resolve().parents[3] / "src/vertebro/cli/demo_cases").glob("*.yaml"))


def _resources(path: Path) -> list[dict[str, object]]:
    case = read_case(path)
    facts = case.patient
    patient = Patient(
        id=7,
        identifier=facts.identifier or "X-1",
        name=facts.name,
        birth_date=facts.birth_date,
        sex=facts.sex,
        version=1,
    )
    assessment = assess(case)
    grades = {f.level: f.morphometry.genant_grade if f.morphometry else None for f in assessment.fractures}
    return [
        patient_resource(patient),
        *case_resources(3, 7, case.model_dump(mode="json"), grades),
        *guidance_responses(11, 7, assessment_json(assessment)),
    ]


@pytest.mark.parametrize("path", DEMO, ids=[p.stem for p in DEMO])
def test_every_emitted_resource_validates(path: Path) -> None:
    for resource in _resources(path):
        assert problems(resource) == [], resource["id"]


@pytest.mark.parametrize("path", DEMO, ids=[p.stem for p in DEMO])
def test_facts_survive_the_round_trip(path: Path) -> None:
    case = read_case(path)
    expected = case.model_dump(mode="json")
    expected["patient"]["identifier"] = expected["patient"]["identifier"] or "X-1"
    assert case_from_resources(_resources(path)).model_dump(mode="json") == expected


@pytest.mark.parametrize("path", DEMO, ids=[p.stem for p in DEMO])
def test_a_bundle_file_gets_the_same_assessment_as_the_case_file(path: Path, tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in _resources(path)]}
    bundle_file = tmp_path / "case.json"
    bundle_file.write_text(json.dumps(bundle))
    from_yaml, from_bundle = assess(read_case(path)), assess(read_case(bundle_file))
    yaml_json, bundle_json = assessment_json(from_yaml), assessment_json(from_bundle)
    assert bundle_json["profiles"] == yaml_json["profiles"]
    assert bundle_json["recommendation"] == yaml_json["recommendation"]
    assert bundle_json["preparation"] == yaml_json["preparation"]


def _bundle(*resources: dict[str, object]) -> dict[str, object]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1948-03-01"}
FRACTURE = {
    "resourceType": "Condition",
    "id": "f",
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M80.08XA"}]},
    "bodySite": [{"text": "L2"}],
    "subject": {"reference": "Patient/p"},
}
PAIN = {
    "resourceType": "Observation",
    "id": "nrs",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
    "valueInteger": 7,
}


def test_an_ehr_bundle_with_standard_codes_only_is_read() -> None:
    case = case_from_bundle(_bundle(PATIENT, FRACTURE, PAIN))
    assert case.fractures[0].level == "L2"
    assert case.fractures[0].cause == "osteoporotic"
    assert case.pain.nrs == 7
    assert case.patient.age >= 78


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ((FRACTURE, PAIN), "Bundle.entry: expected exactly one Patient, found 0"),
        ((PATIENT, PAIN), "Bundle.entry: no Condition is a vertebral fracture"),
        ((PATIENT, FRACTURE, {**PAIN, "valueInteger": None} | {"valueString": "7"}), "Observation/nrs"),
        ((PATIENT, FRACTURE, {k: v for k, v in PAIN.items() if k != "valueInteger"}), "Observation/nrs.valueInteger"),
        (({**PATIENT, "gender": "unknown"}, FRACTURE, PAIN), "Patient/p.gender"),
    ],
)
def test_problems_name_the_resource_and_fhir_path(resources: tuple[dict[str, object], ...], message: str) -> None:
    with pytest.raises(CaseFileError) as raised:
        case_from_bundle(_bundle(*resources))
    assert message in str(raised.value)
