"""Bulk Data $export: asynchronous kick-off, status, NDJSON files, cancel; system, Patient and Group level."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.validation import problems
from vertebro.config import Settings
from vertebro.fhir.export_jobs import run_job
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FhirExportJob

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def exporter(signed_in: Callable[[Role], TestClient], db_url: str, tmp_path: Path) -> TestClient:
    """A signed-in nurse on an app that writes export files into a temporary folder."""
    client = signed_in(Role.NURSE)
    client.app.state.settings = Settings(database_url=db_url, secure_cookies=False, export_dir=tmp_path)  # type: ignore[attr-defined]
    return client


def _run(client: TestClient, url: str) -> tuple[str, dict[str, Any]]:
    kick_off = client.get(url, headers=ASYNC)
    assert kick_off.status_code == 202, kick_off.text
    status_url = kick_off.headers["content-location"]
    status = client.get(status_url)  # the background task ran when the kick-off returned (TestClient)
    assert status.status_code == 200, status.text
    return status_url, status.json()


def _lines(client: TestClient, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        response = client.get(output["url"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        files[output["type"]] = [json.loads(line) for line in response.text.splitlines()]
        assert len(files[output["type"]]) == output["count"]
    return files


def test_system_export_writes_valid_ndjson_and_audits_it(
    exporter: TestClient, stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    stored_case("EX-1")
    stored_case("EX-2")
    _status_url, manifest = _run(exporter, "/fhir/$export")
    assert manifest["requiresAccessToken"] is True
    files = _lines(exporter, manifest)
    assert {p["identifier"][0]["value"] for p in files["Patient"]} >= {"EX-1", "EX-2"}
    for resources in files.values():
        for resource in resources[:20]:
            assert problems(resource) == [], resource["id"]
    with UnitOfWork(session_factory) as uow:
        actions = {e.action for e in uow.audit.entries(actor="t.nurse")}
    assert {"export_requested", "export_downloaded", "read"} <= actions


def test_type_since_and_group_filters(exporter: TestClient, stored_case: Callable[..., int]) -> None:
    stored_case("EX-3")
    _, manifest = _run(exporter, "/fhir/Patient/$export?_type=Patient,Condition")
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Condition"}
    _, later = _run(exporter, "/fhir/$export?_since=2999-01-01T00:00:00Z")
    assert later["output"] == []
    _, group = _run(exporter, "/fhir/Group/state-requested/$export?_type=Patient")
    patients = _lines(exporter, group)["Patient"]
    assert "EX-3" in {p["identifier"][0]["value"] for p in patients}
    _, empty = _run(exporter, "/fhir/Group/state-closed/$export")
    assert empty["output"] == []


def test_kick_off_errors_are_operation_outcomes(exporter: TestClient) -> None:
    cases = [
        ("/fhir/$export", {}, 400, "$export is asynchronous: send the header Prefer: respond-async"),
        ("/fhir/$export?_type=Encounter", ASYNC, 400, "_type names Encounter, which vertebro does not export"),
        ("/fhir/$export?_since=yesterday", ASYNC, 400, "_since='yesterday' is not an instant"),
        ("/fhir/$export?_outputFormat=text/csv", ASYNC, 400, "_outputFormat='text/csv' is not supported"),
        ("/fhir/Group/ward-3/$export", ASYNC, 404, "Group/ward-3 does not exist (groups: state-requested"),
        ("/fhir/$export-status/nope", {}, 404, "there is no export job 'nope' of yours"),
    ]
    for url, headers, status, message in cases:
        response = exporter.get(url, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert response.json()["issue"][0]["diagnostics"].startswith(message), response.json()


def test_only_the_requester_sees_a_job_and_delete_removes_it(
    exporter: TestClient, signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], tmp_path: Path
) -> None:
    stored_case("EX-4")
    status_url, manifest = _run(exporter, "/fhir/$export?_type=Patient")
    job_id = status_url.rsplit("/", 1)[1]
    assert (tmp_path / job_id / "Patient.ndjson").is_file()
    other = signed_in(Role.RADIOLOGIST)
    assert other.get(status_url).status_code == 404
    assert other.get(manifest["output"][0]["url"]).status_code == 404
    deleted = exporter.delete(status_url)
    assert deleted.status_code == 202
    assert exporter.get(status_url).status_code == 404
    assert not (tmp_path / job_id).exists()


def test_a_job_that_stopped_moving_is_reported_failed(
    exporter: TestClient, session_factory: sessionmaker[Session]
) -> None:
    status_url = exporter.get("/fhir/$export?_type=Patient", headers=ASYNC).headers["content-location"]
    with UnitOfWork(session_factory) as uow:
        job = uow.session.get(FhirExportJob, status_url.rsplit("/", 1)[1])
        assert job is not None
        job.status, job.updated_at = "running", dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        uow.commit()
    response = exporter.get(status_url)
    assert response.status_code == 500
    assert response.json()["issue"][0]["diagnostics"] == (
        "the export failed: interrupted: the server stopped while exporting; request it again"
    )


def test_since_picks_up_conditions_written_later(exporter: TestClient, stored_case: Callable[..., int]) -> None:
    stored_case("EX-5")
    pid = exporter.get("/fhir/Patient", params={"identifier": "EX-5"}).json()["entry"][0]["resource"]["id"]
    since = dt.datetime.now(dt.UTC).isoformat()
    condition = {
        "resourceType": "Condition",
        "code": {"text": "Osteoporosis"},
        "subject": {"reference": f"Patient/{pid}"},
    }
    written = exporter.post("/fhir/Condition", json=condition).json()
    _, manifest = _run(exporter, f"/fhir/$export?_type=Condition&_since={since.replace('+', '%2B')}")
    ids = {c["id"] for c in _lines(exporter, manifest)["Condition"]}
    assert written["id"] in ids


def test_a_running_job_reports_its_progress_and_a_cancelled_one_never_runs(
    exporter: TestClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    status_url = exporter.get("/fhir/$export?_type=Patient", headers=ASYNC).headers["content-location"]
    job_id = status_url.rsplit("/", 1)[1]
    with UnitOfWork(session_factory) as uow:
        job = uow.session.get(FhirExportJob, job_id)
        assert job is not None
        job.status, job.done, job.total, job.updated_at = "running", 500, 1200, dt.datetime.now(dt.UTC)
        uow.commit()
    running = exporter.get(status_url)
    assert running.status_code == 202
    assert running.headers["x-progress"] == "running: 500 of 1200 patients"
    assert running.headers["retry-after"] == "2"

    with UnitOfWork(session_factory) as uow:  # a queued job deleted (cancelled) before the worker starts it
        job = FhirExportJob(
            id="f" * 32,
            requested_by="t.nurse",
            request_url="/fhir/$export",
            level="system",
            types=["Patient"],
            status="queued",
            output={},
        )
        uow.session.add(job)
        uow.commit()
        uow.session.delete(job)
        uow.commit()
    run_job(session_factory, "f" * 32, tmp_path)
    assert not (tmp_path / ("f" * 32)).exists()
