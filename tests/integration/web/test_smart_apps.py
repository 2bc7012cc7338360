"""Apps a member of staff authorizes (SMART standalone launch, authorization code with PKCE S256) on SQLite and
PostgreSQL: the consent page, the code, the token acting as that member of staff within the granted scopes."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.conftest import PASSWORD, Account, csrf
from tests.unit.fhir.smart_clients import ASSERTION_TYPE, BackendClient
from vertebro.errors import InvalidInput
from vertebro.fhir.smart_apps import register_app
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

REDIRECT = "http://localhost:9100/callback"
FHIR_BASE = "http://testserver/fhir"
TOKEN_URL = "http://testserver/auth/token"


def _register(session_factory: sessionmaker[Session], client_id: str = "chart-viewer", jwks: Any = None) -> None:
    with UnitOfWork(session_factory) as uow:
        register_app(
            uow,
            client_id=client_id,
            name="Chart viewer",
            redirect_uris=[REDIRECT],
            scope="user/*.read",
            jwks=jwks,
            actor="t.admin",
        )
        uow.commit()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _query(challenge: str, **changes: str) -> str:
    params = {
        "response_type": "code",
        "client_id": "chart-viewer",
        "redirect_uri": REDIRECT,
        "scope": "openid fhirUser user/Patient.rs user/Condition.read",
        "state": "app-state-1",
        "aud": FHIR_BASE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }
    return urlencode({k: v for k, v in params.items() if v})


def _consent(client: TestClient, query: str, decision: str = "allow") -> dict[str, list[str]]:
    """Open the consent page, answer it, and return the query the app receives back."""
    shown = client.get(f"/auth/authorize?{query}")
    assert shown.status_code == 200, shown.text
    assert "Allow Chart viewer to use vertebro as you?" in shown.text
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', shown.text))
    answered = client.post(
        "/auth/authorize", data={**{k: unescape(v) for k, v in fields.items()}, "decision": decision}
    )
    assert answered.status_code == 200, answered.text
    location = unescape(re.search(r'href="([^"]+)">Return to', answered.text).group(1))  # type: ignore[union-attr]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def _exchange(client: TestClient, code: str, verifier: str, **extra: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "chart-viewer",
        "code_verifier": verifier,
        **extra,
    }
    return client.post("/auth/token", data=form)


def test_an_app_a_clinician_allows_reads_as_that_clinician_within_its_scopes(
    signed_in: Callable[[Role], TestClient],
    app_factory: Callable[[], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("APP-1")
    _register(session_factory)
    verifier, challenge = _pkce()
    back = _consent(signed_in(Role.NURSE), _query(challenge))
    assert back["state"] == ["app-state-1"]
    with app_factory() as app:
        token = _exchange(app, back["code"][0], verifier)
        assert token.status_code == 200, token.text
        assert token.headers["cache-control"] == "no-store"
        body = token.json()
        assert body["scope"] == "user/Patient.rs user/Condition.read"  # openid and fhirUser are not granted
        assert body["expires_in"] == 3600
        app.headers["Authorization"] = f"Bearer {body['access_token']}"
        found = app.get("/fhir/Patient", params={"identifier": "APP-1"})
        assert found.status_code == 200, found.text
        pid = found.json()["entry"][0]["resource"]["id"]
        assert app.get("/fhir/Observation", params={"patient": pid}).status_code == 403
        assert app.post("/fhir/Patient", json={"resourceType": "Patient"}).status_code == 403
        closed = app.get("/api/worklist")  # the clinician's JSON API and pages are not the app's
        assert closed.status_code == 403
        assert "are for /fhir only" in closed.json()["detail"]
        again = _exchange(app, back["code"][0], verifier)
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
    with UnitOfWork(session_factory) as uow:
        authorized = uow.audit.entries(action="smart_app_authorized")
        issued = uow.audit.entries(action="smart_token_issued")
        reads = uow.audit.entries(actor="t.nurse", action="read")
    assert [e.actor for e in authorized] == ["t.nurse"]
    assert [(e.actor, e.detail["user"]) for e in issued] == [("client:chart-viewer", "t.nurse")]
    assert reads  # the app's reads are audited under the clinician who allowed it


def test_a_wrong_verifier_spends_the_code(
    signed_in: Callable[[Role], TestClient], client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory)
    verifier, challenge = _pkce()
    back = _consent(signed_in(Role.COORDINATOR), _query(challenge))
    wrong = _exchange(client, back["code"][0], "x" * 43)
    assert wrong.status_code == 400
    assert "code_verifier does not match" in wrong.json()["error_description"]
    assert _exchange(client, back["code"][0], verifier).json()["error"] == "invalid_grant"


def test_bad_requests_go_back_to_the_app_only_when_its_redirect_uri_is_registered(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory)
    nurse = signed_in(Role.NURSE)
    _, challenge = _pkce()
    unknown = nurse.get(f"/auth/authorize?{_query(challenge, redirect_uri='https://evil.example/cb')}")
    assert unknown.status_code == 422  # an error page, never a redirect to an unregistered URI
    assert "redirect_uri is not one registered for this app" in unknown.text
    for changes, error, text in [
        ({"code_challenge_method": "plain"}, "invalid_request", "PKCE is required"),
        ({"code_challenge": ""}, "invalid_request", "PKCE is required"),
        ({"aud": "https://other.example/fhir"}, "invalid_request", "aud must be"),
        ({"scope": "patient/*.read"}, "invalid_scope", "patient/*.read is not granted"),
        ({"scope": "user/*.write"}, "invalid_scope", "user/*.write is not granted"),
        ({"scope": "launch/patient user/*.read"}, "invalid_scope", "no launch context"),
        ({"state": ""}, "invalid_request", "state is required"),
    ]:
        refused = nurse.get(f"/auth/authorize?{_query(challenge, **changes)}")
        assert refused.status_code == 302, changes
        back = parse_qs(urlsplit(refused.headers["location"]).query)
        assert refused.headers["location"].startswith(REDIRECT + "?")
        assert back["error"] == [error], changes
        assert text in back["error_description"][0]
    denied = _consent(nurse, _query(challenge), decision="deny")
    assert denied["error"] == ["access_denied"]
    assert denied["state"] == ["app-state-1"]


def test_a_clinician_not_signed_in_signs_in_and_comes_back_to_the_question(
    client: TestClient, accounts: dict[Role, Account], session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory)
    _, challenge = _pkce()
    query = _query(challenge)
    first = client.get(f"/auth/authorize?{query}")
    assert first.status_code == 303
    assert first.headers["location"] == "/login"
    account = accounts[Role.RADIOLOGIST]
    assert client.post("/login", data={"username": account.username, "password": PASSWORD}).status_code == 303
    signed = client.post("/login/totp", data={"code": pyotp.TOTP(account.secret).now()})
    assert signed.headers["location"] == f"/auth/authorize?{query}"
    assert "Allow Chart viewer" in client.get(signed.headers["location"]).text


def test_an_admin_cannot_authorize_an_app(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory)
    _, challenge = _pkce()
    admin = signed_in(Role.ADMIN)
    assert admin.get(f"/auth/authorize?{_query(challenge)}").status_code == 403
    token = csrf(admin, "/admin/audit")
    fields = parse_qs(_query(challenge))
    posted = admin.post("/auth/authorize", data={**{k: v[0] for k, v in fields.items()}, "csrf_token": token})
    assert posted.status_code == 403


def test_a_confidential_app_must_sign_its_token_request(
    signed_in: Callable[[Role], TestClient], client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    keys = BackendClient(client_id="chart-viewer")
    _register(session_factory, jwks=keys.jwks)
    verifier, challenge = _pkce()
    back = _consent(signed_in(Role.NURSE), _query(challenge))
    unsigned = _exchange(client, back["code"][0], verifier)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "invalid_client"
    assertion = keys.assertion(TOKEN_URL)
    signed = _exchange(
        client, back["code"][0], verifier, client_assertion_type=ASSERTION_TYPE, client_assertion=assertion
    )
    assert signed.status_code == 200, signed.text
    verifier, challenge = _pkce()
    again = _consent(signed_in(Role.NURSE), _query(challenge))
    replayed = _exchange(
        client, again["code"][0], verifier, client_assertion_type=ASSERTION_TYPE, client_assertion=assertion
    )
    assert replayed.status_code == 401
    assert replayed.json() == {
        "error": "invalid_client",
        "error_description": "the assertion's jti was already used (a replayed assertion)",
    }


def test_app_registration_refuses_what_it_cannot_honour(session_factory: sessionmaker[Session]) -> None:
    for changes, message in [
        ({"redirect_uris": ["http://app.example/cb"]}, "https URL"),
        ({"redirect_uris": ["https://app.example/cb#x"]}, "without a fragment"),
        ({"redirect_uris": []}, "at least one redirect URI"),
        ({"scope": "patient/*.read"}, "user/ scopes only"),
        ({"scope": "system/*.read"}, "user/ scopes only"),
        ({"client_id": "app x"}, "letters, digits"),
    ]:
        arguments: dict[str, Any] = {
            "client_id": "app-x",
            "name": "",
            "redirect_uris": [REDIRECT],
            "scope": "user/*.read",
            "jwks": None,
            "actor": "t.admin",
            **changes,
        }
        with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match=message):
            register_app(uow, **arguments)
