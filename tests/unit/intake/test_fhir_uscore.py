"""US Core style patients, written from the standards (ICD-10-CM, SNOMED CT, LOINC, RxNorm, UCUM), read as a
hospital sends them: the facts read and where from, what is not recorded, what is ignored, and the verdicts.

The mapping these tests cover is docs/fhir-intake.md; the fixtures are tests/fixtures/fhir-uscore/.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vertebro.clinical import assess
from vertebro.clinical.verdicts import Category
from vertebro.intake.case_file import CaseFileError
from vertebro.intake.fhir_bundle import Reading, case_from_bundle, read_bundle

FIXTURES = Path(__file__).parents[2] / "fixtures" / "fhir-uscore"
TODAY = dt.date(2030, 3, 1)


def _bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _read(name: str) -> Reading:
    return read_bundle(_bundle(name), as_of=TODAY)


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)
    return found


def _categories(reading: Reading) -> set[Category]:
    return {verdict.category for verdict in assess(reading.case, as_of=TODAY).profiles.values()}


def test_osteoporotic_l1_patient_is_read_from_standard_codes_with_the_source_of_each_fact() -> None:
    reading = _read("01-osteoporotic-l1-warfarin.json")
    case = reading.case
    fracture = case.fractures[0]
    assert (fracture.level, fracture.cause) == ("L1", "osteoporotic")  # SNOMED CT body structure, ICD-10-CM cause
    assert fracture.onset_weeks == 10.0  # onsetDateTime 2029-12-21
    assert case.labs.platelets == 210.0  # 10*3/uL is 10*9/L; the entered-in-error count of 20 is ignored
    assert case.labs.inr == 1.1
    assert case.labs.creatinine_clearance_ml_min == 62.0
    assert case.pain.nrs == 8  # the latest by effective time, not the last in bundle order
    assert case.patient.hospitalized is False  # an ambulatory encounter in progress
    assert case.red_flags.fever is False  # 36.8 Cel
    assert case.allergies == []  # SNOMED CT 716186003: reviewed, none known
    assert [m.name for m in case.medications or []] == ["warfarin (Coumadin 5 mg tablet)"]  # RxNorm, referenced
    assert case.procedure_date == dt.date(2030, 3, 12)
    assert case.bone_health.bmd_referral_documented is True
    assert reading.sources["medications[0]"] == "MedicationRequest/uc1-rx <- Medication/uc1-warfarin.code (RxNorm)"
    assert reading.sources["pain.nrs"] == "Observation/uc1-pain-new.valueQuantity"
    assert reading.missing == ["red_flags.active_infection", "red_flags.cancer_history", "neurological_deficit"]
    assert dict(reading.ignored) == {
        "Observation/uc1-plt-old": "status entered-in-error",
        "Observation/uc1-bmi": "code not read by vertebro (see docs/fhir-intake.md)",
        "Condition/uc1-htn": "not a fracture and no fact vertebro reads (kept on import)",
        "MedicationRequest/uc1-rx-old": "status stopped: not taken now",
        "Observation/uc1-pain-old": "pain.nrs: superseded by the later Observation/uc1-pain-new",
    }
    assessment = assess(case, as_of=TODAY)
    assert _categories(reading) == {Category.UNCERTAIN}  # infection, cancer, deficit not recorded: record first
    assert assessment.recommendation.treatment.value == "record_safety_facts"
    classes = {h.drug_class for h in assessment.preparation.medication_holds}
    assert any("vitamin K antagonist" in c for c in classes)  # matched by its RxNorm ingredient


@pytest.mark.rule("general.pregnancy_status_recorded")
def test_pregnant_patient_is_not_appropriate() -> None:
    """Guideline text: pregnancy is a contraindication to fluoroscopy-guided augmentation (ACR-SPR)."""
    reading = _read("02-pregnant-t9.json")
    assert reading.case.patient.pregnant is True
    assert reading.case.fractures[0].level == "T9"  # S22.070A names T9-T10: the level is the bodySite's
    assert reading.case.fractures[0].onset_weeks == 4.0  # onsetPeriod.start
    assert reading.case.medications is not None
    assert reading.case.medications[0].name == "Acetaminophen 500 mg"
    assert Category.APPROPRIATE not in _categories(reading)
    assert Category.CONTRAINDICATED in _categories(reading)


@pytest.mark.rule("recommendation.infection_workup")
def test_bacteraemic_inpatient_is_not_appropriate() -> None:
    """Guideline text: active infection is an absolute contraindication to augmentation."""
    reading = _read("03-bacteraemia-l2-inpatient.json")
    case = reading.case
    assert case.fractures[0].level == "L2"  # named by S32.020A alone
    assert reading.sources["fractures[0].level"] == "Condition/uc3-fx.code"
    assert case.fractures[0].onset_weeks == 2.7  # recordedDate: the onset is no later than this
    assert case.red_flags.active_infection is True
    assert case.red_flags.fever is True  # 101.3 [degF] is 38.5 Cel
    assert case.patient.hospitalized is True  # Encounter.class IMP
    assert case.labs.platelets == 180.0  # 180000 /uL
    assert case.medications is None
    assert "medications" in reading.missing
    assert Category.APPROPRIATE not in _categories(reading)
    assert assess(case, as_of=TODAY).recommendation.treatment.value == "infection_workup"


def test_codings_naming_two_causes_are_a_conflict_shown_and_read_as_unknown() -> None:
    reading = _read("04-conflict-osteomyelitis-cancer.json")
    case = reading.case
    assert case.fractures[0].cause == "unknown"
    assert reading.conflicts == [
        "Condition/uc4-fx.code: codings name different causes (metastasis, osteoporotic); read as unknown"
    ]
    assert case.fractures[0].onset_weeks == 51.9  # onsetAge 69 a from 1960-03-03: the earliest day of that age
    assert case.red_flags.active_infection is True  # M46.26 vertebral osteomyelitis
    assert case.red_flags.cancer_history is True  # a resolved breast cancer is a history of cancer
    assert case.neurological_deficit is None  # the refuted cauda equina syndrome is ignored, not read as "no"
    assert ("Condition/uc4-ces", "verificationStatus refuted") in reading.ignored
    assert case.patient.pregnant is False  # LOINC 82810-3: not pregnant
    assert case.procedure_date == dt.date(2030, 3, 14)  # the Appointment based on the vertebroplasty request
    assert Category.APPROPRIATE not in _categories(reading)


def test_coding_order_never_changes_the_cause() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    _resource(bundle, "uc1-fx")["code"]["coding"].reverse()
    assert case_from_bundle(bundle, as_of=TODAY).fractures[0].cause == "osteoporotic"


def test_bundle_order_never_changes_the_latest_value() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    bundle["entry"].reverse()
    assert case_from_bundle(bundle, as_of=TODAY).pain.nrs == 8


def test_an_unknown_unit_is_an_error_naming_the_resource_element_and_unit() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    _resource(bundle, "uc1-plt")["valueQuantity"].update(unit="mg", code="mg")
    with pytest.raises(CaseFileError) as error:
        case_from_bundle(bundle, as_of=TODAY)
    assert "Observation/uc1-plt.valueQuantity.code" in str(error.value)
    assert "'mg'" in str(error.value)


def test_an_invalid_date_names_the_resource_and_element() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    _resource(bundle, "uc1-fx")["onsetDateTime"] = "2029-13-45"
    with pytest.raises(CaseFileError, match=r"Condition/uc1-fx\.onsetDateTime: '2029-13-45' is not a FHIR date"):
        case_from_bundle(bundle, as_of=TODAY)


def test_a_condition_status_outside_the_required_binding_is_refused() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    _resource(bundle, "uc1-htn")["clinicalStatus"]["coding"][0]["code"] = "bogus"
    with pytest.raises(CaseFileError, match=r"Condition/uc1-htn\.clinicalStatus: 'bogus'"):
        case_from_bundle(bundle, as_of=TODAY)


def test_an_unresolvable_medication_reference_keeps_the_case_with_the_list_not_reviewed() -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Medication"]
    reading = read_bundle(bundle, as_of=TODAY)
    assert reading.case.medications is None  # the unnamed drug may be an anticoagulant: never "reviewed"
    assert "medications" in reading.missing
    why = next(reason for where, reason in reading.ignored if where == "MedicationRequest/uc1-rx")
    assert why.startswith("MedicationRequest/uc1-rx.medicationReference: 'Medication/uc1-warfarin' is not in the")
    assert why.endswith("the medication list stays not reviewed")


def test_an_entered_in_error_fracture_is_no_fracture() -> None:
    bundle = _bundle("03-bacteraemia-l2-inpatient.json")
    _resource(bundle, "uc3-fx")["verificationStatus"]["coding"][0]["code"] = "entered-in-error"
    with pytest.raises(CaseFileError, match="no Condition is a vertebral fracture"):
        case_from_bundle(bundle, as_of=TODAY)


def test_a_negative_blood_culture_never_reads_as_no_infection() -> None:
    bundle = _bundle("03-bacteraemia-l2-inpatient.json")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != "uc3-bact"]
    culture = _resource(bundle, "uc3-cult")
    positive = read_bundle(bundle, as_of=TODAY)
    assert positive.case.red_flags.active_infection is True  # the positive culture alone
    negative = copy.deepcopy(bundle)
    _resource(negative, "uc3-cult").update(
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "264868006"}]},
        interpretation=[],
    )
    assert culture["id"] == "uc3-cult"
    assert read_bundle(negative, as_of=TODAY).case.red_flags.active_infection is None


def _accounted(path: Path) -> tuple[set[str], set[str], set[str]]:
    """The resources of a fixture, those a fact was read from, and those ignored with a reason."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    reading = read_bundle(bundle, as_of=TODAY)
    labels = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    used = {found for source in reading.sources.values() for found in re.findall(r"[A-Z][A-Za-z]+/[a-z0-9-]+", source)}
    return labels, used, {where for where, _ in reading.ignored}


def test_every_resource_of_the_uscore_patients_is_read_or_ignored_with_a_reason() -> None:
    """Nothing is dropped silently; the share read is the figure for the closing note (docs/fhir-intake.md)."""
    read = total = 0
    for path in sorted(FIXTURES.glob("*.json")):
        labels, used, ignored = _accounted(path)
        assert labels - used - ignored == set(), path.name
        total += len(labels)
        read += len(labels & used)
    assert (read, total) == (
        39,
        45,
    )  # the 6 others: BMI, hypertension, a stopped drug, entered in error, refuted, superseded


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_no_order_of_entries_or_codings_changes_what_is_read(random: Random) -> None:
    for name in ("01-osteoporotic-l1-warfarin.json", "04-conflict-osteomyelitis-cancer.json"):
        bundle = _bundle(name)
        expected = read_bundle(bundle, as_of=TODAY)
        random.shuffle(bundle["entry"])
        for entry in bundle["entry"]:
            code = entry["resource"].get("code")
            if isinstance(code, dict) and isinstance(code.get("coding"), list):
                random.shuffle(code["coding"])
        shuffled = read_bundle(bundle, as_of=TODAY)
        assert shuffled.case == expected.case
        assert shuffled.conflicts == expected.conflicts
        assert sorted(shuffled.missing) == sorted(expected.missing)
