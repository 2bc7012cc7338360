"""The CapabilityStatement claims only what works: every interaction, search parameter, _include and operation
it lists is exercised here (under ``Prefer: handling=strict``, so a parameter the server ignored would fail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from vertebro.pathway.machine import Role

STRICT = {"Prefer": "handling=strict"}
VALUES = {"token": "x", "date": "ge2000-01-01", "string": "a"}
BODIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "Patient": lambda pid: {
        "resourceType": "Patient",
        "identifier": [{"system": "http://hospital.example.org/mrn", "value": "CAP-2"}],
        "gender": "male",
    },
    "Condition": lambda pid: {
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "64859006"}]},
        "subject": {"reference": f"Patient/{pid}"},
    },
    "Observation": lambda pid: {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2024-03-05",
    },
}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), (response.request.url, response.text)
    return response.json() if response.content else {}


def test_every_listed_interaction_search_parameter_include_and_operation_works(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("CAP-1")
    client = signed_in(Role.COORDINATOR)
    statement = _ok(client.get("/fhir/metadata"))
    pid = _ok(client.get("/fhir/Patient", params={"identifier": "CAP-1"}))["entry"][0]["resource"]["id"]
    everything = _ok(client.get(f"/fhir/Patient/{pid}/$everything"))
    ids = {e["resource"]["resourceType"]: e["resource"]["id"] for e in everything["entry"]}
    rest = statement["rest"][0]
    for resource in rest["resource"]:
        kind = resource["type"]
        subject = {} if kind in ("Patient", "CodeSystem", "Group") else {"patient": pid}
        if kind == "AdverseEvent":
            subject = {"subject": f"Patient/{pid}"}
        for parameter in resource.get("searchParam", []):
            name, kind_of = parameter["name"], parameter["type"]
            by_name = {"_id": pid, "patient": pid, "subject": f"Patient/{pid}", "gender": "female"}
            query = {**subject, name: by_name.get(name) or VALUES[kind_of]}
            bundle = _ok(client.get(f"/fhir/{kind}", params=query, headers=STRICT))
            assert bundle["type"] == "searchset", (kind, name)
        for include in resource.get("searchInclude", []):
            _ok(client.get(f"/fhir/{kind}", params={**subject, "_include": include}, headers=STRICT))
        for include in resource.get("searchRevInclude", []):
            _ok(client.get(f"/fhir/{kind}", params={**subject, "_revinclude": include}, headers=STRICT))
        codes = {i["code"] for i in resource.get("interaction", [])}
        if "search-type" in codes:
            _ok(client.get(f"/fhir/{kind}", params=subject))
        if "read" in codes and kind in ids:
            _ok(client.get(f"/fhir/{kind}/{ids[kind]}"))
        if "read" in codes and kind == "CodeSystem":
            first = _ok(client.get("/fhir/CodeSystem"))["entry"][0]["resource"]["id"]
            _ok(client.get(f"/fhir/CodeSystem/{first}"))
        if "create" in codes:
            created = client.post(f"/fhir/{kind}", json=BODIES[kind](pid))
            written = _ok(created)
            key = f"{kind}/{written['id']}"
            if "update" in codes:
                updated = client.put(f"/fhir/{key}", json=written, headers={"If-Match": created.headers["etag"]})
                _ok(updated)
            if "patch" in codes:
                operations = [{"op": "add", "path": "/language", "value": "en"}]
                headers = {"If-Match": updated.headers["etag"], "Content-Type": "application/json-patch+json"}
                _ok(client.patch(f"/fhir/{key}", json=operations, headers=headers))
            if "vread" in codes:
                _ok(client.get(f"/fhir/{key}/_history/1"))
            if "history-instance" in codes:
                _ok(client.get(f"/fhir/{key}/_history"))
        if "history-type" in codes:
            _ok(client.get(f"/fhir/{kind}/_history"))
        for operation in resource.get("operation", []):
            target = f"/fhir/{kind}/{pid}/$everything" if operation["name"] == "everything" else None
            if operation["name"] == "export":
                target = f"/fhir/{kind}/$export" if kind == "Patient" else "/fhir/Group/state-closed/$export"
            assert target is not None, operation
            headers = {"Prefer": "respond-async"} if operation["name"] == "export" else {}
            _ok(client.get(target, headers=headers))
    system = {i["code"] for i in rest["interaction"]}
    empty = {"resourceType": "Bundle", "entry": []}
    if "transaction" in system:
        _ok(client.post("/fhir", json={**empty, "type": "transaction"}))
    if "batch" in system:
        _ok(client.post("/fhir", json={**empty, "type": "batch"}))
    if "history-system" in system:
        _ok(client.get("/fhir/_history"))
    for operation in rest.get("operation", []):
        assert operation["name"] == "export"
        _ok(client.get("/fhir/$export", headers={"Prefer": "respond-async"}))
