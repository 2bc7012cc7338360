"""Two updates racing with the same If-Match: exactly one wins, the other gets 412 (SQLite and PostgreSQL).

The updates run in two threads through the app, each on its own database connection, released together by a
barrier; the test uses a fresh migrated database (not the rolled-back test transaction) because the two
transactions must really commit against each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient

from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.store import migrate, staff_service
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import Patient
from vertebro.web.app import create_app

PASSWORD = "correct horse battery"
ROUNDS = 4


@pytest.fixture
def app_clients(empty_db_url: str) -> Iterator[tuple[list[TestClient], int]]:
    """Two clients with their own bearer tokens on an app over a fresh database, and a committed patient."""
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    factory = make_session_factory(engine)
    secrets: list[tuple[str, str]] = []
    with UnitOfWork(factory) as uow:
        for name in ("race.one", "race.two"):
            created = staff_service.create_user(
                uow, username=name, display_name=name, role=Role.NURSE, password=PASSWORD, actor="test"
            )
            secrets.append((name, created.totp_secret))
        patient_id = uow.patients.add(Patient(identifier="RACE-1", name="Race Patient", sex="female")).id
        uow.commit()
    engine.dispose()
    app = create_app(Settings(database_url=empty_db_url, secure_cookies=False))
    clients = [TestClient(app).__enter__() for _ in secrets]
    for client, (name, secret) in zip(clients, secrets, strict=True):
        response = client.post(
            "/api/token", json={"username": name, "password": PASSWORD, "code": pyotp.TOTP(secret).now()}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    try:
        yield clients, patient_id
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        app.state.engine.dispose()


def _race(clients: list[TestClient], url: str, bodies: list[dict[str, Any]], etag: str) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    responses: list[Any] = [None] * len(clients)

    def put(index: int) -> None:
        barrier.wait()
        responses[index] = clients[index].put(url, json=bodies[index], headers={"If-Match": etag})

    threads = [threading.Thread(target=put, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


def test_exactly_one_of_two_racing_updates_wins(app_clients: tuple[list[TestClient], int]) -> None:
    clients, patient_id = app_clients
    url = f"/fhir/Patient/{patient_id}"
    for round_number in range(ROUNDS):
        current = clients[0].get(url)
        etag = current.headers["etag"]
        bodies = [{**current.json(), "name": [{"text": f"Round {round_number} writer {i}"}]} for i in range(2)]
        responses = _race(clients, url, bodies, etag)
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        loser = responses[1 - winner].json()
        assert loser["issue"][0]["code"] == "conflict"
        assert "If-Match named version" in loser["issue"][0]["diagnostics"]
        stored = clients[0].get(url).json()
        assert stored["name"][0]["text"] == f"Round {round_number} writer {winner}"  # the winner's write, whole
    history = clients[0].get(f"{url}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == [str(v) for v in range(ROUNDS + 1, 0, -1)]


def test_racing_updates_of_a_stored_condition(app_clients: tuple[list[TestClient], int]) -> None:
    clients, patient_id = app_clients
    condition = {
        "resourceType": "Condition",
        "code": {"text": "Osteoporosis"},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    created = clients[0].post("/fhir/Condition", json=condition)
    assert created.status_code == 201, created.text
    resource = created.json()
    bodies = [{**resource, "note": [{"text": f"writer {i}"}]} for i in range(2)]
    responses = _race(clients, f"/fhir/Condition/{resource['id']}", bodies, created.headers["etag"])
    assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    versions = clients[1].get(f"/fhir/Condition/{resource['id']}/_history").json()["entry"]
    assert [e["resource"]["meta"]["versionId"] for e in versions] == ["2", "1"]
