"""Every page and API route checks the caller's role: walk every route with every role."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.conftest import csrf
from vertebro.pathway.machine import Role

C, N, R, L, A = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD, Role.ADMIN
CLINICAL = {C, N, R, L}
DESK = {C, N}
CARE = {N, R}
OPEN = None  # no sign-in needed

EXPECTED: dict[tuple[str, str], set[Role] | None] = {
    ("GET", "/login"): OPEN,
    ("POST", "/login"): OPEN,
    ("GET", "/login/totp"): OPEN,
    ("POST", "/login/totp"): OPEN,
    ("POST", "/api/token"): OPEN,
    ("POST", "/logout"): {C, N, R, L, A},
    ("GET", "/"): CLINICAL,
    ("GET", "/patients/{patient_id}"): CLINICAL,
    ("GET", "/calendar"): CLINICAL,
    ("GET", "/referrals/new"): DESK,
    ("POST", "/referrals"): DESK,
    ("GET", "/patients/{patient_id}/documents/{kind}"): CLINICAL,
    ("GET", "/admin/audit"): {A},
    ("GET", "/admin/audit.csv"): {A},
    ("POST", "/cases/{case_id}/actions/{action}"): CLINICAL,
    ("POST", "/cases/{case_id}/facts"): {R},
    ("POST", "/cases/{case_id}/checklist"): DESK,
    ("POST", "/cases/{case_id}/insurance"): DESK,
    ("POST", "/cases/{case_id}/booking"): DESK,
    ("POST", "/cases/{case_id}/booking/cancel"): DESK,
    ("POST", "/cases/{case_id}/procedure"): {R},
    ("POST", "/cases/{case_id}/observations"): CARE,
    ("POST", "/cases/{case_id}/discharge"): CARE,
    ("POST", "/cases/{case_id}/follow-ups/{visit}"): {C, N, R},
    ("POST", "/cases/{case_id}/complications"): CARE,
    ("GET", "/api/worklist"): CLINICAL,
    ("GET", "/api/cases/{case_id}"): CLINICAL,
    ("POST", "/api/cases/{case_id}/actions/{action}"): CLINICAL,
    ("PATCH", "/api/cases/{case_id}/facts"): {R},
    ("PUT", "/api/cases/{case_id}/checklist"): DESK,
    ("PUT", "/api/cases/{case_id}/insurance"): DESK,
    ("POST", "/api/cases/{case_id}/booking"): DESK,
    ("POST", "/api/cases/{case_id}/procedure"): {R},
    ("POST", "/api/cases/{case_id}/observations"): CARE,
    ("POST", "/api/cases/{case_id}/discharge"): CARE,
    ("POST", "/api/cases/{case_id}/follow-ups/{visit}"): {C, N, R},
    ("POST", "/api/cases/{case_id}/complications"): CARE,
    # CDS Hooks: called by EHRs, authenticated by the EHR's JWT against VERTEBRO_CDS_JWKS (no staff session).
    ("GET", "/cds-services"): OPEN,
    ("POST", "/cds-services/{service_id}"): OPEN,
    ("GET", "/fhir/metadata"): OPEN,
    ("GET", "/fhir/CodeSystem"): OPEN,
    ("GET", "/fhir/Patient"): CLINICAL,
    ("GET", "/fhir/Patient/{patient_id}"): CLINICAL,
    ("GET", "/fhir/Patient/{patient_id}/$everything"): CLINICAL,
    **{
        ("GET", f"/fhir/{t}"): CLINICAL
        for t in (
            "Condition",
            "Observation",
            "MedicationStatement",
            "AllergyIntolerance",
            "GuidanceResponse",
            "Procedure",
            "AdverseEvent",
        )
    },
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def test_every_route_is_in_the_table(client: TestClient) -> None:
    assert _routes(client) == set(EXPECTED), "add new routes to EXPECTED with their allowed roles"


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_gets_exactly_the_allowed_routes(
    role: Role, signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("ROLE-1")
    client = signed_in(role)
    token = csrf(client, "/admin/audit" if role is A else "/")
    patient_id = _patient_of(client, case_id, role)
    refused, admitted = [], []
    for (method, path), allowed in sorted(EXPECTED.items()):
        if allowed is OPEN or path == "/logout":
            continue
        url = path.format(
            patient_id=patient_id, case_id=case_id, action="start_screening", visit="2w", kind="preparation"
        )
        if method == "GET":
            response = client.get(url)
        elif path.startswith("/api"):
            response = client.request(method, url, json={}, headers={"X-CSRF-Token": token})
        else:
            response = client.request(method, url, data={"csrf_token": token})
        got_in = response.status_code != 403
        (admitted if got_in else refused).append((method, path))
        assert got_in == (role in allowed), f"{role.value} {method} {path} -> {response.status_code}"


def _patient_of(client: TestClient, case_id: int, role: Role) -> int:
    if role is A:
        return 1
    response = client.get(f"/api/cases/{case_id}")
    assert response.status_code == 200, response.text
    patient_id: int = response.json()["patient_id"]
    return patient_id


def test_admin_cannot_read_patient_data(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("ROLE-2")
    admin = signed_in(A)
    response = admin.get(f"/api/cases/{case_id}")
    assert response.status_code == 403
    assert re.search("admin role cannot", response.text)
