"""Revoking a SMART app or system client ends every token it was given, at once, on SQLite and PostgreSQL
(decision 0039, hazard H124): the next /fhir request with such a token is 401 ``invalid_token`` with an
OperationOutcome, whether the revocation came from the admin page, the service or a race with the token's issue."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.fhir.test_smart_backend import register
from tests.integration.web.test_smart_apps import _consent, _exchange, _pkce, _query, _register
from tests.unit.fhir.smart_clients import BackendClient
from vertebro.fhir.smart import revoke_client
from vertebro.pathway.machine import Role
from vertebro.store import credentials
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FhirExportJob, SmartClient, WebSession

TOKEN_URL = "http://testserver/auth/token"
FHIR_JSON = {"Accept": "application/fhir+json"}


def _app_token(signed_in: Callable[[Role], TestClient], client: TestClient) -> str:
    """An access token of the app ``chart-viewer`` that a nurse allowed."""
    verifier, challenge = _pkce()
    back = _consent(signed_in(Role.NURSE), _query(challenge))
    issued = _exchange(client, back["code"][0], verifier)
    assert issued.status_code == 200, issued.text
    assert "refresh_token" not in issued.json()  # nothing outlives the revocation: no refresh token is issued
    token: str = issued.json()["access_token"]
    return token


def _system_token(client: TestClient, session_factory: sessionmaker[Session]) -> str:
    backend = register(session_factory, BackendClient(client_id="registry-loader"), "Registry loader")
    issued = client.post("/auth/token", data=backend.token_form(TOKEN_URL))
    assert issued.status_code == 200, issued.text
    token: str = issued.json()["access_token"]
    return token


def _read(client: TestClient, token: str) -> Any:
    return client.get(
        "/fhir/Patient", params={"identifier": "REV-1"}, headers={**FHIR_JSON, "Authorization": f"Bearer {token}"}
    )


def _refused_as_invalid_token(response: Any) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="vertebro FHIR"')
    assert 'error="invalid_token"' in challenge
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    assert "revoked" in outcome["issue"][0]["diagnostics"]


def _revoke_on_the_admin_page(admin: TestClient, client_id: str, name: str) -> None:
    listed = admin.get("/admin/smart")
    assert listed.status_code == 200, listed.text
    row = re.search(rf"<tr>\s*<td><code>{client_id}</code></td>.*?</tr>", listed.text, re.S)
    assert row is not None, listed.text
    assert re.search(r"<td>1</td>", row.group(0))  # one live token
    asked = admin.get(f"/admin/smart/{client_id}/revoke")
    assert asked.status_code == 200
    assert f"Revoke {name}" in unescape(asked.text)
    assert "This cannot be undone" in asked.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', asked.text).group(1)  # type: ignore[union-attr]
    done = admin.post(f"/admin/smart/{client_id}/revoke", data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 303, done.text
    after = admin.get(done.headers["location"])
    assert "Revoked: every token it was given has ended" in after.text
    row = re.search(rf"<tr>\s*<td><code>{client_id}</code></td>.*?</tr>", after.text, re.S)
    assert row is not None
    assert re.search(r"Revoked \d{4}-\d{2}-\d{2} \d{2}:\d{2} \w+ by t\.admin", row.group(0)), row.group(0)
    assert "/revoke" not in row.group(0)
    again = admin.get(f"/admin/smart/{client_id}/revoke")  # the confirmation now says when, and by whom
    assert re.search(r"It is already revoked: \d{4}-\d{2}-\d{2} \d{2}:\d{2} \w+ by t\.admin\.", again.text)


@pytest.mark.parametrize("kind", ["app", "system"])
def test_a_revoked_client_or_apps_token_is_refused_at_once_with_invalid_token(
    kind: str,
    signed_in: Callable[[Role], TestClient],
    client: TestClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("REV-1")
    if kind == "app":
        _register(session_factory)
        token, client_id, name = _app_token(signed_in, client), "chart-viewer", "Chart viewer"
    else:
        token, client_id, name = _system_token(client, session_factory), "registry-loader", "Registry loader"
    before = _read(client, token)
    assert before.status_code == 200, before.text
    assert before.json()["entry"][0]["resource"]["identifier"][0]["value"] == "REV-1"
    _revoke_on_the_admin_page(signed_in(Role.ADMIN), client_id, name)
    _refused_as_invalid_token(_read(client, token))
    refused_again = client.get("/fhir/Condition", params={"patient": "1"}, headers={"Authorization": f"Bearer {token}"})
    assert refused_again.status_code == 401
    with UnitOfWork(session_factory) as uow:
        revoked = uow.audit.entries(action="smart_client_revoked")
    assert [(e.actor, e.detail["client_id"], e.detail["kind"], e.detail["tokens_ended"]) for e in revoked] == [
        ("t.admin", client_id, kind, 1)
    ]


def test_revoking_cancels_a_clients_unfinished_exports_and_refuses_new_tokens(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    token = _system_token(client, session_factory)
    with UnitOfWork(session_factory) as uow:
        uow.session.add(
            FhirExportJob(
                id="j" * 32, requested_by="client:registry-loader", request_url="/fhir/$export", level="system"
            )
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        revoke_client(uow, client_id="registry-loader", actor="cli:root", source="cli")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        job = uow.session.get(FhirExportJob, "j" * 32)
        assert job is not None
        assert (job.status, job.error) == ("cancelled", "the client was revoked")
        entry = uow.audit.entries(action="smart_client_revoked")[0]
    assert entry.detail["exports_cancelled"] == 1
    assert entry.source == "cli"
    _refused_as_invalid_token(client.get("/fhir/Patient", headers={"Authorization": f"Bearer {token}"}))
    again = client.post("/auth/token", data=BackendClient(client_id="registry-loader").token_form(TOKEN_URL))
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


def test_an_app_token_issued_while_its_app_was_being_revoked_is_refused_on_its_first_use(
    signed_in: Callable[[Role], TestClient],
    client: TestClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    """Revocation ends the tokens it finds; a token committed just after (a race) is caught on every request."""
    stored_case("REV-1")
    _register(session_factory)
    token = _app_token(signed_in, client)
    with UnitOfWork(session_factory) as uow:  # the app made inactive, its session left as if issued afterwards
        uow.session.execute(update(SmartClient).where(SmartClient.client_id == "chart-viewer").values(active=False))
        uow.commit()
    _refused_as_invalid_token(_read(client, token))
    with UnitOfWork(session_factory) as uow:
        ended = uow.session.scalars(
            select(WebSession.revoked_at).where(WebSession.id == credentials.token_digest(token))
        ).one()
        refused = uow.audit.entries(action="smart_token_refused")
    assert ended is not None  # ended for good, not only refused this once
    assert [(e.actor, e.detail["error"]) for e in refused] == [("client:chart-viewer", "invalid_token")]
    assert client.get("/api/worklist", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_request_without_a_token_is_told_how_to_authenticate_without_an_error_code(client: TestClient) -> None:
    anonymous = client.get("/fhir/Patient", headers=FHIR_JSON)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="vertebro FHIR"'  # RFC 6750 3.1: no error
    unknown = client.get("/fhir/Patient", headers={"Authorization": "Bearer not-a-token"})
    assert unknown.status_code == 401
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]
    assert unknown.json()["resourceType"] == "OperationOutcome"


def test_no_refresh_token_grant_is_accepted(client: TestClient) -> None:
    refreshed = client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": "anything"})
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "unsupported_grant_type"
    assert "no refresh tokens" in refreshed.json()["error_description"]


def test_only_an_administrator_revokes_and_only_after_confirming(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _register(session_factory)
    nurse = signed_in(Role.NURSE)
    assert nurse.get("/admin/smart").status_code == 403
    assert nurse.post("/admin/smart/chart-viewer/revoke", data={"confirmed": "yes"}).status_code == 403
    admin = signed_in(Role.ADMIN)
    assert 'href="/admin/smart"' in admin.get("/admin/audit").text  # in the admin's navigation
    assert admin.get("/admin/smart").status_code == 200
    unconfirmed = admin.post("/admin/smart/chart-viewer/revoke", data={})
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == "/admin/smart/chart-viewer/revoke"
    admin.headers.pop("X-CSRF-Token")
    assert admin.post("/admin/smart/chart-viewer/revoke", data={"confirmed": "yes"}).status_code == 403  # no CSRF
    assert admin.get("/admin/smart/nobody/revoke").status_code == 404
    with UnitOfWork(session_factory) as uow:
        app = uow.session.scalars(select(SmartClient).where(SmartClient.client_id == "chart-viewer")).one()
        assert app.active
        assert [e.entity_type for e in uow.audit.entries(actor="t.admin", action="read")][-1] == "smart_clients"
