"""Error pages (issue 15): 404, 422 and 500 are styled pages with a way back; a 500 never shows a traceback;
JSON and FHIR callers still get their own forms; the favicon is served at /favicon.ico."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SECRET = "a-secret-in-the-traceback"


def _failing(client: TestClient) -> TestClient:
    """The same app with a route that fails as a defect would, answered as a server answers (no re-raise)."""
    app = client.app
    assert isinstance(app, FastAPI)

    def boom() -> None:
        raise RuntimeError(SECRET)

    paths = ("/patients/7/boom", "/portal/boom", "/api/boom", "/fhir/boom")
    for path in paths:
        app.add_api_route(path, boom, methods=["GET"])
    added = app.router.routes[-len(paths) :]
    app.router.routes[:] = [*added, *app.router.routes[: -len(paths)]]  # before the apps' catch-all paths
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def test_a_500_is_a_styled_page_with_a_way_back_and_no_traceback(client: TestClient) -> None:
    failing = _failing(client)
    page = failing.get("/patients/7/boom", headers=BROWSER)
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" href="/static/app.css">' in page.text
    assert "Something went wrong" in page.text
    assert '<a href="/patients/7">Back to the patient&#39;s chart</a>' in page.text
    assert SECRET not in page.text
    assert "Traceback" not in page.text
    assert "RuntimeError" not in page.text
    ref = page.headers["X-Request-ID"]
    assert f"Reference for the support team: <code>{ref}</code>" in page.text
    portal = failing.get("/portal/boom", headers=BROWSER)
    assert portal.status_code == 500
    assert "Back to the start" in portal.text
    assert SECRET not in portal.text
    api = failing.get("/api/boom")
    assert api.status_code == 500
    assert api.json() == {
        "detail": f"internal error (reference {api.headers['X-Request-ID']})",
        "field": None,
        "problems": [],
    }
    fhir = failing.get("/fhir/boom")
    assert fhir.status_code == 500
    assert fhir.json()["resourceType"] == "OperationOutcome"
    assert SECRET not in fhir.text


def test_a_404_in_a_browser_is_a_styled_page_and_json_elsewhere(client: TestClient) -> None:
    page = client.get("/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text
    assert '<a href="/">Back to the worklist</a>' in page.text
    portal = client.get("/portal/no-such-page", headers=BROWSER)
    assert portal.status_code == 404
    assert "Back to the start" in portal.text
    assert client.get("/no-such-page").json() == {"detail": "Not Found", "field": None, "problems": []}


def test_a_422_on_a_chart_leads_back_to_the_chart_and_a_404_to_the_worklist(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = stored_case("ERR-1")
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        patient_id = workflow.case.patient_id
    nurse = signed_in(Role.NURSE)
    page = nurse.get(f"/patients/{patient_id}/documents/no-such-kind", headers=BROWSER)  # not a document kind
    assert page.status_code == 422
    assert f'<a href="/patients/{patient_id}">Back to the patient&#39;s chart</a>' in page.text
    assert '<a href="/">The worklist</a>' in page.text
    assert "Back button" in page.text
    missing = nurse.get("/patients/999999", headers=BROWSER)  # no such patient: the chart is no way back
    assert missing.status_code == 404
    assert '<a href="/">Back to the worklist</a>' in missing.text


def test_the_favicon_is_an_ico_at_the_root(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"


def test_a_500_names_the_reference_the_log_line_names(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """A support request quotes the reference on the page; the traceback's log line carries the same id."""
    failing = _failing(client)
    with caplog.at_level(logging.ERROR, logger="vertebro.web.errors"):
        page = failing.get("/patients/7/boom", headers={**BROWSER, "X-Request-ID": "support-ref-123"})
    assert page.status_code == 500
    assert page.headers["X-Request-ID"] == "support-ref-123"
    assert "<code>support-ref-123</code>" in page.text
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged
    assert getattr(logged[-1], "fields", {})["request_id"] == "support-ref-123"
    portal = failing.get("/portal/boom", headers={**BROWSER, "X-Request-ID": "support-ref-456"})
    assert "support-ref-456" in portal.text
    fhir = failing.get("/fhir/boom", headers={"X-Request-ID": "support-ref-789"})
    assert "support-ref-789" in fhir.json()["issue"][0]["diagnostics"]
