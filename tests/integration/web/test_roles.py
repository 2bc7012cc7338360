"""Every page and API route checks the caller's role: walk every route with every role."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.conftest import csrf
from tests.integration.web.portal_helpers import csrf_of, new_patient
from vertebro.pathway.machine import Role

C, N, R, L, A = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD, Role.ADMIN
CLINICAL = {C, N, R, L}
DESK = {C, N}
CARE = {N, R}
OPEN = None  # no sign-in needed
PATIENT: frozenset[Role] = frozenset()  # the signed-in patient only (never a staff role)

EXPECTED: dict[tuple[str, str], set[Role] | frozenset[Role] | None] = {
    ("GET", "/login"): OPEN,
    ("POST", "/login"): OPEN,
    ("GET", "/login/totp"): OPEN,
    ("POST", "/login/totp"): OPEN,
    ("POST", "/api/token"): OPEN,
    ("POST", "/logout"): {C, N, R, L, A},
    ("GET", "/"): CLINICAL,
    ("GET", "/patients/{patient_id}"): CLINICAL,
    ("GET", "/cases/{case_id}/reasons"): CLINICAL,
    ("GET", "/calendar"): CLINICAL,
    ("GET", "/calendar/events.json"): CLINICAL,
    ("GET", "/calendar/slots.json"): CLINICAL,
    ("GET", "/cases/{case_id}/booking/move"): DESK,
    ("POST", "/cases/{case_id}/booking/move"): DESK,
    ("GET", "/schedule"): {C, L},
    ("POST", "/schedule/plans"): {L},
    ("GET", "/schedule/plans/{plan_id}"): {C, L},
    ("POST", "/schedule/plans/{plan_id}/accept"): {L},
    ("POST", "/schedule/plans/{plan_id}/move"): {L},
    ("GET", "/referrals/new"): DESK,
    ("POST", "/referrals"): DESK,
    ("GET", "/patients/{patient_id}/documents/{kind}"): CLINICAL,
    ("GET", "/admin/audit"): {A},
    ("GET", "/admin/audit.csv"): {A},
    ("PUT", "/api/admin/users/{username}/role"): {A},
    ("GET", "/registry"): {L, A},
    ("GET", "/registry/patients"): {L},
    ("POST", "/cases/{case_id}/actions/{action}"): CLINICAL,
    ("POST", "/cases/{case_id}/facts"): {R},
    ("POST", "/cases/{case_id}/checklist"): DESK,
    ("POST", "/cases/{case_id}/safety-facts"): {C, N, R},
    ("POST", "/cases/{case_id}/insurance"): DESK,
    ("POST", "/cases/{case_id}/booking"): DESK,
    ("POST", "/cases/{case_id}/booking/cancel"): DESK,
    ("POST", "/cases/{case_id}/change-requests/{request_id}/answer"): DESK,
    ("POST", "/cases/{case_id}/procedure"): {R},
    ("POST", "/cases/{case_id}/observations"): CARE,
    ("GET", "/cases/{case_id}/procedure-mode"): CARE,
    ("POST", "/cases/{case_id}/procedure/levels/{level}/timer"): CARE,
    ("POST", "/cases/{case_id}/discharge"): CARE,
    ("POST", "/cases/{case_id}/follow-ups/{visit}"): {C, N, R},
    ("POST", "/cases/{case_id}/complications"): CARE,
    ("POST", "/cases/{case_id}/medications/decision"): CARE,
    ("POST", "/cases/{case_id}/labs/creatinine-clearance"): CARE,
    ("GET", "/api/worklist"): CLINICAL,
    ("GET", "/api/cases/{case_id}"): CLINICAL,
    ("POST", "/api/cases/{case_id}/actions/{action}"): CLINICAL,
    ("PATCH", "/api/cases/{case_id}/facts"): {R},
    ("PUT", "/api/cases/{case_id}/checklist"): DESK,
    ("PUT", "/api/cases/{case_id}/insurance"): DESK,
    ("POST", "/api/cases/{case_id}/booking"): DESK,
    ("POST", "/api/cases/{case_id}/booking/cancel"): DESK,
    ("POST", "/api/cases/{case_id}/procedure"): {R},
    ("POST", "/api/cases/{case_id}/observations"): CARE,
    ("POST", "/api/cases/{case_id}/discharge"): CARE,
    ("POST", "/api/cases/{case_id}/follow-ups/{visit}"): {C, N, R},
    ("POST", "/api/cases/{case_id}/complications"): CARE,
    # CDS Hooks: called by EHRs, authenticated by the EHR's JWT against VERTEBRO_CDS_JWKS (no staff session).
    ("GET", "/cds-services"): OPEN,
    ("POST", "/cds-services/{service_id}"): OPEN,
    ("OPTIONS", "/cds-services"): OPEN,
    ("OPTIONS", "/cds-services/{service_id}"): OPEN,
    # The patient portal: open pages, then the signed-in patient's own pages.
    ("GET", "/portal"): OPEN,
    ("GET", "/portal/info"): OPEN,
    ("GET", "/portal/info/{slug}.html"): OPEN,
    ("GET", "/portal/request"): OPEN,
    ("POST", "/portal/request"): OPEN,
    ("GET", "/portal/activate/{token}"): OPEN,
    ("POST", "/portal/activate/{token}"): OPEN,
    ("GET", "/portal/login"): OPEN,
    ("POST", "/portal/login"): OPEN,
    ("GET", "/portal/reset"): OPEN,
    ("POST", "/portal/reset"): OPEN,
    ("POST", "/portal/logout"): PATIENT,
    ("GET", "/portal/me"): PATIENT,
    ("GET", "/portal/cases/{case_id}/intake"): PATIENT,
    ("POST", "/portal/cases/{case_id}/intake"): PATIENT,
    ("GET", "/portal/cases/{case_id}/intake/{step}"): PATIENT,
    ("POST", "/portal/cases/{case_id}/intake/{step}"): PATIENT,
    ("POST", "/portal/cases/{case_id}/intake/send"): PATIENT,
    ("GET", "/portal/cases/{case_id}/plan"): PATIENT,
    ("GET", "/portal/cases/{case_id}/documents/{kind}.pdf"): PATIENT,
    ("GET", "/portal/cases/{case_id}/follow-ups/{visit}"): PATIENT,
    ("POST", "/portal/cases/{case_id}/follow-ups/{visit}"): PATIENT,
    ("GET", "/portal/cases/{case_id}/progress"): PATIENT,
    ("GET", "/portal/cases/{case_id}/appointment.ics"): PATIENT,
    ("POST", "/portal/cases/{case_id}/appointment/change"): PATIENT,
    ("GET", "/portal/messages"): PATIENT,
    ("GET", "/portal/messages/new"): PATIENT,
    ("POST", "/portal/messages"): PATIENT,
    ("GET", "/portal/messages/{thread_id}"): PATIENT,
    ("POST", "/portal/messages/{thread_id}/reply"): PATIENT,
    # Secure messages: the clinical team's inbox (decision 0035); the admin edits the clinic settings.
    ("GET", "/inbox"): CLINICAL,
    ("GET", "/inbox/{thread_id}"): CLINICAL,
    ("POST", "/inbox/{thread_id}/reply"): CLINICAL,
    ("POST", "/inbox/{thread_id}/assign"): CLINICAL,
    ("POST", "/inbox/{thread_id}/status"): CLINICAL,
    ("GET", "/api/inbox/threads"): CLINICAL,
    ("GET", "/api/inbox/threads/{thread_id}"): CLINICAL,
    ("POST", "/api/inbox/threads/{thread_id}/replies"): CLINICAL,
    ("GET", "/admin/clinic"): {A},
    ("POST", "/admin/clinic"): {A},
    # SMART apps and clients: the admin lists and revokes them (decision 0039).
    ("GET", "/admin/smart"): {A},
    ("GET", "/admin/smart/{client_id}/revoke"): {A},
    ("POST", "/admin/smart/{client_id}/revoke"): {A},
    ("GET", "/admin/smart/new-app"): {A},  # and registers them (decision 0044)
    ("POST", "/admin/smart/new-app"): {A},
    ("GET", "/admin/smart/new-client"): {A},
    ("POST", "/admin/smart/new-client"): {A},
    ("GET", "/outbox"): CLINICAL,
    ("POST", "/cases/{case_id}/portal-link"): DESK,
    ("GET", "/fhir/metadata"): OPEN,
    ("GET", "/fhir/CodeSystem"): OPEN,
    ("GET", "/fhir/Patient"): CLINICAL,
    ("GET", "/fhir/Patient/{resource_id}/$everything"): CLINICAL,
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
            "ServiceRequest",
            "Appointment",
            "CarePlan",
            "QuestionnaireResponse",
            "DocumentReference",
            "Provenance",
            "AuditEvent",
        )
    },
    ("POST", "/fhir"): CLINICAL,
    ("GET", "/fhir/$export"): CLINICAL,
    ("GET", "/fhir/Patient/$export"): CLINICAL,
    ("GET", "/fhir/Group/{group_id}/$export"): CLINICAL,
    ("POST", "/fhir/$export"): CLINICAL,
    ("POST", "/fhir/Patient/$export"): CLINICAL,
    ("POST", "/fhir/Group/{group_id}/$export"): CLINICAL,
    ("GET", "/fhir/_history"): CLINICAL,
    ("GET", "/fhir/$export-status/{job_id}"): CLINICAL,
    ("DELETE", "/fhir/$export-status/{job_id}"): CLINICAL,
    ("GET", "/fhir/$export-file/{job_id}/{file_name}"): CLINICAL,
    **{
        route: CLINICAL
        for t in ("Patient", "Condition", "Observation")
        for route in (
            ("POST", f"/fhir/{t}"),
            ("GET", f"/fhir/{t}/{{resource_id}}"),
            ("PUT", f"/fhir/{t}/{{resource_id}}"),
            ("PATCH", f"/fhir/{t}/{{resource_id}}"),
            ("GET", f"/fhir/{t}/_history"),
            ("GET", f"/fhir/{t}/{{resource_id}}/_history"),
            ("GET", f"/fhir/{t}/{{resource_id}}/_history/{{version_id}}"),
        )
    },
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def test_every_route_is_in_the_table(client: TestClient) -> None:
    assert _routes(client) == set(EXPECTED), "add new routes to EXPECTED with their allowed roles"


def test_staff_sessions_are_refused_by_the_portal(signed_in: Callable[[Role], TestClient]) -> None:
    staff = signed_in(Role.NURSE)
    response = staff.get("/portal/me")
    assert response.status_code == 403
    assert "staff accounts cannot open the patient portal" in response.text.lower()


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
        url = _url(path, case_id, patient_id)
        if method == "GET":
            response = client.get(url)
        elif path.startswith(("/api", "/fhir")):
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


def _url(path: str, case_id: int, patient_id: int = 1) -> str:
    return path.format(
        patient_id=patient_id,
        case_id=case_id,
        action="start_screening",
        visit="2w",
        level="L1",
        kind="preparation",
        resource_id=patient_id,
        version_id=1,
        job_id="none",
        file_name="Patient.ndjson",
        group_id="state-requested",
        plan_id=1,
        username="nobody",
        thread_id=1,
        step="medicines",
        client_id="nobody",
        request_id=1,
    )


def test_a_patient_gets_only_the_patient_routes(
    portal_factory: Callable[..., TestClient], stored_case: Callable[..., int]
) -> None:
    """A patient's session opens the patient's own pages and nothing of the staff app or the API."""
    other_case = stored_case("ROLE-P")
    client = portal_factory()
    own = new_patient(client)
    token = csrf_of(client.get("/portal/me").text)
    for (method, path), allowed in sorted(EXPECTED.items()):
        if allowed is OPEN or path == "/portal/logout":
            continue
        url = _url(path, own["case_id"] if allowed is PATIENT else other_case)
        response = client.request(method, url, data={"csrf_token": token} if method != "GET" else None)
        if allowed is PATIENT:
            assert response.status_code not in (401, 403), f"patient {method} {path} -> {response.status_code}"
        else:
            assert response.status_code in (401, 403) or (
                response.status_code == 303 and response.headers["location"] == "/login"
            ), f"patient {method} {path} -> {response.status_code}"


def test_a_patient_never_sees_another_patients_case(portal_factory: Callable[..., TestClient]) -> None:
    """Every portal route that names a case answers another patient's case id with 404 and shows none of it."""
    first, second = portal_factory(), portal_factory()
    mine = new_patient(first)
    theirs = new_patient(second, name="Other Person", email="other@example.org", levels="T12")
    token = csrf_of(first.get("/portal/me").text)
    routes = [(m, p) for (m, p), allowed in EXPECTED.items() if allowed is PATIENT and "{case_id}" in p]
    assert len(routes) == 12
    for method, path in routes:
        url = _url(path, theirs["case_id"])
        response = first.request(method, url, data={"csrf_token": token, "pain_now": "3"} if method != "GET" else None)
        assert response.status_code == 404, f"{method} {path} -> {response.status_code}"
        assert "Other Person" not in response.text
        assert theirs["reference"] not in response.text
        assert "T12" not in response.text
    assert "Other Person" not in first.get("/portal/me").text
    assert mine["reference"] in first.get("/portal/me").text


def test_anonymous_visitors_are_sent_to_the_portal_sign_in(client: TestClient) -> None:
    for (method, path), allowed in sorted(EXPECTED.items()):
        if allowed is PATIENT:
            response = client.request(method, _url(path, 1))
            assert response.status_code == 303, path
            assert response.headers["location"] == "/portal/login", path
