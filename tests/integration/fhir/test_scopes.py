"""SMART-style scopes on API tokens (per resource type, read/write, patient context) and ``_include``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
from fastapi.testclient import TestClient

from tests.integration.web.conftest import PASSWORD, Account
from tests.unit.fhir.validation import problems
from vertebro.pathway.machine import Role


def _token_client(client: TestClient, account: Account, **scope: Any) -> TestClient:
    body = {"username": account.username, "password": PASSWORD, "code": pyotp.TOTP(account.secret).now(), **scope}
    response = client.post("/api/token", json=body)
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def _patient_id(client: TestClient, identifier: str) -> str:
    bundle = client.get("/fhir/Patient", params={"identifier": identifier}).json()
    found: str = bundle["entry"][0]["resource"]["id"]
    return found


def _forbidden(response: Any, message: str) -> None:
    assert response.status_code == 403, response.text
    issue = response.json()["issue"][0]
    assert issue["code"] == "forbidden"
    assert issue["diagnostics"] == message


def test_user_scopes_limit_types_and_writes(
    client: TestClient,
    accounts: dict[Role, Any],
    stored_case: Callable[..., int],
) -> None:
    stored_case("SC-1")
    reader = _token_client(client, accounts[Role.NURSE], scope="user/Patient.read user/Condition.rs")
    pid = _patient_id(reader, "SC-1")
    assert reader.get(f"/fhir/Patient/{pid}").status_code == 200
    conditions = reader.get("/fhir/Condition", params={"patient": pid})
    assert conditions.status_code == 200
    _forbidden(
        reader.get("/fhir/Observation", params={"patient": pid}),
        f"the token's scopes (user/Patient.read user/Condition.rs) do not allow read of Observation of Patient/{pid}",
    )
    everything = reader.get(f"/fhir/Patient/{pid}/$everything").json()
    assert {e["resource"]["resourceType"] for e in everything["entry"]} == {"Patient", "Condition"}
    _forbidden(
        reader.post("/fhir/Patient", json={"resourceType": "Patient", "identifier": [{"value": "SC-X"}]}),
        "the token's scopes (user/Patient.read user/Condition.rs) do not allow write of Patient across patients",
    )


def test_patient_scopes_reach_only_the_launch_patient(
    client: TestClient,
    accounts: dict[Role, Any],
    stored_case: Callable[..., int],
) -> None:
    stored_case("SC-2")
    stored_case("SC-3")
    everyone = _token_client(client, accounts[Role.RADIOLOGIST])  # no scope: what the role allows
    mine, other = _patient_id(everyone, "SC-2"), _patient_id(everyone, "SC-3")
    with TestClient(client.app) as second:
        scoped = _token_client(second, accounts[Role.COORDINATOR], scope="patient/*.read", patient=int(mine))
        found = scoped.get("/fhir/Patient").json()
        assert [e["resource"]["id"] for e in found["entry"]] == [mine]
        assert scoped.get(f"/fhir/Observation?patient={mine}").status_code == 200
        _forbidden(
            scoped.get(f"/fhir/Patient/{other}"),
            f"the token's scopes (patient/*.read) do not allow read of Patient of Patient/{other}",
        )
        _forbidden(
            scoped.get("/fhir/$export", headers={"Prefer": "respond-async"}),
            "the token's scopes (patient/*.read) do not allow read of Patient across patients",
        )


def test_bad_scope_requests_are_refused(client: TestClient, accounts: dict[Role, Any]) -> None:
    account = accounts[Role.SERVICE_LEAD]
    cases = [
        ({"scope": "openid"}, "'openid' is not a scope vertebro grants"),
        ({"scope": "patient/*.read"}, "patient/ scopes need the patient they are about (patient: a Patient id)"),
        ({"scope": "user/*.read", "patient": 1}, "patient is the context of patient/ scopes: none was asked for"),
    ]
    for extra, message in cases:
        body = {"username": account.username, "password": PASSWORD, "code": pyotp.TOTP(account.secret).now(), **extra}
        response = client.post("/api/token", json=body)
        assert response.status_code == 422, response.text
        assert message in response.text


def test_include_adds_the_patient(signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]) -> None:
    stored_case("SC-4")
    client = signed_in(Role.NURSE)
    pid = _patient_id(client, "SC-4")
    bundle = client.get("/fhir/Condition", params={"patient": pid, "_include": "Condition:patient"}).json()
    assert problems(bundle) == []
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]]
    assert modes[-1] == ("Patient", "include")
    assert {m for t, m in modes if t == "Condition"} == {"match"}
    assert bundle["total"] == len(modes) - 1  # total counts matches only
    refused = client.get("/fhir/Condition", params={"patient": pid, "_include": "Condition:asserter"})
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["diagnostics"] == (
        "_include='Condition:asserter' is not supported here (supported: Condition:patient, Condition:subject, *)"
    )
