"""Web fixtures: the app on the test database (SQLite and PostgreSQL), one user per role, sign-in."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.store import staff_service, workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment
from vertebro.web.app import create_app

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    secret: str


@pytest.fixture
def accounts(session_factory: sessionmaker[Session]) -> dict[Role, Account]:
    """One account per staff role (committed inside the test's rolled-back transaction)."""
    made: dict[Role, Account] = {}
    with UnitOfWork(session_factory) as uow:
        for role in Role:
            created = staff_service.create_user(
                uow,
                username=f"t.{role.value.replace('_', '-')}",
                display_name=role.value,
                role=role,
                password=PASSWORD,
                actor="test",
            )
            made[role] = Account(created.user.username, role, created.totp_secret)
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 21)
        uow.commit()
    return made


@pytest.fixture
def app_factory(db_url: str, session_factory: sessionmaker[Session]) -> Callable[[], TestClient]:
    """Return a maker of clients on an app wired to the test transaction."""

    def make() -> TestClient:
        app = create_app(Settings(database_url=db_url, secure_cookies=False, jobs="in-process"))
        app.state.session_factory = session_factory
        return TestClient(app, follow_redirects=False)

    return make


@pytest.fixture
def client(app_factory: Callable[[], TestClient]) -> Iterator[TestClient]:
    """An anonymous client."""
    with app_factory() as c:
        yield c


def sign_in(client: TestClient, account: Account, step_offset: int = 0) -> TestClient:
    """Sign a client in with password and TOTP; returns the same client holding the session cookie."""
    response = client.post("/login", data={"username": account.username, "password": PASSWORD})
    assert response.status_code == 303, response.text
    at = dt.datetime.now().timestamp() + 30 * step_offset
    code = pyotp.TOTP(account.secret).at(at)
    response = client.post("/login/totp", data={"code": code})
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient, path: str = "/") -> str:
    """Return the CSRF token rendered into a page."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


@pytest.fixture
def signed_in(app_factory: Callable[[], TestClient], accounts: dict[Role, Account]) -> Callable[[Role], TestClient]:
    """Return a client signed in with the given role (one client per role; codes are single-use)."""
    clients: dict[Role, TestClient] = {}

    def get(role: Role) -> TestClient:
        if role not in clients:
            client = sign_in(app_factory().__enter__(), accounts[role])
            client.headers["X-CSRF-Token"] = csrf(client, "/admin/audit" if role is Role.ADMIN else "/")
            clients[role] = client
        return clients[role]

    return get


@pytest.fixture
def stored_case(session_factory: sessionmaker[Session]) -> Callable[..., int]:
    """Return a maker that stores a case (assessed) and returns its case id."""

    def make(identifier: str = "W-1", **changes: object) -> int:
        data = case_data({"patient": {"identifier": identifier, "name": f"Patient {identifier}"}, **changes})
        data.pop("procedure_date")
        case = Case.model_validate_json(json.dumps(data))
        assessment = assess(case)
        with UnitOfWork(session_factory) as uow:
            recorded = record_assessment(
                uow, case, assessment, assessment_json(assessment), actor="test", source="test"
            )
            uow.commit()
        return recorded.case_id

    return make


@pytest.fixture
def portal_factory(db_url: str, session_factory: sessionmaker[Session]) -> Callable[..., TestClient]:
    """Return a maker of clients on an app in demo mode (activation links on screen, demo questionnaires)."""

    def make(*, demo: bool = True) -> TestClient:
        app = create_app(Settings(database_url=db_url, secure_cookies=False, demo_mode=demo))
        app.state.session_factory = session_factory
        return TestClient(app, follow_redirects=False)

    return make
