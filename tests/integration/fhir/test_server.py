"""The /fhir server: metadata, read, search, $everything, OperationOutcome errors, audit of every read."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.validation import problems
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

FHIR_TYPES = {"Patient", "Condition", "Observation", "MedicationStatement", "AllergyIntolerance", "GuidanceResponse"}


def _patient_id(client: TestClient, identifier: str) -> str:
    bundle = client.get("/fhir/Patient", params={"identifier": identifier}).json()
    assert bundle["total"] == 1, bundle
    patient_id: str = bundle["entry"][0]["resource"]["id"]
    return patient_id


def test_metadata_is_a_valid_capability_statement_without_sign_in(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = response.json()
    assert problems(statement) == []
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert types >= FHIR_TYPES
    interactions = {r["type"]: {i["code"] for i in r.get("interaction", [])} for r in statement["rest"][0]["resource"]}
    versioned = {"read", "search-type", "vread", "create", "update", "patch", "history-instance", "history-type"}
    assert {t for t, codes in interactions.items() if codes == versioned} == {"Patient", "Condition", "Observation"}
    for kind in FHIR_TYPES - {"Patient", "Condition", "Observation"}:
        assert interactions[kind] == {"read", "search-type"}, kind  # derived types: no writes or history claimed
    assert {i["code"] for i in statement["rest"][0]["interaction"]} == {"transaction", "batch", "history-system"}


def test_local_code_systems_are_published(client: TestClient) -> None:
    response = client.get("/fhir/CodeSystem/leakage-type")
    assert response.status_code == 200
    assert {c["code"] for c in response.json()["concept"]} >= {"venous", "epidural"}
    missing = client.get("/fhir/CodeSystem/nope")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["diagnostics"] == "CodeSystem/nope does not exist"


def test_everything_returns_valid_resources_and_audits_the_read(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("FHIR-1")
    client = signed_in(Role.RADIOLOGIST)
    patient_id = _patient_id(client, "FHIR-1")
    bundle = client.get(f"/fhir/Patient/{patient_id}/$everything").json()
    resources = [e["resource"] for e in bundle["entry"]]
    assert problems(bundle) == []
    assert {r["resourceType"] for r in resources} >= FHIR_TYPES - {"AllergyIntolerance", "MedicationStatement"}
    for resource in resources:
        assert problems(resource) == [], resource["id"]
    assert any(r["resourceType"] == "GuidanceResponse" and "|" in r["moduleCanonical"] for r in resources)
    with UnitOfWork(session_factory) as uow:
        reads = [
            e for e in uow.audit.entries(patient_id=int(patient_id), action="read") if e.detail.get("via") == "fhir"
        ]
    assert [e.detail["interaction"] for e in reads] == ["search-type", "operation-everything"]
    assert all(e.actor == "t.radiologist" for e in reads)


def test_read_and_search_by_patient_code_and_status(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("FHIR-2")
    client = signed_in(Role.NURSE)
    patient_id = _patient_id(client, "FHIR-2")
    patient = client.get(f"/fhir/Patient/{patient_id}")
    assert patient.status_code == 200
    assert patient.headers["etag"] == f'W/"{patient.json()["meta"]["versionId"]}"'
    pain = client.get("/fhir/Observation", params={"patient": patient_id, "code": "http://loinc.org|72514-3"}).json()
    assert [e["resource"]["code"]["coding"][0]["code"] for e in pain["entry"]] == ["72514-3"]
    observation_id = pain["entry"][0]["resource"]["id"]
    read = client.get(f"/fhir/Observation/{observation_id}")
    assert read.status_code == 200
    assert read.json() == pain["entry"][0]["resource"]
    query = {"patient": f"Patient/{patient_id}", "status": "final"}
    conditions = client.get("/fhir/Condition", params=query).json()  # status is no Condition parameter (R4)
    assert len(conditions["entry"]) == 1  # ignored, and left out of the self link (FHIR search 3.1.1.1.2)
    assert conditions["link"][0]["url"].endswith(f"/fhir/Condition?patient=Patient%2F{patient_id}")
    strict = client.get("/fhir/Condition", params=query, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["diagnostics"].startswith("the search parameter 'status' is not supported")
    by_name = client.get("/fhir/Patient", params={"name": "fhir-2"}).json()
    assert [e["resource"]["id"] for e in by_name["entry"]] == [patient_id]


def test_paging_links(signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]) -> None:
    for n in range(3):
        stored_case(f"PAGE-{n}")
    client = signed_in(Role.COORDINATOR)
    first = client.get("/fhir/Patient", params={"_count": 2}).json()
    assert len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(next_url).json()
    assert {e["resource"]["id"] for e in second["entry"]}.isdisjoint({e["resource"]["id"] for e in first["entry"]})


def test_errors_are_operation_outcomes_with_a_precise_message(
    client: TestClient, signed_in: Callable[[Role], TestClient]
) -> None:
    anonymous = client.get("/fhir/Patient")
    assert anonymous.status_code == 401
    assert anonymous.json()["resourceType"] == "OperationOutcome"
    admin = signed_in(Role.ADMIN).get("/fhir/Patient")
    assert admin.status_code == 403
    assert admin.json()["issue"][0]["code"] == "forbidden"
    nurse = signed_in(Role.NURSE)
    cases = [
        ("/fhir/Patient/999999", 404, "Patient/999999 does not exist"),
        ("/fhir/Observation/c999999-age", 404, "Observation/c999999-age does not exist"),
        ("/fhir/Encounter/1", 404, "resource type 'Encounter' is not supported here"),
        ("/fhir/Observation", 400, "searching Observation needs the patient or subject parameter"),
        ("/fhir/Patient?birthdate=1950-13-01", 400, "birthdate='1950-13-01' is not a FHIR date"),
        ("/fhir/Patient?_count=ten", 400, "_count='ten' is not a whole number"),
    ]
    for url, status, message in cases:
        response = nurse.get(url)
        assert response.status_code == status, (url, response.text)
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert problems(outcome) == []
        assert outcome["issue"][0]["diagnostics"].startswith(message), outcome


def test_audit_events_and_workflow_resources_of_a_patient(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("FHIR-AUD")
    client = signed_in(Role.SERVICE_LEAD)
    patient_id = _patient_id(client, "FHIR-AUD")
    referral = client.get("/fhir/ServiceRequest", params={"patient": patient_id}).json()
    assert [e["resource"]["status"] for e in referral["entry"]] == ["active"]
    events = client.get("/fhir/AuditEvent", params={"patient": patient_id}).json()
    assert problems(events) == []
    actions = [e["resource"]["outcomeDesc"] for e in events["entry"]]
    assert "create" in actions  # the case was recorded
    assert "read" in actions  # the search above was audited
    first = events["entry"][0]["resource"]
    assert client.get(f"/fhir/AuditEvent/{first['id']}").json() == first
    everything = client.get(f"/fhir/Patient/{patient_id}/$everything").json()
    assert "AuditEvent" not in {e["resource"]["resourceType"] for e in everything["entry"]}
