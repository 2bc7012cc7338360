"""Polish in Debian's Chromium (issue 15 item 6): no CSP violation in the console on the staff pages, no
horizontal overflow at 390 px (worklist, chart, calendar), the favicon, and a styled 404 with a way back.
Phone-width screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, serve, signed_in_page, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.intake.fhir_bundle import fracture_of, read_resources
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "correct horse battery"
ROLES = {Role.COORDINATOR: "polish.coordinator", Role.SERVICE_LEAD: "polish.lead"}
PHONE = {"width": 390, "height": 844}
USCORE = Path(__file__).resolve().parents[1] / "fixtures" / "fhir-uscore" / "01-osteoporotic-l1-warfarin.json"
DESKTOP = {"width": 1366, "height": 900}


def _store_case(uow: UnitOfWork, identifier: str, name: str) -> None:
    data = case_data({"patient": {"identifier": identifier, "name": name, "birth_date": "1944-02-29"}})
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    a = assess(case)
    record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str]]]:
    """A server on a fresh SQLite database with staff, a calendar and two patients with long names."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 14)
        _store_case(uow, "POLISH-0001", "Maximiliane Wilhelmina Oberhausen-Schwarzenberg")
        _store_case(uow, "POLISH-0002", "Sam Second")
        bundle = json.loads(USCORE.read_text(encoding="utf-8"))  # a case read from FHIR: the chart shows its sources
        entries = list(bundle_entries(bundle))
        import_resources(uow, entries, reader=read_resources, actor="e2e", source="e2e", fracture=fracture_of)

    url, secrets = staffed_database(tmp_path_factory.mktemp("polish"), ROLES, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


def _signed_in(browser: Browser, base: str, role: Role, secret: str, problems: list[str]) -> Page:
    return signed_in_page(browser, base, ROLES[role], PASSWORD, secret, problems, DESKTOP)


@pytest.fixture(scope="module")
def staff(server: tuple[str, dict[Role, str]], browser: Browser) -> tuple[dict[Role, Page], list[str]]:
    """The coordinator and the service lead, each signed in once (a TOTP code is accepted once), and what
    their consoles reported."""
    base, secrets = server
    problems: list[str] = []
    pages = {role: _signed_in(browser, base, role, secrets[role], problems) for role in ROLES}
    return pages, problems


def _staff_pages(page: Page, base: str) -> list[str]:
    page.goto(base + "/")
    chart = page.get_by_role("link", name="POLISH-0001").get_attribute("href")
    assert chart
    return ["/", "/?sort=birth_date&order=asc", chart.split("#")[0], "/calendar", "/schedule"]


def test_no_csp_errors_in_the_console_on_the_staff_pages(server: tuple[str, dict[Role, str]], browser: Browser) -> None:
    base, secrets = server
    problems: list[str] = []
    page = _signed_in(browser, base, Role.COORDINATOR, secrets[Role.COORDINATOR], problems)
    for path in _staff_pages(page, base):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
    lead = _signed_in(browser, base, Role.SERVICE_LEAD, secrets[Role.SERVICE_LEAD], problems)
    lead.goto(base + "/registry")
    lead.wait_for_load_state("networkidle")
    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert csp == []
    assert [p for p in problems if "favicon" in p] == []


def test_the_staff_app_fits_a_390_px_phone(
    server: tuple[str, dict[Role, str]], staff: tuple[dict[Role, Page], list[str]]
) -> None:
    base, _ = server
    page = staff[0][Role.COORDINATOR]
    paths = _staff_pages(page, base)
    page.set_viewport_size(PHONE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widths = {}
    for name, path in zip(("worklist", "worklist-sorted", "chart", "calendar", "planning"), paths, strict=True):
        page.goto(base + path)
        widths[name] = page.evaluate("document.scrollingElement.scrollWidth")
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    assert {name: width for name, width in widths.items() if width > PHONE["width"]} == {}


def test_the_favicon_and_a_styled_404_with_a_way_back(server: tuple[str, dict[Role, str]], browser: Browser) -> None:
    base, _ = server
    page = browser.new_context(viewport=PHONE).new_page()
    icon = page.request.get(base + "/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.body()[:4] == b"\x00\x00\x01\x00"  # an ICO header
    response = page.goto(base + "/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the worklist")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")  # app.css applied


def test_where_the_facts_came_from_fits_a_phone_and_passes_axe(
    server: tuple[str, dict[Role, str]], staff: tuple[dict[Role, Page], list[str]]
) -> None:
    """The chart of a case imported from FHIR, its sources opened: no horizontal overflow at 390 px, no WCAG 2.1
    A/AA violation (axe-core), each fact's resource and code visible."""
    base, _ = server
    page = staff[0][Role.COORDINATOR]
    page.set_viewport_size(DESKTOP)
    page.goto(base + "/")
    chart = page.get_by_role("link", name="MRN-uc1").get_attribute("href")
    assert chart
    page.set_viewport_size(PHONE)
    page.goto(base + chart.split("#")[0])
    section = page.locator("section.fact-sources")
    expect(section.get_by_role("heading", name="Where the facts came from")).to_be_visible()
    section.get_by_text("Each fact with the resource it came from").click()
    expect(section.get_by_role("cell", name="LOINC 777-3")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-chart-fact-sources.png"), full_page=True)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert [(v["id"], v["nodes"][0]["target"]) for v in result.response["violations"]] == []
