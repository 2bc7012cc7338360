"""A real server on an SQLite file answers 8 concurrent clients without one error (issue 14, item 1).

Eight clients, each with its own keep-alive connection, run a mix of reads and writes for a bounded time:
the worklist, a chart, the insurance form (a write), sign-ins (password step, and the full sign-in with a
TOTP code while the client has unused accounts) and FHIR ``$export`` kick-offs. Every response must be the
one the request calls for (no 5xx, no 4xx, no connection reset); afterwards every export job must report
complete, none left "running". Decision 0020 records the figures before and after the change.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.e2e.serving import serve, staffed_database
from vertebro.cli.demo import DEMO_CASES
from vertebro.clinical import assess, assessment_json
from vertebro.intake.case_file import read_case
from vertebro.pathway.machine import Role
from vertebro.store import service, staff_service
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e

CLIENTS = 8
SECONDS = 10.0
PASSWORD = "correct horse battery"
SIGN_INS_PER_CLIENT = 3  # full sign-ins (TOTP codes are single-use per account and 30-second step)
EXPORT_SETTLE_S = 120.0
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Tally:
    """What the clients saw: expected answers, and each unexpected one by kind."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    jobs: Counter[str] = field(default_factory=Counter)

    def count(self, operation: str, outcome: str | None) -> None:
        with self.lock:
            if outcome is None:
                self.ok[operation] += 1
            else:
                self.errors[f"{operation}: {outcome}"] += 1

    def finish(self, outcome: str) -> None:
        with self.lock:
            self.jobs[outcome] += 1


@dataclass
class World:
    """The database's fixed parts the clients use."""

    staff: list[str]
    secrets: dict[str, str]
    patients: list[int]
    cases: list[int]


def _fill(world: World) -> Callable[[UnitOfWork], None]:
    def fill(uow: UnitOfWork) -> None:
        for path in sorted(DEMO_CASES.glob("*.yaml")):
            case = read_case(path)
            assessment = assess(case)
            recorded = service.record_assessment(
                uow, case, assessment, assessment_json(assessment), actor="e2e", source="e2e"
            )
            world.patients.append(recorded.patient_id)
            world.cases.append(recorded.case_id)
        for client in range(CLIENTS):
            names = [f"load.c{client}"] + [f"load.c{client}.s{n}" for n in range(SIGN_INS_PER_CLIENT)]
            for name in names:
                created = staff_service.create_user(
                    uow, username=name, display_name=name, role=Role.COORDINATOR, password=PASSWORD, actor="e2e"
                )
                world.secrets[name] = created.totp_secret
            world.staff.append(names[0])

    return fill


def _sign_in(client: httpx.Client, username: str, secret: str | None) -> str | None:
    """Sign in (the password step; the code step too when a secret is given); return what went wrong."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 303:
        return f"password step {response.status_code}"
    if secret is None:
        return None
    response = client.post("/login/totp", data={"code": pyotp.TOTP(secret).now()})
    return None if response.status_code == 303 else f"code step {response.status_code}"


def _csrf(text: str) -> str | None:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    return match.group(1) if match else None


def _run_client(base: str, index: int, world: World, tally: Tally, stop: float) -> None:
    """One client's loop: a fixed mix of reads and writes until ``stop`` (monotonic seconds)."""
    username = world.staff[index]
    spare = [f"{username}.s{n}" for n in range(SIGN_INS_PER_CLIENT)]
    token: str | None = None  # the session's CSRF token, once signed in
    jobs: list[str] = []
    with httpx.Client(base_url=base, follow_redirects=False, timeout=REQUEST_TIMEOUT_S) as client:
        step = index
        while time.monotonic() < stop:
            step += 1
            kind = ("worklist", "chart", "form", "chart", "worklist", "sign-in", "chart", "export")[step % 8]
            if token is None:
                kind = "first sign-in"
            patient = world.patients[step % len(world.patients)]
            case = world.cases[step % len(world.cases)]
            try:
                if kind == "first sign-in":
                    problem = _sign_in(client, username, world.secrets[username])
                    tally.count(kind, problem)
                    if problem is None:
                        response = client.get("/")
                        tally.count("worklist", None if response.status_code == 200 else str(response.status_code))
                        token = _csrf(response.text)
                elif kind == "worklist":
                    status = client.get("/").status_code
                    tally.count(kind, None if status == 200 else str(status))
                elif kind == "chart":
                    status = client.get(f"/patients/{patient}").status_code
                    tally.count(kind, None if status == 200 else str(status))
                elif kind == "form":
                    form = {"csrf_token": token, "payer": f"Payer {step}", "status": "pending"}
                    status = client.post(f"/cases/{case}/insurance", data=form).status_code
                    tally.count(kind, None if status == 303 else str(status))
                elif kind == "sign-in":
                    # A full sign-in while this client has unused accounts, then the password step only.
                    name, secret = (spare[-1], world.secrets[spare.pop()]) if spare else (username, None)
                    with httpx.Client(base_url=base, follow_redirects=False, timeout=REQUEST_TIMEOUT_S) as other:
                        tally.count(kind, _sign_in(other, name, secret))
                else:
                    response = client.get("/fhir/$export", headers={"Prefer": "respond-async"})
                    tally.count(kind, None if response.status_code == 202 else str(response.status_code))
                    if response.status_code == 202:
                        jobs.append(response.headers["content-location"])
            except httpx.TransportError as error:
                tally.count(kind, type(error).__name__)
        _settle_exports(client, jobs, tally)


def _settle_exports(client: httpx.Client, jobs: list[str], tally: Tally) -> None:
    """Wait for this client's export jobs to finish; count each job's final answer (complete / failed / running)."""
    deadline = time.monotonic() + EXPORT_SETTLE_S
    pending = list(jobs)
    while pending and time.monotonic() < deadline:
        still = []
        for url in pending:
            try:
                status = client.get(url).status_code
            except httpx.TransportError as error:
                tally.count("export status", type(error).__name__)
                status = 202
            if status == 202:
                still.append(url)
            else:
                tally.finish("complete" if status == 200 else f"status {status}")
        pending = still
        if pending:
            time.sleep(1)
    for _ in pending:
        tally.finish("still running")


def test_eight_concurrent_clients_get_no_error_on_sqlite(tmp_path: Path) -> None:
    world = World(staff=[], secrets={}, patients=[], cases=[])
    url, _ = staffed_database(tmp_path, {}, PASSWORD, _fill(world))
    tally = Tally()
    with serve(url, VERTEBRO_EXPORT_DIR=str(tmp_path / "exports")) as base:
        stop = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=_run_client, args=(base, i, world, tally, stop), daemon=True)
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + EXPORT_SETTLE_S + 60)
    errors = sum(tally.errors.values())
    summary = (
        f"{errors} errors in {errors + sum(tally.ok.values())} requests: {dict(tally.errors)}; fine: {dict(tally.ok)}"
    )
    assert not tally.errors, summary
    assert all(tally.ok[kind] for kind in ("sign-in", "form", "export", "worklist", "chart")), summary
    assert tally.jobs == Counter({"complete": tally.ok["export"]}), f"export jobs {dict(tally.jobs)}; {summary}"
