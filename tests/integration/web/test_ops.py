"""What operators expect: /healthz, /readyz (and its not-ready answers), /metrics and who may read it,
the request id echoed and written in the audit row."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork
from vertebro.web.app import create_app

TOKEN = "a-long-random-metrics-token"


@pytest.fixture
def unreachable() -> Iterator[TestClient]:
    """A server whose PostgreSQL database does not answer (nothing listens on port 1)."""
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", secure_cookies=False, jobs="in-process"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_healthz_answers_without_the_database(unreachable: TestClient) -> None:
    response = unreachable.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "alive"})


def test_readyz_is_not_ready_when_the_database_does_not_answer(unreachable: TestClient) -> None:
    response = unreachable.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False


def test_readyz_is_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["migrations"]["current"] == checks["migrations"]["head"] == migrate.head_revision()


@pytest.mark.parametrize("revision", [None, "7a0d1e2f0340"], ids=["empty", "one-behind"])
def test_readyz_is_not_ready_until_the_migrations_are_at_head(empty_db_url: str, revision: str | None) -> None:
    if revision is not None:
        migrate.upgrade(empty_db_url, revision)
    settings = Settings(database_url=empty_db_url, secure_cookies=False, jobs="in-process")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert (migrations["ok"], migrations["current"]) == (False, revision)


def test_ops_routes_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz", "/metrics"}.isdisjoint(paths)


def test_metrics_refuse_anonymous_remote_clients_and_non_admins(
    client: TestClient, signed_in: Callable[[Role], TestClient]
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer guessed"}).status_code == 401
    assert signed_in(Role.NURSE).get("/metrics").status_code == 403
    assert signed_in(Role.SERVICE_LEAD).get("/metrics").status_code == 403


def test_metrics_for_the_admin_show_latency_by_route_jobs_and_audit_failures(
    signed_in: Callable[[Role], TestClient],
) -> None:
    admin = signed_in(Role.ADMIN)
    admin.get("/healthz")
    response = admin.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert re.search(
        r'vertebro_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="/healthz"\} [1-9]', body
    )
    assert 'vertebro_http_requests_total{method="POST",route="/login",status="303"}' in body
    assert "vertebro_audit_write_failures_total" in body
    assert 'vertebro_fhir_export_jobs{status="queued"}' in body
    assert "Patient " not in body  # counts and latencies only


def test_metrics_for_a_scraper_with_the_token(app_factory: Callable[[], TestClient]) -> None:
    with app_factory() as scraper:
        scraper.app.state.settings = scraper.app.state.settings.model_copy(update={"metrics_token": TOKEN})  # type: ignore[attr-defined]
        assert scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401


def test_metrics_for_this_machine_but_not_through_a_proxy(db_url: str, session_factory: sessionmaker[Session]) -> None:
    app = create_app(Settings(database_url=db_url, secure_cookies=False, jobs="in-process"))
    app.state.session_factory = session_factory
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 200
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401


def test_the_request_id_is_echoed_and_written_in_the_audit_row(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    nurse = signed_in(Role.NURSE)
    case_id = stored_case("RID-1")
    response = nurse.get(f"/api/cases/{case_id}", headers={"X-Request-ID": "req-42.alpha:1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-42.alpha:1"
    with UnitOfWork(session_factory) as uow:
        reads = uow.audit.entries(actor="t.nurse", action="read", limit=1, latest=True)
    assert reads[0].request_id == "req-42.alpha:1"


@pytest.mark.parametrize("sent", ["two words", "x" * 65, "<script>", ""])
def test_an_insane_request_id_is_replaced_by_a_new_one(client: TestClient, sent: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
