"""Sign-in with password and TOTP, rate limits, automatic log-off, CSRF and security headers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.conftest import PASSWORD, Account, csrf, sign_in
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import WebSession


def test_pages_need_a_session(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/api/worklist").status_code == 401


def test_password_alone_is_not_enough(client: TestClient, accounts: dict[Role, Account]) -> None:
    client.post("/login", data={"username": accounts[Role.NURSE].username, "password": PASSWORD})
    assert client.get("/").status_code == 303  # still redirected to sign in: the TOTP step is missing


def test_sign_in_with_password_and_totp(client: TestClient, accounts: dict[Role, Account]) -> None:
    sign_in(client, accounts[Role.NURSE])
    page = client.get("/")
    assert page.status_code == 200
    assert "Worklist" in page.text
    cookie = next(c for c in client.cookies.jar if c.name == "vertebro_session")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_wrong_password_is_refused_and_audited(
    client: TestClient, accounts: dict[Role, Account], session_factory: sessionmaker[Session]
) -> None:
    response = client.post("/login", data={"username": accounts[Role.NURSE].username, "password": "wrong password!"})
    assert response.status_code == 401
    assert "username or password is not right" in response.text
    with UnitOfWork(session_factory) as uow:
        assert [e.action for e in uow.audit.entries(action="login_failed")] == ["login_failed"]


def test_unknown_user_gets_the_same_message(client: TestClient, accounts: dict[Role, Account]) -> None:
    response = client.post("/login", data={"username": "nobody", "password": PASSWORD})
    assert response.status_code == 401
    assert "username or password is not right" in response.text


def test_sign_in_is_rate_limited(client: TestClient, accounts: dict[Role, Account]) -> None:
    username = accounts[Role.NURSE].username
    for _ in range(5):
        assert client.post("/login", data={"username": username, "password": "wrong password!"}).status_code == 401
    blocked = client.post("/login", data={"username": username, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "wait 15 minutes" in blocked.text


def test_a_totp_code_works_once(app_factory: Callable[[], TestClient], accounts: dict[Role, Account]) -> None:
    account = accounts[Role.RADIOLOGIST]
    code = pyotp.TOTP(account.secret).now()
    with app_factory() as first, app_factory() as second:
        first.post("/login", data={"username": account.username, "password": PASSWORD})
        assert first.post("/login/totp", data={"code": code}).status_code == 303
        second.post("/login", data={"username": account.username, "password": PASSWORD})
        replay = second.post("/login/totp", data={"code": code})
        assert replay.status_code == 401
        assert "already used" in replay.text


def test_idle_sessions_are_signed_out(
    client: TestClient, accounts: dict[Role, Account], session_factory: sessionmaker[Session]
) -> None:
    sign_in(client, accounts[Role.NURSE])
    assert client.get("/").status_code == 200
    with UnitOfWork(session_factory) as uow:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
        uow.session.execute(update(WebSession).values(last_seen_at=past))
        uow.commit()
    assert client.get("/").status_code == 303
    with UnitOfWork(session_factory) as uow:
        assert uow.audit.entries(action="logout_timeout")


def test_forms_without_the_csrf_token_are_refused(client: TestClient, accounts: dict[Role, Account]) -> None:
    sign_in(client, accounts[Role.NURSE])
    response = client.post("/logout", data={})
    assert response.status_code == 403
    assert "CSRF" in response.text
    token = csrf(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_api_token_needs_password_and_code(client: TestClient, accounts: dict[Role, Account]) -> None:
    account = accounts[Role.COORDINATOR]
    bad = client.post("/api/token", json={"username": account.username, "password": PASSWORD, "code": "000000"})
    assert bad.status_code == 401
    code = pyotp.TOTP(account.secret).at(dt.datetime.now().timestamp() + 30)
    good = client.post("/api/token", json={"username": account.username, "password": PASSWORD, "code": code})
    assert good.status_code == 200, good.text
    token = good.json()["access_token"]
    assert client.get("/api/worklist", headers={"Authorization": f"Bearer {token}"}).status_code == 200
