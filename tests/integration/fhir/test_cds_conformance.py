"""CDS Hooks calls as browser-based EHRs make them: CORS preflight for configured origins, the prefetched Patient
must be the context's patient, a patient-view card never speaks of an order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.cds_requests import hook_request
from vertebro.config import Settings
from vertebro.web.app import create_app

EHR = "https://ehr.example.org"
VIEW = "/cds-services/vertebro-patient-view"


@pytest.fixture
def cors_client(db_url: str, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """A client of an app that lets one EHR origin call /cds-services from a browser."""
    app = create_app(Settings(database_url=db_url, secure_cookies=False, cds_allowed_origins=(EHR,)))
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        yield client


def test_preflight_and_responses_carry_cors_headers_for_configured_origins_only(cors_client: TestClient) -> None:
    preflight = {
        "Origin": EHR,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    for path in ("/cds-services", VIEW):
        answered = cors_client.options(path, headers=preflight)
        assert answered.status_code == 204, answered.text
        assert answered.headers["access-control-allow-origin"] == EHR
        assert "POST" in answered.headers["access-control-allow-methods"]
        assert "Authorization" in answered.headers["access-control-allow-headers"]
    stranger = cors_client.options(VIEW, headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers
    called = cors_client.get("/cds-services", headers={"Origin": EHR})
    assert called.headers["access-control-allow-origin"] == EHR


def test_a_prefetched_patient_other_than_the_context_patient_is_refused(client: TestClient) -> None:
    request: dict[str, Any] = hook_request("patient-view")
    request["context"]["patientId"] = "someone-else"
    refused = client.post(VIEW, json=request)
    assert refused.status_code == 412, refused.text
    assert refused.json()["field"] == "prefetch.patient"


def test_a_patient_view_card_speaks_of_no_order(client: TestClient) -> None:
    answered = client.post(VIEW, json=hook_request("patient-view"))
    assert answered.status_code == 200, answered.text
    for card in answered.json()["cards"]:
        assert "order" not in (card["summary"] + card.get("detail", "")).lower(), card
