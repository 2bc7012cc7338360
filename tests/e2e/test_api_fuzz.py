"""Schemathesis against a real ``vertebro serve``: every operation in ``/openapi.json``, as a member of staff (a
bearer token), as a signed-in patient (the portal's cookie and CSRF token) and with no session at all.

Every check Schemathesis has runs (``--checks all``): no answer may be a server error, and every answer must be
what ``/openapi.json`` documents (status code, media type, headers, body schema), besides the behavioural checks
(invalid input refused, valid input accepted, 405 with ``Allow`` for an undocumented method, ...). The few
settings that tell Schemathesis how this server works are in ``schemathesis.toml`` beside this file, with the
reasons; decision 0021 explains them. The generation is bounded (a fixed seed, a few thousand requests in all)
so that the test takes one to two minutes. The reports (JSON, HAR) are kept in ``test-artifacts/schemathesis/``.

The patient's session is used on the portal's operations: on every other operation a portal cookie is no staff
session, and the anonymous run already covers how they answer one. Signing out ends the session the rest of a
run needs, so the two sign-out operations run after all others,
in a second run with the same session.

The server runs on PostgreSQL, the production database. (On SQLite, before issue 14's first item, the export jobs
that the fuzzing starts in the background hold the write lock, and some kick-offs fail with "database is locked";
that item's own test drives SQLite under concurrency.)
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.e2e.serving import serve, staffed_database
from tests.integration.conftest import _postgres_database as postgres_database
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role
from vertebro.store import credentials, workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.models import PatientSession
from vertebro.store.portal import accounts
from vertebro.store.service import record_assessment

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis"
CONFIG = Path(__file__).resolve().with_name("schemathesis.toml")
PASSWORD = "correct horse battery"
PATIENT_PASSWORD = "my spine is on the mend"
STAFF = "fuzz.radiologist"
EXAMPLES = 4  # per operation in the fuzzing and stateful phases (the coverage phase has its own, fixed, cases)
SEED = 20261204
SIGN_OUT = "(^/logout$|^/portal/logout$)"


@dataclass(frozen=True)
class Server:
    base: str
    staff_secret: str
    patient_token: str
    patient_csrf: str


def _fill(uow: UnitOfWork, patient: dict[str, str]) -> None:
    """Three assessed cases, a calendar, and a patient with an activated portal account and a session."""
    workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 21)
    for number in range(3):
        data = case_data({"patient": {"identifier": f"FZ-{number}", "name": f"Patient FZ-{number}"}})
        data.pop("procedure_date")
        case = Case.model_validate_json(json.dumps(data))
        assessment = assess(case)
        record_assessment(uow, case, assessment, assessment_json(assessment), actor="e2e", source=None)
    request = accounts.NewRequest(
        name="Ruth Example",
        birth_date=dt.date(1946, 5, 2),
        sex="female",
        email="ruth@example.org",
        phone=None,
        referring_doctor="Dr Grey, Elm Street Practice",
        where_it_hurts="lower_back",
        pain_since=dt.date.today() - dt.timedelta(weeks=5),
        levels=("L1",),
        pain_now=8,
    )
    receipt = accounts.request_appointment(uow, request, DEFAULT_POLICY, ip=None, today=dt.date.today())
    token = accounts.activate(uow, receipt.activation_token, PATIENT_PASSWORD, PATIENT_PASSWORD, ip=None)
    uow.session.flush()
    session = uow.session.get(PatientSession, credentials.token_digest(token))
    assert session is not None
    patient.update(token=token, csrf=session.csrf_token)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on a fresh PostgreSQL database with a radiologist, three cases and a portal patient."""
    patient: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("fuzz")
    with postgres_database() as database:
        url, secrets = staffed_database(
            folder,
            {Role.RADIOLOGIST: STAFF},
            PASSWORD,
            lambda uow: _fill(uow, patient),
            url=database.render_as_string(hide_password=False),
        )
        exports = str(folder / "exports")
        with serve(url, VERTEBRO_SECURE_COOKIES="false", VERTEBRO_EXPORT_DIR=exports) as base:
            yield Server(base, secrets[Role.RADIOLOGIST], patient["token"], patient["csrf"])


def _headers(server: Server, session: str) -> list[str]:
    if session == "staff":
        code = pyotp.TOTP(server.staff_secret).now()
        response = httpx.post(
            server.base + "/api/token", json={"username": STAFF, "password": PASSWORD, "code": code}, timeout=30
        )
        assert response.status_code == 200, response.text
        return ["-H", f"Authorization: Bearer {response.json()['access_token']}"]
    if session == "patient":
        return ["-H", f"Cookie: vertebro_portal={server.patient_token}", "-H", f"X-CSRF-Token: {server.patient_csrf}"]
    return []


@dataclass(frozen=True)
class Run:
    requests: int
    failures: list[str]
    output: str


def _schemathesis(server: Server, session: str, part: str, headers: list[str], *filters: str) -> Run:
    """Run the Schemathesis command line against the server; return its request count and failures."""
    reports = ARTIFACTS / session / part
    reports.mkdir(parents=True, exist_ok=True)
    for old in reports.iterdir():
        old.unlink()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        server.base + "/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--max-redirects",
        "0",
        "--generation-database",
        "none",
        "--report",
        "json,har",
        "--report-dir",
        str(reports),
        *headers,
        *filters,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    output = finished.stdout + finished.stderr
    (reports / "output.txt").write_text(output)
    report_files = sorted(reports.glob("json-*.json"))
    har_files = sorted(reports.glob("har-*.json"))
    assert report_files, output[-3000:]
    assert har_files, output[-3000:]
    report = json.loads(report_files[0].read_text())
    requests = len(json.loads(har_files[0].read_text())["log"]["entries"])
    failures = [
        f"{f['code']} {f['title']} ({f['count']}): {', '.join(f['operations'])}" for f in report.get("failures", [])
    ]
    failures += [f"error: {e}" for e in report.get("errors", [])]
    return Run(requests, failures, output)


@pytest.mark.parametrize("session", ["staff", "patient", "anonymous"])
def test_every_answer_is_documented_and_none_is_a_server_error(server: Server, session: str) -> None:
    """Thousands of generated requests (valid and invalid) give no 5xx and no answer ``/openapi.json`` does not
    document, for staff, a patient and an anonymous caller."""
    headers = _headers(server, session)
    scope = ["--include-path-regex", "^/portal"] if session == "patient" else []
    main = _schemathesis(server, session, "main", headers, *scope, "--exclude-path-regex", SIGN_OUT)
    last = _schemathesis(server, session, "sign-out", headers, "--include-path-regex", SIGN_OUT)
    summary = {"session": session, "requests": main.requests + last.requests, "failures": main.failures + last.failures}
    (ARTIFACTS / session / "summary.json").write_text(json.dumps(summary, indent=2))
    assert main.requests + last.requests > 200, "Schemathesis sent too few requests to mean anything"
    assert not summary["failures"], main.output[-6000:] + last.output[-3000:]
