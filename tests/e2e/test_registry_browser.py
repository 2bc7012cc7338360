"""End-to-end in Debian's Chromium: the outcomes dashboard for the service lead and the admin, its charts,
the patients behind a figure, WCAG 2.1 AA checks; screenshots go to test-artifacts/registry/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import serve, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS, browser
from tests.integration.registry.conftest import Treated, add_treated
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e
_ = browser  # the fixture, shared with the staff app's browser tests

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "registry"
PASSWORD = "correct horse battery"
USERS = {Role.SERVICE_LEAD: "reg.lead", Role.ADMIN: "reg.admin"}


def _cohort() -> list[Treated]:
    """Forty treated cases over two years: three operators, both techniques, every cause and age band."""
    cases = []
    start = dt.date.today() - dt.timedelta(days=720)
    for i in range(40):
        performed = start + dt.timedelta(days=17 * i)
        days_since = (dt.date.today() - performed).days
        follow_ups: dict[str, tuple[int, float | None, int | None] | None] = {}
        for visit, day, drop in (("2w", 15, 3), ("3m", 90, 4), ("12m", 365, 5)):
            if days_since > day + 20 and i % 7 != 3:
                follow_ups[visit] = (
                    max(0, 8 - drop - i % 3),
                    max(0.0, 60.0 - 8 * drop - i % 5),
                    max(0, 18 - drop - i % 4),
                )
        cases.append(
            Treated(
                f"REG-{i:03d}",
                name=f"Registry Patient {i}",
                requested=performed - dt.timedelta(days=7 + (i * 5) % 60),
                performed=performed,
                cause=("osteoporotic", "osteoporotic", "metastasis", "high_energy_trauma")[i % 4],
                onset_weeks=(None, 1.0, 4.0, 9.0, 20.0)[i % 5],
                technique="kyphoplasty" if i % 4 == 1 else "vertebroplasty",
                operator=("dr.ada", "dr.ben", "dr.cai")[i % 3],
                levels=(("L1", "venous" if i % 2 else "none", False),)
                + ((("L2", "none", False),) if i % 5 == 0 else ()),
                nrs=8,
                odi=60.0,
                rdq=18,
                follow_ups=follow_ups,
                complications=(("cement_embolism", 0, True),)
                if i % 9 == 0
                else (("new_fracture", 60, False),)
                if i % 6 == 0
                else (),
                birth_date=dt.date(1930 + i % 30, 1 + i % 12, 1 + i % 27),
                guidance=("ct", "ct") if i % 10 == 7 else (),
                dose={"ctdivol_mgy": 10.0 + i % 5, "dlp_mgy_cm": 300.0 + 10 * i}
                if i % 10 == 7
                else {
                    "dap_gy_cm2": 5.0 + (i * 7) % 40,
                    "air_kerma_mgy": 50.0 + (i * 37) % 400,
                    "fluoroscopy_minutes": 3.0 + i % 9,
                },
            )
        )
    return cases


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str]]]:
    """A real server process on a fresh SQLite database with a service lead, an admin and a treated cohort."""

    def fill(uow: UnitOfWork) -> None:
        for treated in _cohort():
            add_treated(uow.session, treated)

    url, secrets = staffed_database(tmp_path_factory.mktemp("registry"), USERS, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets


def _sign_in(browser: Browser, base: str, role: Role, secret: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    page.goto(base + "/login")
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"


def test_dashboard_in_the_browser(server: tuple[str, dict[Role, str]], browser: Browser) -> None:
    base, secrets = server
    lead = _sign_in(browser, base, Role.SERVICE_LEAD, secrets[Role.SERVICE_LEAD])
    lead.get_by_role("link", name="Registry").click()
    expect(lead.get_by_role("heading", name="Outcomes registry", level=1)).to_be_visible()
    expect(lead.locator("main")).to_contain_text("40 procedures")
    expect(lead.locator("svg.chart")).to_have_count(8)
    for name in ("Pain (NRS 0-10) over time", "Funnel plot: complication rate by operator"):
        expect(lead.get_by_role("img", name=name)).to_be_visible()
    # charts whose bars lead to the patients are groups of links
    responders = lead.get_by_role("group", name="Responders (MCID) over time")
    expect(responders).to_be_visible()
    expect(responders.get_by_role("link").first).to_have_attribute("href", re.compile(r"/registry/patients\?figure="))
    box = lead.get_by_role("img", name="Pain (NRS 0-10) over time").bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 100  # really drawn, not an empty box
    expect(lead.get_by_role("table", name="Rates with their n, method and published comparison")).to_contain_text(
        "54.7 %"
    )
    expect(lead.locator("main")).to_contain_text("[unverified source]")
    # the dose figures: the service's local reference level, per operator and level count, per guidance
    doses = lead.get_by_role("table", name="Vertebroplasty under fluoroscopy: 28 signed procedures")
    expect(doses).to_be_visible()
    expect(doses.get_by_role("row", name=re.compile(r"^Service \(local reference level\)"))).to_contain_text(
        re.compile(r"n = 28; median [0-9.]+; 75th percentile [0-9.]+")
    )
    expect(doses.get_by_role("row", name=re.compile(r"^Operator dr\.ada"))).to_be_visible()
    expect(doses.get_by_role("row", name=re.compile(r"^2 levels"))).to_be_visible()
    expect(lead.get_by_role("table", name="Vertebroplasty under CT: 2 signed procedures")).to_contain_text(
        "75th percentile not set (fewer than 10)"
    )
    _shot(lead, "01-dashboard-service-lead")

    # a cohort: kyphoplasty only
    lead.get_by_text("Choose the cohort").click()
    lead.get_by_role("checkbox", name="kyphoplasty").check()
    lead.get_by_role("button", name="Show this cohort").click()
    expect(lead.locator("main")).to_contain_text("10 procedures")
    expect(lead.locator("main")).to_contain_text("technique: kyphoplasty")
    _shot(lead, "02-dashboard-kyphoplasty")

    # the patients behind a figure
    lead.goto(base + "/registry")
    lead.get_by_role("table", name="Rates with their n, method and published comparison").get_by_role(
        "row", name=re.compile(r"^Cement embolism")
    ).get_by_role("link").click()
    expect(lead.get_by_role("heading", name="Patients behind a figure")).to_be_visible()
    expect(lead.get_by_role("table")).to_contain_text("Registry Patient 0")
    _shot(lead, "03-patients-behind-embolism")

    admin = _sign_in(browser, base, Role.ADMIN, secrets[Role.ADMIN])
    admin.goto(base + "/registry")
    expect(admin.locator("main")).to_contain_text("Your role sees aggregates only")
    expect(admin.locator("main")).not_to_contain_text("Registry Patient")
    expect(admin.get_by_role("table", name="Kyphoplasty under CT: 2 signed procedures")).to_be_visible()
    expect(admin.get_by_role("img")).to_have_count(8)
    _shot(admin, "04-dashboard-admin")
