"""The EHR launch in Chromium: a clinician signed in to vertebro clicks "Open in vertebro" on a patient's page in
the EHR (another site) and lands on that patient's chart in vertebro, through the EHR's authorization with PKCE.

The EHR is the fake of ``tests/e2e/ehr_double.py``, reached as ``localhost`` while vertebro is ``127.0.0.1``: two
sites, so the browser withholds vertebro's SameSite=Strict session cookie on the launch and the callback, as it
would from a real EHR; the chart opens only because the last step is a navigation from vertebro's own page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from urllib.parse import quote

import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy import update

from tests.e2e.ehr_double import MRN, serve_ehr
from tests.e2e.serving import chromium, serve, staffed_database
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Patient
from vertebro.store.service import record_assessment

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _patient(uow: UnitOfWork, mrn: str, name: str) -> None:
    data = case_data({"patient": {"identifier": mrn, "name": name}})
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    a = assess(case)
    record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e")
    uow.session.execute(update(Patient).where(Patient.identifier == mrn).values(identifier_system=MRN))


def test_a_clinician_opens_the_launched_patients_chart_from_the_ehr(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    def fill(uow: UnitOfWork) -> None:
        _patient(uow, "MRN-7001", "Ada Other")
        _patient(uow, "MRN-7002", "Grace Launched")

    url, secrets = staffed_database(tmp_path_factory.mktemp("smart"), {Role.NURSE: "n.smart"}, PASSWORD, fill)
    with serve_ehr("http://placeholder", host="localhost") as ehr:
        ehr.add_patient("ehr-1", "MRN-7001", name="Ada Other")
        ehr.add_patient("ehr-2", "MRN-7002", name="Grace Launched")
        ehrs = json.dumps([{"iss": ehr.iss, "client_id": ehr.client_id, "identifier_system": MRN}])
        with serve(url, VERTEBRO_SMART_EHRS=ehrs, VERTEBRO_SECURE_COOKIES="false") as base:
            ehr.redirect_uri = f"{base}/smart/callback"
            page = browser.new_context().new_page()
            problems: list[str] = []

            def console(message: ConsoleMessage) -> None:
                if message.type in ("error", "warning"):
                    problems.append(f"{page.url}: {message.text}")

            page.on("console", console)
            page.goto(base + "/login")
            page.get_by_label("Username").fill("n.smart")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Continue").click()
            page.get_by_label("Code").fill(pyotp.TOTP(secrets[Role.NURSE]).at(dt.datetime.now().timestamp()))
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=15000)

            page.goto(f"{ehr.base}/ehr/patients/ehr-2?vertebro={quote(base)}")
            page.get_by_role("link", name="Open in vertebro").click()
            page.wait_for_url(f"{base}/patients/*", timeout=20000)
            expect(page.get_by_role("heading", level=1)).to_contain_text("Grace Launched")
            expect(page.get_by_text("MRN-7002").first).to_be_visible()
            assert ehr.authorize_requests[-1]["code_challenge_method"] == "S256"
            assert [p for p in problems if "Content Security Policy" in p] == []
