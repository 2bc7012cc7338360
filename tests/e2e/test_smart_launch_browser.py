"""SMART in Chromium. The EHR launch: a clinician signed in to vertebro clicks "Open in vertebro" on a patient's
page in the EHR (another site) and lands on that patient's chart in vertebro, through the EHR's authorization with
PKCE. An app a clinician allows: the consent page (axe-core, 390 px, CSP) and the way back to the app's site.

The EHR is the fake of ``tests/e2e/ehr_double.py``, reached as ``localhost`` while vertebro is ``127.0.0.1``: two
sites, so the browser withholds vertebro's SameSite=Strict session cookie on the launch and the callback, as it
would from a real EHR; the chart opens only because the last step is a navigation from vertebro's own page.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect
from sqlalchemy import update

from tests.e2e.ehr_double import MRN, serve_ehr
from tests.e2e.serving import chromium, serve, staffed_database
from tests.e2e.test_cli import run
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
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


def _sign_in(page: Page, base: str, username: str, secret: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(dt.datetime.now().timestamp()))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=15000)


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
            _sign_in(page, base, "n.smart", secrets[Role.NURSE])

            page.goto(f"{ehr.base}/ehr/patients/ehr-2?vertebro={quote(base)}")
            page.get_by_role("link", name="Open in vertebro").click()
            page.wait_for_url(f"{base}/patients/*", timeout=20000)
            expect(page.get_by_role("heading", level=1)).to_contain_text("Grace Launched")
            expect(page.get_by_text("MRN-7002").first).to_be_visible()
            assert ehr.authorize_requests[-1]["code_challenge_method"] == "S256"
            assert [p for p in problems if "Content Security Policy" in p] == []


APP_REDIRECT = "http://localhost:9100/callback"


def test_a_clinician_allows_an_app_and_the_browser_returns_to_it_with_a_code(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    folder = tmp_path_factory.mktemp("smart-app")
    url, secrets_ = staffed_database(
        folder, {Role.COORDINATOR: "c.smart"}, PASSWORD, lambda uow: _patient(uow, "MRN-8001", "Ida App")
    )
    registered = run(
        "fhir", "register-app", "chart-viewer", "--redirect-uri", APP_REDIRECT, "--scope", "user/*.read",
        "--name", "Chart viewer", env={"VERTEBRO_DATABASE_URL": url},
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.splitlines() == [
        "registered app chart-viewer (public): user/*.read",
        "web origins: http://localhost:9100",
    ]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with serve(url, VERTEBRO_SECURE_COOKIES="false") as base:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": "chart-viewer",
                "redirect_uri": APP_REDIRECT,
                "scope": "openid user/Patient.rs",
                "state": "s-42",
                "aud": f"{base}/fhir",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        arrived: list[str] = []

        def app(route: Route) -> None:  # the app's own page: it only has to receive the code
            arrived.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>App</title><p>app</p>")

        page.route("http://localhost:9100/**", app)
        _sign_in(page, base, "c.smart", secrets_[Role.COORDINATOR])
        page.goto(f"{base}/auth/authorize?{query}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Allow Chart viewer to use vertebro as you?")
        violations = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}).response["violations"]
        assert [v["id"] for v in violations] == []
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        page.get_by_role("button", name="Allow", exact=True).click()
        page.wait_for_url(f"{APP_REDIRECT}?*", timeout=20000)
        back = parse_qs(urlsplit(arrived[-1]).query)
        assert back["state"] == ["s-42"]
        token = httpx.post(
            f"{base}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": back["code"][0],
                "redirect_uri": APP_REDIRECT,
                "client_id": "chart-viewer",
                "code_verifier": verifier,
            },
        )
        assert token.status_code == 200, token.text
        assert token.json()["scope"] == "user/Patient.rs"
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        patients = httpx.get(f"{base}/fhir/Patient", headers=bearer).json()
        assert [e["resource"]["identifier"][0]["value"] for e in patients["entry"]] == ["MRN-8001"]
        assert [p for p in problems if "Content Security Policy" in p] == []
