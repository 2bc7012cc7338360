"""A browser-based SMART app on another web origin, in Chromium (decision 0039, hazards H124 and H125).

The app is a page served by a tiny ``http.server`` at ``http://localhost:<port>`` (another origin, and another site,
than vertebro at ``127.0.0.1``), registered with ``vertebro fhir register-app`` (its origin taken from its redirect
URI). A clinician allows it; the page exchanges the code at ``/auth/token`` and reads ``/fhir/metadata`` and
``/fhir/Patient`` with ``fetch``, which the browser allows because vertebro answers its origin. The same requests
from a page on an unregistered origin are blocked by the browser. Once an administrator revokes the app on the admin
page (axe-core, 390 px), its origin is answered no more and its token is refused (401, ``error="invalid_token"``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, free_port, serve, signed_in_page, staffed_database
from tests.e2e.test_cli import run
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment

PASSWORD = "correct horse battery staple"
NARROW = {"width": 390, "height": 844}

APP_PAGE = """<!doctype html><html lang="en"><title>Chart viewer</title><pre id="result">working</pre>
<script>
const BASE = %(base)s, VERIFIER = %(verifier)s, REDIRECT = %(redirect)s;
async function main() {
  const code = new URLSearchParams(location.search).get("code");
  const form = {grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: "chart-viewer",
                code_verifier: VERIFIER};
  const token = await fetch(BASE + "/auth/token", {method: "POST", body: new URLSearchParams(form)});
  const granted = await token.json();
  window.accessToken = granted.access_token;
  const metadata = await fetch(BASE + "/fhir/metadata", {headers: {Accept: "application/fhir+json"}});
  const patients = await fetch(BASE + "/fhir/Patient?identifier=MRN-9001",
    {headers: {Accept: "application/fhir+json", Authorization: "Bearer " + granted.access_token}});
  const bundle = await patients.json();
  return {token: token.status, scope: granted.scope, metadata: metadata.status,
          fhirVersion: (await metadata.json()).fhirVersion, patients: patients.status,
          identifiers: bundle.entry.map(e => e.resource.identifier[0].value)};
}
main().then(r => { document.getElementById("result").textContent = JSON.stringify(r); },
            e => { document.getElementById("result").textContent = "failed: " + e; });
</script></html>
"""

STRANGER_PAGE = """<!doctype html><html lang="en"><title>Elsewhere</title><pre id="result">working</pre>
<script>
const BASE = %(base)s, TOKEN = location.hash.slice(1);
async function attempt(path, headers) {
  try { const r = await fetch(BASE + path, {headers}); return "read " + r.status; } catch (e) { return "blocked"; }
}
Promise.all([
  attempt("/fhir/metadata", {Accept: "application/fhir+json"}),
  attempt("/fhir/Patient?identifier=MRN-9001", {Accept: "application/fhir+json", Authorization: "Bearer " + TOKEN}),
]).then(r => { document.getElementById("result").textContent = JSON.stringify(r); });
</script></html>
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the signature of the base class
        """Keep the test's output clean."""


@contextmanager
def _static_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port until the block ends; yield its origin as ``http://localhost:<port>``."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _patient(uow: UnitOfWork) -> None:
    data = case_data({"patient": {"identifier": "MRN-9001", "name": "Cora Cors"}})
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    assessment = assess(case)
    record_assessment(uow, case, assessment, assessment_json(assessment), actor="e2e", source="e2e")


def _accessible(page: Page) -> None:
    violations = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}).response["violations"]
    assert [v["id"] for v in violations] == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= NARROW["width"]


def _result(page: Page) -> Any:
    result = page.locator("#result")
    expect(result).not_to_have_text("working", timeout=20000)
    text = result.text_content() or ""
    assert not text.startswith("failed"), text
    return json.loads(text)


def test_an_app_on_its_registered_origin_reads_fhir_in_the_browser_and_an_unregistered_origin_is_blocked(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    folder = tmp_path_factory.mktemp("smart-cors")
    url, totp = staffed_database(folder, {Role.NURSE: "n.cors", Role.ADMIN: "a.cors"}, PASSWORD, _patient)
    env = {"VERTEBRO_DATABASE_URL": url}
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    (folder / "app").mkdir()
    (folder / "elsewhere").mkdir()
    with _static_site(folder / "app") as app_origin, _static_site(folder / "elsewhere") as stranger_origin:
        redirect = f"{app_origin}/app.html"
        registered = run(
            "fhir", "register-app", "chart-viewer", "--redirect-uri", redirect, "--scope", "user/*.read",
            "--name", "Chart viewer", env=env,
        )  # fmt: skip
        assert registered.returncode == 0, registered.stderr
        assert registered.stdout.splitlines()[-1] == f"web origins: {app_origin}"
        with serve(url, VERTEBRO_SECURE_COOKIES="false") as base:
            values = {"base": json.dumps(base), "verifier": json.dumps(verifier), "redirect": json.dumps(redirect)}
            (folder / "app" / "app.html").write_text(APP_PAGE % values, encoding="utf-8")
            (folder / "elsewhere" / "page.html").write_text(STRANGER_PAGE % values, encoding="utf-8")
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": "chart-viewer",
                    "redirect_uri": redirect,
                    "scope": "user/Patient.rs",
                    "state": "s-cors",
                    "aud": f"{base}/fhir",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
            page = signed_in_page(browser, base, "n.cors", PASSWORD, totp[Role.NURSE])
            page.goto(f"{base}/auth/authorize?{query}")
            page.get_by_role("button", name="Allow", exact=True).click()
            page.wait_for_url(f"{redirect}?*", timeout=20000)
            assert _result(page) == {
                "token": 200,
                "scope": "user/Patient.rs",
                "metadata": 200,
                "fhirVersion": "4.0.1",
                "patients": 200,
                "identifiers": ["MRN-9001"],
            }
            token = page.evaluate("window.accessToken")

            stranger = browser.new_context().new_page()
            console: list[str] = []
            stranger.on("console", lambda message: console.append(message.text))
            stranger.goto(f"{stranger_origin}/page.html#{token}")
            assert _result(stranger) == ["blocked", "blocked"]
            assert any("CORS policy" in line for line in console), console

            admin = signed_in_page(browser, base, "a.cors", PASSWORD, totp[Role.ADMIN], viewport=NARROW)
            admin.get_by_role("link", name="SMART apps").click()
            expect(admin.get_by_role("heading", level=1)).to_have_text("SMART apps and clients")
            _accessible(admin)
            admin.get_by_role("link", name="Revoke Chart viewer").click()
            expect(admin.get_by_role("heading", level=1)).to_contain_text("Revoke Chart viewer")
            _accessible(admin)
            admin.get_by_role("button", name="Revoke Chart viewer").click()
            expect(admin.locator("#flash")).to_contain_text("every token it was given has ended")
            expect(admin.get_by_role("row", name=re.compile("chart-viewer"))).to_contain_text("Revoked")
            after = page.evaluate(
                """async ([base, token]) => {
                    try {
                        await fetch(base + "/fhir/Patient?identifier=MRN-9001", {headers: {Authorization: "Bearer " + token}});
                        return "read";
                    } catch (e) { return "blocked"; }
                }""",
                [base, token],
            )
            assert after == "blocked"  # a revoked app's origin is answered no more
            refused = httpx.get(f"{base}/fhir/Patient", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 401
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
            assert refused.json()["resourceType"] == "OperationOutcome"

            # Registering anew under another id, on the admin page (decision 0044): every problem at once, then done.
            admin.get_by_role("link", name="Register an app").click()
            expect(admin.get_by_role("heading", level=1)).to_have_text("Register an app")
            _accessible(admin)
            admin.get_by_label("Client id").fill("chart-viewer")
            admin.get_by_label("Redirect URIs").fill("http://viewer.example/cb")
            admin.get_by_role("button", name="Register the app").click()
            summary = admin.get_by_role("alert")
            expect(summary).to_contain_text("Nothing was registered: 2 problems to fix")
            expect(summary).to_contain_text("client 'chart-viewer' is already registered")
            expect(summary).to_contain_text("must be an https URL")
            _accessible(admin)
            admin.get_by_label("Client id").fill("chart-viewer-2")
            admin.get_by_label("Redirect URIs").fill(redirect)
            admin.get_by_role("button", name="Register the app").click()
            expect(admin.locator("#flash")).to_contain_text("Registered")
            expect(admin.get_by_role("row", name=re.compile("chart-viewer-2"))).to_contain_text("Active")
