"""Transaction (all or nothing, urn:uuid references resolved) and batch (per-entry outcome) Bundles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.unit.fhir.validation import problems
from vertebro.pathway.machine import Role

PATIENT_URL = "urn:uuid:0b4d7c2e-5a0f-4f7e-9d1e-2f3c4b5a6d7e"


def _entries(identifier: str, condition_status: str = "active") -> list[dict[str, Any]]:
    return [
        {
            "fullUrl": "urn:uuid:9a8b7c6d-0000-4000-8000-000000000001",
            "resource": {
                "resourceType": "Condition",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": condition_status,
                        }
                    ]
                },
                "code": {"text": "Osteoporosis"},
                "subject": {"reference": PATIENT_URL},
            },
            "request": {"method": "POST", "url": "Condition"},
        },
        {
            "fullUrl": PATIENT_URL,
            "resource": {"resourceType": "Patient", "identifier": [{"value": identifier}], "gender": "female"},
            "request": {"method": "POST", "url": "Patient"},
        },
    ]


def _bundle(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def test_a_transaction_resolves_urn_uuid_references(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    response = client.post("/fhir", json=_bundle("transaction", _entries("TX-1")))
    assert response.status_code == 200, response.text
    result = response.json()
    assert problems(result) == []
    assert result["type"] == "transaction-response"
    condition, patient = (e["resource"] for e in result["entry"])  # answered in the order sent
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    assert condition["subject"] == {"reference": f"Patient/{patient['id']}"}
    assert client.get(f"/fhir/Condition/{condition['id']}").json() == condition


def test_a_failing_transaction_writes_nothing(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    entries = _entries("TX-2")
    entries[0]["resource"]["subject"] = {"reference": "urn:uuid:00000000-0000-4000-8000-00000000dead"}
    response = client.post("/fhir", json=_bundle("transaction", entries))
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["diagnostics"] == (
        "Bundle.entry[0]: urn:uuid:00000000-0000-4000-8000-00000000dead is not the fullUrl of a resource "
        "created in this Bundle"
    )
    assert client.get("/fhir/Patient", params={"identifier": "TX-2"}).json()["total"] == 0  # the Patient rolled back


def test_a_failing_transaction_names_the_element_by_its_path_in_the_bundle(
    signed_in: Callable[[Role], TestClient],
) -> None:
    # OperationOutcome.issue.expression is FHIRPath from the Bundle: the entry's resource or request, not the
    # resource type or the REST API's URL parameter glued to the entry.
    client = signed_in(Role.COORDINATOR)
    organization = {"resource": {"resourceType": "Organization"}, "request": {"method": "POST", "url": "Organization"}}
    cases = [
        (_entries("TX-3", condition_status="finished"), "Bundle.entry[0].resource.clinicalStatus"),
        ([*_entries("TX-4"), organization], "Bundle.entry[2].request.url"),
    ]
    for entries, expression in cases:
        response = client.post("/fhir", json=_bundle("transaction", entries))
        assert response.status_code in (400, 405), response.text
        assert response.json()["issue"][0]["expression"] == [expression]
    for identifier in ("TX-3", "TX-4"):
        assert client.get("/fhir/Patient", params={"identifier": identifier}).json()["total"] == 0


def test_a_batch_answers_each_entry(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.NURSE)
    entries = [
        _entries("BATCH-1")[1],
        {
            "resource": {"resourceType": "Patient", "gender": "nonsense"},
            "request": {"method": "POST", "url": "Patient"},
        },
        {"request": {"method": "PUT", "url": "Patient/1"}, "resource": {"resourceType": "Patient", "id": "1"}},
        {"request": {"method": "DELETE", "url": "Patient/1"}},
    ]
    response = client.post("/fhir", json=_bundle("batch", entries))
    assert response.status_code == 200, response.text
    result = response.json()
    assert problems(result) == []
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201 Created", "400", "428", "405"]
    messages = [e["response"]["outcome"]["issue"][0]["diagnostics"] for e in result["entry"][1:]]
    assert messages[0].startswith("Patient.gender")
    assert messages[2] == "request.method DELETE is not supported in a Bundle (POST, PUT, GET)"
    assert client.get("/fhir/Patient", params={"identifier": "BATCH-1"}).json()["total"] == 1


def test_only_transactions_and_batches_are_taken(signed_in: Callable[[Role], TestClient]) -> None:
    response = signed_in(Role.NURSE).post("/fhir", json=_bundle("collection", []))
    assert response.status_code == 400
    assert (
        response.json()["issue"][0]["diagnostics"]
        == "Bundle.type is 'collection': POST /fhir takes transaction or batch"
    )
