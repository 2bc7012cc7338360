"""CDS Hooks 2.0 cards from prefetched FHIR resources: verdicts, missing data, dated holds, orders that count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.unit.fhir.cds_requests import DEMO, hook_request, order
from vertebro.clinical import DEFAULT_POLICY
from vertebro.errors import InvalidInput, NotFound, PreconditionFailed
from vertebro.fhir.cds_hooks import INDICATORS, NO_FRACTURE, SERVICES, cards, discovery
from vertebro.intake.case_file import CaseFileError
from vertebro.intake.fhir_bundle import case_from_resources

TODAY = dt.date(2030, 3, 1)
NO_MRI = next(p for p in DEMO if p.stem == "03-no-mri-yet")


def _cards(service: str, request: dict[str, Any], link: str | None = None) -> list[dict[str, Any]]:
    result = cards(
        service, request, reader=case_from_resources, policy=DEFAULT_POLICY, patient_link=lambda _: link, today=TODAY
    )
    found: list[dict[str, Any]] = result["cards"]
    for card in found:
        assert len(card["summary"]) <= 140
        assert card["indicator"] in {"info", "warning", "critical"}
        assert card["source"]["label"]
    return found


def test_discovery_lists_the_three_hooks_with_prefetch_and_says_how_calls_authenticate() -> None:
    services = discovery(jwt_required=False)["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign", "patient-view"}
    assert all(s["prefetch"]["patient"] == "Patient/{{context.patientId}}" for s in services)
    assert "accepted without a JWT" in services[0]["usageRequirements"]
    assert "must carry a JWT" in discovery(jwt_required=True)["services"][0]["usageRequirements"]


def test_order_sign_answers_each_profile_verdict_and_holds_dated_from_the_order() -> None:
    found = _cards("vertebro-order-sign", hook_request("order-sign"), link="http://vertebro/patients/3")
    summaries = [c["summary"] for c in found]
    assert summaries[0] == "ACR Appropriateness Criteria: Usually appropriate (ACR rating 7-9)"
    assert found[0]["indicator"] == "info"
    holds = next(c for c in found if c["summary"].startswith("Medication holds"))
    assert holds["summary"] == "Medication holds before the procedure: warfarin, aspirin"
    assert "planned procedure on 2030-03-12" in holds["detail"]
    assert "**warfarin** (vitamin K antagonist): stop on 2030-03-06" in holds["detail"]  # thrombotic risk: low
    assert found[-1]["links"] == [
        {"label": "Open the assessment in vertebro", "url": "http://vertebro/patients/3", "type": "absolute"}
    ]


def test_without_an_occurrence_date_the_holds_are_relative_to_the_procedure_day() -> None:
    found = _cards("vertebro-order-select", hook_request("order-select", orders=[order(occurrence=None)]))
    holds = next(c for c in found if c["summary"].startswith("Medication holds"))
    assert "No procedure date is known" in holds["detail"]
    assert "stop 5 days before" in holds["detail"]
    assert not any("links" in c for c in found)  # patient not known: no link


def test_missing_data_gets_its_own_card_naming_the_profiles_that_need_it() -> None:
    found = _cards("vertebro-patient-view", hook_request("patient-view", NO_MRI))
    missing = next(c for c in found if c["summary"].startswith("Missing data"))
    assert missing["indicator"] == "warning"
    assert "MRI" in missing["detail"]
    assert "needed by" in missing["detail"]
    assert any(c["indicator"] == "warning" for c in found if "Missing" not in c["summary"])


def test_indicators_follow_the_verdict_category() -> None:
    assert INDICATORS == {
        "appropriate": "info",
        "uncertain": "warning",
        "not_appropriate": "warning",
        "contraindicated": "critical",
    }
    for path in DEMO:
        found = _cards("vertebro-patient-view", hook_request("patient-view", path))
        assert found, path.stem


def test_orders_that_are_not_vertebral_augmentation_get_no_cards() -> None:
    mri = order(code={"coding": [{"system": "http://loinc.org", "code": "24556-3"}], "text": "MRI lumbar spine"})
    assert _cards("vertebro-order-select", hook_request("order-select", orders=[mri])) == []
    by_text = order(code={"text": "Balloon kyphoplasty T12"})
    assert _cards("vertebro-order-select", hook_request("order-select", orders=[by_text]))


def test_order_select_only_looks_at_the_selected_orders() -> None:
    request = hook_request("order-select")
    request["context"]["selections"] = ["ServiceRequest/other"]
    assert _cards("vertebro-order-select", request) == []


def test_patient_view_is_silent_without_a_vertebral_fracture_but_an_order_is_not() -> None:
    request = hook_request("patient-view")
    request["prefetch"]["conditions"] = request["prefetch"]["observations"] = None
    assert _cards("vertebro-patient-view", request) == []
    ordered = hook_request("order-sign")
    ordered["prefetch"]["conditions"] = ordered["prefetch"]["observations"] = None
    (card,) = _cards("vertebro-order-sign", ordered)
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("vertebro cannot assess: " + NO_FRACTURE)


def test_the_no_fracture_message_is_the_one_intake_raises() -> None:
    patient = {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1950-01-01"}
    with pytest.raises(CaseFileError) as raised:
        case_from_resources([patient])
    assert raised.value.problems[0].startswith(NO_FRACTURE)


def test_medication_requests_count_once_even_when_also_a_statement() -> None:
    request = hook_request("order-sign")
    statements = request["prefetch"]["medicationStatements"]["entry"]
    warfarin = next(e["resource"] for e in statements if "warfarin" in str(e["resource"]).lower())
    prescription = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": warfarin["medicationCodeableConcept"],
        "subject": {"reference": "Patient/7"},
    }
    apixaban = {**prescription, "id": "rx2", "medicationCodeableConcept": {"text": "apixaban"}}
    request["prefetch"]["medicationRequests"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": prescription}, {"resource": apixaban}],
    }
    holds = next(c for c in _cards("vertebro-order-sign", request) if c["summary"].startswith("Medication holds"))
    assert holds["detail"].count("**warfarin**") == 1
    assert "**apixaban**" in holds["detail"]


@pytest.mark.parametrize(
    ("service", "change", "error", "message"),
    [
        ("nope", {}, NotFound, "no CDS service 'nope'"),
        ("vertebro-order-sign", {"hook": "patient-view"}, InvalidInput, "hook 'patient-view' does not match"),
        ("vertebro-order-sign", {"hookInstance": None}, InvalidInput, "hookInstance"),
        ("vertebro-order-sign", {"context": {}}, InvalidInput, "context.patientId"),
        ("vertebro-order-sign", {"prefetch": {}}, PreconditionFailed, "prefetch.patient is missing"),
    ],
)
def test_malformed_requests_are_refused_precisely(
    service: str, change: dict[str, Any], error: type[Exception], message: str
) -> None:
    request = {**hook_request("order-sign"), **change}
    with pytest.raises(error, match=message):
        _cards(service, request)


def test_every_service_has_a_hook_of_cds_hooks_2() -> None:
    assert {s["hook"] for s in SERVICES.values()} <= {"order-select", "order-sign", "patient-view"}
