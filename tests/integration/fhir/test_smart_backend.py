"""SMART Backend Services on SQLite and PostgreSQL: discovery, the token endpoint, client tokens on /fhir, $export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.smart_clients import BackendClient
from vertebro.config import Settings
from vertebro.errors import InvalidInput
from vertebro.fhir.smart import register_client
from vertebro.pathway.machine import Role
from vertebro.store import credentials
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartAccessToken

TOKEN_URL = "http://testserver/auth/token"


@pytest.fixture(scope="module")
def backend() -> BackendClient:
    return BackendClient()


def register(
    session_factory: sessionmaker[Session], backend: BackendClient, name: str = "Bulk loader"
) -> BackendClient:
    """Register a backend client with system/*.read (role coordinator)."""
    with UnitOfWork(session_factory) as uow:
        register_client(
            uow,
            client_id=backend.client_id,
            name=name,
            jwks=backend.jwks,
            scope="system/*.read",
            role=Role.COORDINATOR,
            actor="t.admin",
        )
        uow.commit()
    return backend


@pytest.fixture
def registered(session_factory: sessionmaker[Session], backend: BackendClient) -> BackendClient:
    """The backend client registered with system/*.read (role coordinator)."""
    return register(session_factory, backend)


def _token(client: TestClient, backend: BackendClient, scope: str = "system/*.read") -> str:
    response = client.post("/auth/token", data=backend.token_form(TOKEN_URL, scope))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _error(response: Any, status: int, error: str, description: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert description in body["error_description"]


@pytest.mark.parametrize("path", ["/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"])
def test_smart_configuration_describes_backend_services(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == TOKEN_URL
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "none"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert config["authorization_endpoint"] == "http://testserver/auth/authorize"
    assert config["grant_types_supported"] == ["authorization_code", "client_credentials"]
    assert config["response_types_supported"] == ["code"]
    assert {"system/*.read", "user/*.read"} <= set(config["scopes_supported"])
    assert set(config["capabilities"]) == {
        "launch-standalone",
        "client-public",
        "client-confidential-asymmetric",
        "permission-user",
        "permission-v1",
        "permission-v2",
    }
    assert config["code_challenge_methods_supported"] == ["S256"]


def test_capability_statement_names_smart_and_the_token_endpoint(signed_in: Callable[[Role], TestClient]) -> None:
    security = signed_in(Role.NURSE).get("/fhir/metadata").json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR",
    }
    oauth = security["extension"][0]
    assert oauth["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert oauth["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]


def test_a_client_gets_a_token_that_reads_fhir_and_is_audited(
    client: TestClient,
    registered: BackendClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("SB-1")
    response = client.post("/auth/token", data=registered.token_form(TOKEN_URL, "system/Patient.rs"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/Patient.rs"
    client.headers["Authorization"] = f"Bearer {body['access_token']}"
    patients = client.get("/fhir/Patient", params={"identifier": "SB-1"})
    assert patients.status_code == 200, patients.text
    pid = patients.json()["entry"][0]["resource"]["id"]
    observations = client.get("/fhir/Observation", params={"patient": pid})
    assert observations.status_code == 403
    assert "system/Patient.rs" in observations.json()["issue"][0]["diagnostics"]
    created = client.post("/fhir/Patient", json={"resourceType": "Patient", "identifier": [{"value": "SB-X"}]})
    assert created.status_code == 403
    with UnitOfWork(session_factory) as uow:
        entries = uow.audit.entries(actor="client:bulk-loader")
        stored = uow.session.scalars(select(SmartAccessToken)).all()
    assert [e.action for e in entries][:1] == ["smart_token_issued"]
    assert entries[0].detail["scope"] == "system/Patient.rs"
    assert any(e.action == "read" for e in entries)  # the Patient read, audited under the client
    assert [t.id for t in stored] == [credentials.token_digest(body["access_token"])]  # only the hash is kept
    assert body["access_token"] not in json.dumps([e.detail for e in entries])


def test_a_replayed_assertion_is_refused_and_audited(
    client: TestClient, registered: BackendClient, session_factory: sessionmaker[Session]
) -> None:
    form = registered.token_form(TOKEN_URL)
    assert client.post("/auth/token", data=form).status_code == 200
    _error(client.post("/auth/token", data=form), 401, "invalid_client", "jti was already used")
    with UnitOfWork(session_factory) as uow:
        refused = uow.audit.entries(actor="client:bulk-loader", action="smart_token_refused")
    assert [e.detail["error"] for e in refused] == ["invalid_client"]


def test_token_request_errors_follow_rfc_6749(client: TestClient, registered: BackendClient) -> None:
    form = registered.token_form(TOKEN_URL)
    _error(client.post("/auth/token", data={**form, "grant_type": "password"}), 400, "unsupported_grant_type", "")
    _error(
        client.post("/auth/token", data={**form, "client_assertion_type": "x"}), 400, "invalid_request", "jwt-bearer"
    )
    _error(client.post("/auth/token", data={"grant_type": "client_credentials"}), 400, "invalid_request", "")
    _error(
        client.post("/auth/token", data=registered.token_form(TOKEN_URL, "system/*.write")),
        400,
        "invalid_scope",
        "system/*.write is not granted to this client",
    )
    _error(
        client.post("/auth/token", data=registered.token_form(TOKEN_URL, "user/*.read")),
        400,
        "invalid_scope",
        "system/ scopes only",
    )
    _error(
        client.post("/auth/token", data=registered.token_form("http://testserver/other")),
        401,
        "invalid_client",
        "aud must be the token endpoint http://testserver/auth/token",
    )
    stranger = BackendClient(client_id="stranger")
    _error(client.post("/auth/token", data=stranger.token_form(TOKEN_URL)), 401, "invalid_client", "not registered")
    impostor = BackendClient(client_id=registered.client_id)
    _error(client.post("/auth/token", data=impostor.token_form(TOKEN_URL)), 401, "invalid_client", "signature")


def test_an_expired_client_token_is_refused(
    client: TestClient, registered: BackendClient, session_factory: sessionmaker[Session]
) -> None:
    token = _token(client, registered)
    with UnitOfWork(session_factory) as uow:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        uow.session.execute(update(SmartAccessToken).values(expires_at=past))
        uow.commit()
    response = client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_registration_refuses_bad_clients(session_factory: sessionmaker[Session], backend: BackendClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"jwks": {"keys": [backend.ec.as_dict(private=True)]}}, "holds a private key"),
        ({"jwks": {"keys": []}}, "at least one key"),
        ({"scope": "user/*.read"}, "system/ scopes only"),
        ({"role": Role.ADMIN}, "clinical role"),
        ({"client_id": "has space"}, "letters, digits"),
    ]
    for change, message in cases:
        arguments: dict[str, Any] = {
            "client_id": "ok-client",
            "name": "",
            "jwks": backend.jwks,
            "scope": "system/*.read",
            "role": Role.NURSE,
            "actor": "t.admin",
            **change,
        }
        with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match=message):
            register_client(uow, **arguments)


def test_a_client_exports_in_bulk_and_only_it_sees_its_job(
    app_factory: Callable[[], TestClient],
    signed_in: Callable[[Role], TestClient],
    registered: BackendClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
    db_url: str,
    tmp_path: Path,
) -> None:
    stored_case("SB-2")
    with app_factory() as client:
        client.app.state.settings = Settings(database_url=db_url, secure_cookies=False, export_dir=tmp_path)  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {_token(client, registered)}"
        kick_off = client.get("/fhir/$export", headers={"Prefer": "respond-async"})
        assert kick_off.status_code == 202, kick_off.text
        status_url = kick_off.headers["content-location"]
        manifest = client.get(status_url)
        assert manifest.status_code == 200, manifest.text
        outputs = manifest.json()["output"]
        assert {"Patient", "Condition"} <= {o["type"] for o in outputs}
        patient_file = next(o["url"] for o in outputs if o["type"] == "Patient")
        lines = client.get(patient_file).text.splitlines()
        assert "SB-2" in {json.loads(line)["identifier"][0]["value"] for line in lines}
        nurse = signed_in(Role.NURSE)
        assert nurse.get(status_url).status_code == 404  # a staff member does not see the client's job
    with UnitOfWork(session_factory) as uow:
        actions = {e.action for e in uow.audit.entries(actor="client:bulk-loader")}
    assert {"smart_token_issued", "export_requested", "export_downloaded", "read"} <= actions


def test_a_write_scope_alone_cannot_export(
    client: TestClient, session_factory: sessionmaker[Session], backend: BackendClient
) -> None:
    writer = BackendClient(client_id="writer", ec=backend.ec, rsa=backend.rsa)
    with UnitOfWork(session_factory) as uow:
        register_client(
            uow, client_id="writer", name="", jwks=writer.jwks, scope="system/Patient.write", role=Role.NURSE, actor="t"
        )
        uow.commit()
    client.headers["Authorization"] = f"Bearer {_token(client, writer, 'system/Patient.cud')}"
    response = client.get("/fhir/$export", headers={"Prefer": "respond-async"})
    assert response.status_code == 403
    assert "system/Patient.cud" in response.json()["issue"][0]["diagnostics"]
