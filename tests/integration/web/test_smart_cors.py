"""CORS for browser-based SMART apps, over plain HTTP on SQLite and PostgreSQL (decision 0039, hazard H125): /fhir
and the token endpoint answer the web origins registered with an active app, and no other; staff pages, the JSON
API, the consent page and the portal never carry CORS headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.test_smart_apps import REDIRECT, _consent, _exchange, _pkce, _query
from vertebro.errors import InvalidInput
from vertebro.fhir.smart import revoke_client
from vertebro.fhir.smart_apps import register_app
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartClient

VIEWER = "https://viewer.example"
DERIVED = "http://localhost:9100"  # the origin of test_smart_apps.REDIRECT
STRANGER = "https://evil.example"


def _register(session_factory: sessionmaker[Session], client_id: str, origins: list[str] | None) -> None:
    with UnitOfWork(session_factory) as uow:
        register_app(
            uow,
            client_id=client_id,
            name="Chart viewer",
            redirect_uris=[REDIRECT, "https://viewer.example:443/app/callback"],
            scope="user/*.read",
            jwks=None,
            actor="t.admin",
            origins=origins,
        )
        uow.commit()


def _preflight(client: TestClient, path: str, origin: str, method: str = "GET", headers: str = "authorization") -> Any:
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def _cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_a_registered_origins_preflight_is_answered_with_what_fhir_needs(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory, "chart-viewer", [VIEWER])
    for path, method in [("/fhir/Patient", "GET"), ("/fhir/Patient/1", "PUT"), ("/auth/token", "POST")]:
        answer = _preflight(client, path, VIEWER, method, "authorization,content-type,if-match,prefer")
        assert answer.status_code == 204, (path, answer.text)
        assert answer.headers["access-control-allow-origin"] == VIEWER
        assert "Origin" in answer.headers["vary"]
        methods = {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}
        assert {"GET", "POST", "PUT", "DELETE", "PATCH"} <= methods
        allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type", "if-match", "prefer"} <= allowed
        assert int(answer.headers["access-control-max-age"]) > 0
        assert "access-control-allow-credentials" not in answer.headers  # bearer tokens only, never the cookie


def test_a_registered_origin_reads_fhir_and_the_token_endpoints_answers(
    signed_in: Callable[[Role], TestClient],
    client: TestClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("CORS-1")
    _register(session_factory, "chart-viewer", None)  # origins from the redirect URIs
    metadata = client.get("/fhir/metadata", headers={"Origin": DERIVED})
    assert metadata.status_code == 200
    assert metadata.headers["access-control-allow-origin"] == DERIVED
    assert "Origin" in metadata.headers["vary"]
    exposed = {h.strip() for h in metadata.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Location", "Content-Location", "WWW-Authenticate"} <= exposed
    verifier, challenge = _pkce()
    back = _consent(signed_in(Role.NURSE), _query(challenge))
    client.headers["Origin"] = DERIVED
    wrong = _exchange(client, back["code"][0], "x" * 43)  # an error the app must be able to read
    assert wrong.status_code == 400
    assert wrong.headers["access-control-allow-origin"] == DERIVED
    back = _consent(signed_in(Role.NURSE), _query(challenge))
    token = _exchange(client, back["code"][0], verifier)
    assert token.status_code == 200, token.text
    assert token.headers["access-control-allow-origin"] == DERIVED
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    patients = client.get("/fhir/Patient", params={"identifier": "CORS-1"}, headers=bearer)
    assert patients.status_code == 200
    assert patients.headers["access-control-allow-origin"] == DERIVED
    anonymous = client.get("/fhir/Patient", headers={"Origin": DERIVED})
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == DERIVED  # the app can read why


def test_an_unregistered_origin_gets_no_cors_header(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    _register(session_factory, "chart-viewer", [VIEWER])
    for origin in [STRANGER, DERIVED, "null", "https://viewer.example.evil.example", "http://viewer.example"]:
        preflight = _preflight(client, "/fhir/Patient", origin)
        assert preflight.status_code == 403, origin
        assert _cors_headers(preflight) == {}, origin
        read = client.get("/fhir/metadata", headers={"Origin": origin})
        assert read.status_code == 200
        assert _cors_headers(read) == {}, origin
        assert "Origin" in read.headers["vary"]
        token = client.post("/auth/token", data={"grant_type": "client_credentials"}, headers={"Origin": origin})
        assert _cors_headers(token) == {}, origin


def test_staff_pages_the_api_the_consent_page_and_the_portal_never_get_cors(
    signed_in: Callable[[Role], TestClient], client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory, "chart-viewer", [VIEWER])
    nurse = signed_in(Role.NURSE)
    _, challenge = _pkce()
    for path in ["/", "/login", "/api/worklist", "/portal", "/admin/smart", f"/auth/authorize?{_query(challenge)}"]:
        for caller in (client, nurse):
            answer = caller.get(path, headers={"Origin": VIEWER})
            assert _cors_headers(answer) == {}, path
        preflight = _preflight(client, path.split("?")[0], VIEWER)
        assert _cors_headers(preflight) == {}, path
    discovery = client.get("/.well-known/smart-configuration", headers={"Origin": VIEWER})
    assert _cors_headers(discovery) == {}  # outside /fhir; apps find it under the FHIR base, which answers
    assert _cors_headers(client.get("/fhir/.well-known/smart-configuration", headers={"Origin": VIEWER})) != {}


def test_a_revoked_apps_origin_gets_nothing_more(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    _register(session_factory, "chart-viewer", [VIEWER])
    assert _preflight(client, "/fhir/Patient", VIEWER).status_code == 204
    with UnitOfWork(session_factory) as uow:
        revoke_client(uow, client_id="chart-viewer", actor="t.admin")
        uow.commit()
    refused = _preflight(client, "/fhir/Patient", VIEWER)
    assert refused.status_code == 403
    assert _cors_headers(refused) == {}


def test_origins_are_stored_as_browsers_send_them_and_checked(session_factory: sessionmaker[Session]) -> None:
    _register(session_factory, "derived", None)
    _register(session_factory, "given", ["HTTPS://Viewer.Example:443/", "http://127.0.0.1:8765"])
    with UnitOfWork(session_factory) as uow:
        stored = dict(uow.session.execute(select(SmartClient.client_id, SmartClient.allowed_origins)).all())
        registered = uow.audit.entries(action="smart_app_registered")
    assert stored == {"derived": [DERIVED, VIEWER], "given": ["http://127.0.0.1:8765", VIEWER]}
    assert [e.detail["origins"] for e in registered] == [stored["derived"], stored["given"]]
    for origin, message in [
        ("https://viewer.example/app", "scheme://host"),
        ("https://viewer.example?x=1", "scheme://host"),
        ("https://user@viewer.example", "scheme://host"),
        ("null", "not a web origin"),
        ("*", "not a web origin"),
        ("ftp://viewer.example", "not a web origin"),
        ("http://viewer.example", "https origin"),
    ]:
        with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match=message) as refused:
            register_app(
                uow,
                client_id="bad",
                name="",
                redirect_uris=[REDIRECT],
                scope="user/*.read",
                jwks=None,
                actor="t.admin",
                origins=[origin],
            )
        assert refused.value.field == "origins"
