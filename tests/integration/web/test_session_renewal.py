"""A new session token after the second factor and after a privilege change (issue 14, item 3)."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.conftest import PASSWORD, Account
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.web.deps import PENDING_COOKIE, SESSION_COOKIE


def test_the_signed_in_session_has_a_new_token_and_the_password_step_token_is_spent(
    app_factory: Callable[[], TestClient], accounts: dict[Role, Account]
) -> None:
    account = accounts[Role.NURSE]
    with app_factory() as client:
        assert client.post("/login", data={"username": account.username, "password": PASSWORD}).status_code == 303
        pending = client.cookies[PENDING_COOKIE]
        done = client.post("/login/totp", data={"code": pyotp.TOTP(account.secret).now()})
        assert done.status_code == 303
        session = client.cookies[SESSION_COOKIE]
        assert session != pending
        assert client.get("/").status_code == 200
    with app_factory() as attacker:  # someone who saw the token before the second factor
        attacker.cookies.set(SESSION_COOKIE, pending)
        assert attacker.get("/").headers["location"] == "/login"
        attacker.cookies.set(PENDING_COOKIE, pending)
        again = attacker.post("/login/totp", data={"code": pyotp.TOTP(account.secret).now()})
        assert again.status_code == 401


def test_a_role_change_ends_the_accounts_sessions(
    signed_in: Callable[[Role], TestClient], accounts: dict[Role, Account], session_factory: sessionmaker[Session]
) -> None:
    nurse, admin = signed_in(Role.NURSE), signed_in(Role.ADMIN)
    assert nurse.get("/").status_code == 200
    username = accounts[Role.NURSE].username
    changed = admin.put(f"/api/admin/users/{username}/role", json={"role": "coordinator"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"username": username, "role": "coordinator"}
    assert nurse.get("/").headers["location"] == "/login"  # signed out: the new role needs a new sign-in
    with UnitOfWork(session_factory) as uow:
        (entry,) = uow.audit.entries(action="role_changed")
    assert (entry.actor, entry.detail) == (
        accounts[Role.ADMIN].username,
        {"from": "nurse", "to": "coordinator", "sessions": "ended"},
    )


def test_an_admin_cannot_change_their_own_role_or_an_unknown_account(signed_in: Callable[[Role], TestClient]) -> None:
    admin = signed_in(Role.ADMIN)
    assert admin.put("/api/admin/users/t.admin/role", json={"role": "nurse"}).status_code == 403
    assert admin.put("/api/admin/users/nobody/role", json={"role": "nurse"}).status_code == 404
    assert admin.put("/api/admin/users/t.nurse/role", json={"role": "surgeon"}).status_code == 422
    assert admin.get("/admin/audit").status_code == 200  # still signed in
