"""An administrator registers SMART apps and system clients on the admin page (decision 0044), over HTTP on SQLite
and PostgreSQL: what is registered there works (a nurse allows the app and it reads /fhir; the system client gets
a token with its signed assertion); every problem of a form is named at once beside its field, with what was typed
kept, and nothing is stored; the registration is audited with the admin as actor."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of
from tests.integration.web.test_smart_apps import REDIRECT, TOKEN_URL
from tests.integration.web.test_smart_revocation import FHIR_JSON, _app_token
from tests.unit.fhir.smart_clients import BackendClient
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartClient


def _post(admin: TestClient, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
    """Fill the page's form as a browser does (its own CSRF token); return the status, location and page."""
    form = admin.get(path)
    assert form.status_code == 200, form.text
    sent = admin.post(path, data={"csrf_token": csrf_of(form.text), **fields})
    return sent.status_code, sent.headers.get("location", ""), sent.text


def _field_errors(page: str) -> dict[str, str]:
    return {name: unescape(text) for name, text in re.findall(r'<p class="error" id="(\w+)-error">([^<]*)</p>', page)}


def _clients(session_factory: sessionmaker[Session]) -> list[str]:
    with UnitOfWork(session_factory) as uow:
        return list(uow.session.scalars(select(SmartClient.client_id).order_by(SmartClient.id)))


def test_an_app_registered_on_the_page_is_allowed_by_a_nurse_and_reads_fhir(
    signed_in: Callable[[Role], TestClient],
    client: TestClient,
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("REV-1")
    admin = signed_in(Role.ADMIN)
    listed = admin.get("/admin/smart").text
    assert 'href="/admin/smart/new-app"' in listed
    assert 'href="/admin/smart/new-client"' in listed
    status, location, page = _post(
        admin,
        "/admin/smart/new-app",
        {"client_id": "chart-viewer", "name": "Chart viewer", "redirect_uris": f"{REDIRECT}\n", "scope": "user/*.read"},
    )
    assert status == 303, page
    after = admin.get(location).text
    assert "Registered: it is listed below" in after
    row = re.search(r"<tr>\s*<td><code>chart-viewer</code></td>.*?</tr>", after, re.S)
    assert row is not None
    assert "public app" in row.group(0)
    assert "http://localhost:9100" in row.group(0)  # its web origin, from its redirect URI

    token = _app_token(signed_in, client)  # a nurse allows it; the code is exchanged for a token
    read = client.get(
        "/fhir/Patient", params={"identifier": "REV-1"}, headers={**FHIR_JSON, "Authorization": f"Bearer {token}"}
    )
    assert read.status_code == 200, read.text
    assert read.json()["entry"][0]["resource"]["identifier"][0]["value"] == "REV-1"
    with UnitOfWork(session_factory) as uow:
        (entry,) = uow.audit.entries(action="smart_app_registered")
    assert (entry.actor, entry.detail["client_id"], entry.detail["confidential"]) == ("t.admin", "chart-viewer", False)


def test_a_system_client_registered_on_the_page_gets_a_token(
    signed_in: Callable[[Role], TestClient], client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    backend = BackendClient(client_id="registry-loader")
    fields = {
        "client_id": "registry-loader",
        "name": "Registry loader",
        "jwks": json.dumps(backend.jwks, indent=2),
        "scope": "system/*.read",
        "role": "service_lead",
    }
    status, _, page = _post(signed_in(Role.ADMIN), "/admin/smart/new-client", fields)
    assert status == 303, page
    issued = client.post("/auth/token", data=backend.token_form(TOKEN_URL))
    assert issued.status_code == 200, issued.text
    assert issued.json()["scope"] == "system/*.read"
    with UnitOfWork(session_factory) as uow:
        (entry,) = uow.audit.entries(action="smart_client_registered")
        registered = uow.session.scalars(select(SmartClient).where(SmartClient.client_id == "registry-loader")).one()
    assert (entry.actor, registered.role, registered.created_by) == ("t.admin", "service_lead", "t.admin")


def test_every_problem_of_an_app_is_named_at_once_and_nothing_is_registered(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    fields = {
        "client_id": "app x",
        "name": "Viewer",
        "redirect_uris": "http://app.example/cb",
        "scope": "patient/*.read",
        "jwks": "{not json",
        "origins": "https://viewer.example/path",
    }
    status, _, page = _post(signed_in(Role.ADMIN), "/admin/smart/new-app", fields)
    assert status == 422
    errors = _field_errors(page)
    assert set(errors) == {"client_id", "redirect_uris", "scope", "jwks", "origins"}, errors
    assert "letters, digits" in errors["client_id"]
    assert "must be an https URL (http only for localhost)" in errors["redirect_uris"]
    assert "user/ scopes only" in errors["scope"]
    assert errors["jwks"].startswith("this is not JSON")
    assert "is not a web origin" in errors["origins"]
    assert "Nothing was registered: 5 problems to fix" in page
    for name in errors:
        assert f'href="#{name}"' in page  # the summary links to each field
    assert 'value="app x"' in page  # what was typed is kept
    assert "{not json</textarea>" in page
    assert _clients(session_factory) == []


def test_every_problem_of_a_system_client_is_named_at_once_and_a_taken_id_is_refused(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    admin = signed_in(Role.ADMIN)
    backend = BackendClient(client_id="loader")
    good = {"client_id": "loader", "jwks": json.dumps(backend.jwks), "scope": "system/*.read", "role": "nurse"}
    assert _post(admin, "/admin/smart/new-client", good)[0] == 303
    private = {"keys": [backend.ec.as_dict(private=True)]}
    bad = {"client_id": "loader", "jwks": json.dumps(private), "scope": "user/*.read", "role": "admin"}
    status, _, page = _post(admin, "/admin/smart/new-client", bad)
    assert status == 422
    errors = _field_errors(page)
    assert errors == {
        "client_id": "client 'loader' is already registered",
        "role": "choose the role its requests act in",
        "jwks": "keys[0] holds a private key: register the public key only",
        "scope": "a system client gets system/ scopes only, not user/*.read",
    }
    empty = {"client_id": "other", "jwks": "", "scope": "system/*.read", "role": "nurse"}
    status, _, page = _post(admin, "/admin/smart/new-client", empty)
    assert status == 422
    assert _field_errors(page) == {"jwks": 'paste the client\'s public JWKS: {"keys": [...]}'}
    assert _clients(session_factory) == ["loader"]


def test_the_problem_summary_names_each_field_in_the_forms_order(signed_in: Callable[[Role], TestClient]) -> None:
    """The summary at the top is a list of links read on their own (a screen reader's list of links): each says
    which field it is about, in the order of the form, as the portal's forms do."""
    admin = signed_in(Role.ADMIN)
    fields = {"client_id": "app x", "redirect_uris": "http://app.example/cb", "scope": "x", "jwks": "{", "origins": "y"}
    page = _post(admin, "/admin/smart/new-app", fields)[2]
    summary = re.findall(r'<li><a href="#(\w+)">([^<]*)</a></li>', page)
    assert [name for name, _ in summary] == ["client_id", "redirect_uris", "scope", "jwks", "origins"]
    assert [unescape(text).split(": ", 1)[0] for _, text in summary] == [
        "Client id",
        "Redirect URIs",
        "Scopes it may ask for",
        "Public JWKS",
        "Web origins",
    ]
    page = _post(admin, "/admin/smart/new-client", {"client_id": "", "scope": "system/*.read", "jwks": ""})[2]
    summary = re.findall(r'<li><a href="#(\w+)">([^<]*)</a></li>', page)
    assert [unescape(text).split(": ", 1)[0] for _, text in summary] == ["Client id", "Acts as", "Public JWKS"]
