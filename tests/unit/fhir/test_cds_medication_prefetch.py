"""CDS Hooks: an absent medication prefetch is read as "not reviewed" (never "no medicines") and the card says so; the
advertised prefetch, answered as an EHR's server answers it from US Core examples, brings what the cards need."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.unit.fhir.cds_requests import hook_request
from vertebro.clinical import DEFAULT_POLICY
from vertebro.fhir.cds_hooks import cards, discovery
from vertebro.intake.fhir_bundle import case_from_resources

TODAY = dt.date(2030, 3, 1)


def _summaries(request: dict[str, Any]) -> list[str]:
    result = cards(
        "vertebro-order-sign",
        request,
        reader=case_from_resources,
        policy=DEFAULT_POLICY,
        patient_link=None,
        today=TODAY,
    )
    return [card["summary"] for card in result["cards"]]


def test_without_a_medication_prefetch_the_card_says_the_medicines_are_not_reviewed() -> None:
    request = hook_request("order-sign")
    del request["prefetch"]["medicationStatements"]
    summaries = _summaries(request)
    assert "Medication list not sent: medicines not reviewed" in summaries
    assert not any(s.startswith("Medication holds") for s in summaries)  # no list: no holds, and not "none"
    assert "Missing data: medication list reviewed (the list, or takes none)" in summaries


def test_a_prefetch_the_ehr_could_not_fetch_is_named_and_never_read_as_none() -> None:
    # CDS Hooks 2.0: an EHR that fails to prefetch may send an OperationOutcome in its place. The medicines are
    # then not reviewed (as when nothing was sent), and the card names what could not be fetched and why.
    request = hook_request("order-sign")
    failed = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": "t/o"}],
    }
    request["prefetch"]["medicationStatements"] = failed
    details = _details(request)
    assert "Medication list not sent: medicines not reviewed" in details
    assert "- medicationStatements: t/o" in details["EHR data not fetched: medicationStatements"]
    request["prefetch"]["conditions"] = failed  # the fracture is on the EHR's problem list: not "no fracture"
    for hook in ("patient-view", "order-sign"):
        request["hook"] = hook
        result = cards(
            f"vertebro-{hook}",
            request,
            reader=case_from_resources,
            policy=DEFAULT_POLICY,
            patient_link=None,
            today=TODAY,
        )
        assert "EHR data not fetched: conditions, medicationStatements" in [c["summary"] for c in result["cards"]]


def test_with_a_medication_prefetch_no_such_card() -> None:
    assert "Medication list not sent: medicines not reviewed" not in _summaries(hook_request("order-sign"))


USCORE = Path(__file__).parents[2] / "fixtures" / "fhir-uscore"


def _answer(template: str, patient_id: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Answer one prefetch template as an EHR's FHIR server does (type, patient, status and ``_include``)."""
    query = template.replace("{{context.patientId}}", patient_id)
    kind, _, parameters = query.partition("?")
    found: list[dict[str, Any]] = []
    for r in resources:
        reference = (r.get("subject") or r.get("patient") or {}).get("reference")
        status = all(r.get(k) in v.split(",") for k, v in parse_qsl(parameters) if k == "status")  # a list is OR
        if r["resourceType"] == kind and reference == f"Patient/{patient_id}" and status:
            found.append({"resource": r, "search": {"mode": "match"}})
    for name, value in parse_qsl(parameters):
        if name == "_include" and value.endswith(":medication"):  # MedicationRequest:medication and the like
            named = {str((e["resource"].get("medicationReference") or {}).get("reference")) for e in found}
            found += [
                {"resource": r, "search": {"mode": "include"}}
                for r in resources
                if r["resourceType"] == "Medication" and f"Medication/{r['id']}" in named
            ]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": found}


def test_a_us_core_order_naming_its_drug_by_reference_gets_its_hold_from_the_advertised_prefetch() -> None:
    # US Core MedicationRequest names the drug by medicationReference: the templates must fetch the Medication
    # too (_include, which US Core servers SHALL support), else warfarin is never named and gets no hold.
    summaries = _summaries(_prefetched("01-osteoporotic-l1-warfarin.json"))
    assert any(s.startswith("Medication holds before the procedure: warfarin") for s in summaries), summaries


def test_the_advertised_prefetch_brings_the_current_stay_so_inpatient_status_is_read() -> None:
    # The patient is in hospital (an in-progress Encounter of class IMP): without an Encounter prefetch the cards
    # asked for "inpatient status" although the EHR holds it.
    missing = next(s for s in _summaries(_prefetched("03-bacteraemia-l2-inpatient.json")) if s.startswith("Missing"))
    detail = _details(_prefetched("03-bacteraemia-l2-inpatient.json"))[missing]
    assert "cancer history" in detail  # the card lists what is missing
    assert "inpatient status" not in detail


def _prefetched(name: str) -> dict[str, Any]:
    """An order-sign request whose prefetch is the service's templates answered from a US Core example."""
    resources = [e["resource"] for e in json.loads((USCORE / name).read_text())["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    request = hook_request("order-sign")
    request["context"]["patientId"] = patient["id"]
    service = next(s for s in discovery(jwt_required=False)["services"] if s["id"] == "vertebro-order-sign")
    request["prefetch"] = {
        key: patient if key == "patient" else _answer(template, patient["id"], resources)
        for key, template in service["prefetch"].items()
    }
    return request


def _details(request: dict[str, Any]) -> dict[str, str]:
    result = cards(
        "vertebro-order-sign",
        request,
        reader=case_from_resources,
        policy=DEFAULT_POLICY,
        patient_link=None,
        today=TODAY,
    )
    return {card["summary"]: card.get("detail", "") for card in result["cards"]}
