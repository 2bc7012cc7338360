"""The thrombotic risk and the prescriber's decision survive a FHIR export and import (decision 0016)."""

from __future__ import annotations

import pytest

from tests.unit.clinical.builders import make_case
from tests.unit.fhir.validation import problems
from vertebro.clinical import assess
from vertebro.fhir.case_record import case_resources
from vertebro.fhir.medication_statement import medication_statement
from vertebro.fhir.patient import patient_resource
from vertebro.intake.fhir_bundle import case_from_resources
from vertebro.store.models import Patient

MEDICATIONS = [
    {
        "name": "clopidogrel",
        "purpose": "secondary_prevention",
        "prescriber_decision": {
            "decision": "hold",
            "agreed_on": "2026-11-20",
            "recorded_by": "dr.rad",
            "stop_days_before": 9,
            "note": "cardiology agreed",
        },
    },
    {
        "name": "warfarin",
        "thrombotic_risk": "high",
        "prescriber_decision": {"decision": "bridge", "agreed_on": "2026-11-21", "recorded_by": "n.nurse"},
    },
    {"name": "apixaban", "thrombotic_risk": "low"},
]


@pytest.mark.rule("medications.prescriber_decision_recorded")
def test_the_decision_a_hold_date_rests_on_survives_the_round_trip() -> None:
    """Rule statement: "A recorded prescriber decision sets the plan" — so it must not be lost in transit."""
    case = make_case({"medications": MEDICATIONS, "patient": {"identifier": "RT-1"}})
    patient = Patient(id=7, identifier="RT-1", name=None, birth_date=None, sex=case.patient.sex, version=1)
    resources = [patient_resource(patient), *case_resources(3, 7, case.model_dump(mode="json"), {})]
    for resource in resources:
        assert problems(resource) == [], resource["id"]
    back = case_from_resources(resources)
    assert [m.model_dump(mode="json") for m in back.medications] == [
        m.model_dump(mode="json") for m in case.medications
    ]
    assert assess(back).preparation.medication_holds == assess(case).preparation.medication_holds


def test_a_statement_without_extensions_has_no_decision() -> None:
    resource = medication_statement("m1", 7, 3, {"name": "clopidogrel"})
    assert "extension" not in resource
