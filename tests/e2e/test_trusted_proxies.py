"""X-Forwarded-For and X-Forwarded-Proto are believed only from VERTEBRO_TRUSTED_PROXIES (issue 14, item 3).

Each case runs a real ``vertebro serve`` (uvicorn) with the setting, because uvicorn itself believes the
forwarded headers from 127.0.0.1 unless told otherwise: the test must see what the served process does.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.serving import serve, staffed_database
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.staff_service import MAX_FAILURES_PER_ADDRESS

pytestmark = pytest.mark.e2e

SPOOFED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def _failed_sign_in_sources(url: str) -> list[str | None]:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        sources = [e.source for e in uow.audit.entries(action="login_failed")]
    engine.dispose()
    return sources


@pytest.fixture
def database(tmp_path: Path) -> str:
    url, _ = staffed_database(tmp_path, {}, "correct horse battery", lambda _uow: None)
    return url


def test_the_per_address_sign_in_limit_holds_whatever_x_forwarded_for_says(database: str) -> None:
    with serve(database) as base, httpx.Client(base_url=base) as client:  # no VERTEBRO_TRUSTED_PROXIES
        statuses = [
            client.post(
                "/login",
                data={"username": f"nobody{n}", "password": "wrong"},
                headers={**SPOOFED, "X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(MAX_FAILURES_PER_ADDRESS + 1)
        ]
        page = client.get("/login", headers=SPOOFED)
    assert statuses == [401] * MAX_FAILURES_PER_ADDRESS + [429]
    assert set(_failed_sign_in_sources(database)) == {"127.0.0.1"}
    assert "strict-transport-security" not in page.headers  # plain HTTP, whatever the header claims


def test_forwarded_headers_from_a_client_that_is_not_a_listed_proxy_are_ignored(database: str) -> None:
    with (
        serve(database, VERTEBRO_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1") as base,
        httpx.Client(base_url=base) as client,
    ):
        failed = client.post("/login", data={"username": "nobody", "password": "wrong"}, headers=SPOOFED)
        page = client.get("/login", headers=SPOOFED)
    assert failed.status_code == 401
    assert _failed_sign_in_sources(database) == ["127.0.0.1"]
    assert "strict-transport-security" not in page.headers


def test_a_trusted_proxy_gives_the_client_address_and_the_scheme(database: str) -> None:
    with serve(database, VERTEBRO_TRUSTED_PROXIES="127.0.0.1") as base, httpx.Client(base_url=base) as client:
        failed = client.post("/login", data={"username": "nobody", "password": "wrong"}, headers=SPOOFED)
        page = client.get("/login", headers=SPOOFED)
        plain = client.get("/login", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"})
    assert failed.status_code == 401
    assert _failed_sign_in_sources(database) == ["203.0.113.9"]
    assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in plain.headers
