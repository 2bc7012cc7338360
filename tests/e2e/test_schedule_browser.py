"""End-to-end in Debian's Chromium: the service lead runs the planner, reads the proposed calendar and the
comparison with first come, first served, and accepts the plan; the cases are booked. Screenshots (each
also checked against axe-core's WCAG 2.1 A/AA rules) go to test-artifacts/schedule/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, serve
from tests.integration.scheduling.conftest import next_monday, prepare
from tests.unit.clinical.builders import base_case
from vertebro.pathway.machine import Role
from vertebro.store import migrate, staff_service, workflow
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

pytestmark = pytest.mark.e2e

AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "schedule"
PASSWORD = "correct horse battery"
LEAD = "e2e.lead"
# (identifier, name, weeks since the fracture at referral, sedated, inpatient)
PATIENTS = (
    ("PLAN-E1", "Ada Acute", 1, True, False),
    ("PLAN-E2", "Ben Between", 8, False, True),
    ("PLAN-E3", "Cleo Chronic", 20, False, False),
    ("PLAN-E4", "Dev Recent", 3, False, False),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server on a fresh SQLite database: the service lead, two weeks of calendar, four prepared cases."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-schedule') / 'schedule.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        secret = staff_service.create_user(
            uow, username=LEAD, display_name="Lee Lead", role=Role.SERVICE_LEAD, password=PASSWORD, actor="e2e"
        ).totp_secret
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), next_monday(), 14)
        for identifier, name, weeks, sedated, inpatient in PATIENTS:
            changes = {"name": name, "hospitalized": inpatient}
            prepare(
                uow,
                identifier,
                patient=changes,
                sedation_planned=sedated,
                fractures=[_fracture(weeks)],
            )
        uow.commit()
    engine.dispose()
    with serve(url) as base:
        yield base, secret


def _fracture(weeks: int) -> dict[str, object]:
    fracture: dict[str, object] = dict(base_case()["fractures"][0])
    fracture["onset_weeks"] = weeks
    return fracture


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, without network chatter."""
    with chromium() as b:
        yield b


def _shot(page: Page, name: str) -> None:
    """Keep a screenshot and check the page against the WCAG 2.1 A/AA rules of axe-core."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"


def test_the_service_lead_plans_compares_and_accepts(server: tuple[str, str], browser: Browser) -> None:
    base, secret = server
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("Username").fill(LEAD)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("link", name="Planning").click()
    expect(page.get_by_role("heading", name="Schedule planning")).to_be_visible()
    page.get_by_label("First day", exact=True).fill(next_monday().isoformat())
    page.get_by_label("Weeks", exact=True).fill("1")
    page.get_by_label("Time limit (seconds, at most 30)").fill("3")
    _shot(page, "00-planning")
    page.get_by_role("button", name="Run the planner").click()

    expect(page.get_by_role("heading", name="Schedule plan 1")).to_be_visible(timeout=30_000)
    calendar = page.get_by_role("table", name="Sessions by day and room")
    for _, name, *_ in PATIENTS:
        expect(calendar).to_contain_text(name)
    # the fracture age is written, not shown by colour alone
    expect(calendar.locator(".band-acute").first).to_contain_text("acute")
    expect(calendar.locator(".band-chronic").first).to_contain_text("chronic")
    expect(page.get_by_role("list", name="Fracture age at treatment")).to_contain_text("under 6 weeks")
    comparison = page.get_by_role("table", name="The same cases and calendar")
    expect(comparison).to_contain_text("Acute fractures treated while acute")
    expect(comparison).to_contain_text("Overtime")
    expect(page.get_by_role("table", name="Points = weight")).to_contain_text("acute missed")
    _shot(page, "01-proposed-plan")

    page.get_by_role("button", name="Accept the plan and book 4 sessions").click()
    expect(page.get_by_role("status")).to_contain_text("Plan accepted")
    expect(page.get_by_text("Status: accepted")).to_be_visible()
    _shot(page, "02-accepted-plan")

    page.goto(base + f"/calendar?start={next_monday().isoformat()}&view=list")
    expect(page.locator(".slots .busy").first).to_be_visible()
    page.goto(base + f"/calendar?start={next_monday().isoformat()}")
    expect(page.locator(".fc-host .booking").first).to_be_visible()
    context.close()
