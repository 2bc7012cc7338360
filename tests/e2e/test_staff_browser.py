"""End-to-end in Debian's Chromium: one patient from referral to discharge and the 2-week follow-up,
each step by the right role, plus the refusals. Screenshots of the key pages go to test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, serve, staffed_database
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Action, Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment
from vertebro.store.workflow import Actor

pytestmark = pytest.mark.e2e

AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "correct horse battery"
ROLES = {
    Role.COORDINATOR: "e2e.coordinator",
    Role.NURSE: "e2e.nurse",
    Role.RADIOLOGIST: "e2e.radiologist",
    Role.ADMIN: "e2e.admin",
}
_ = yaml  # case files in this suite are built from the unit builders


def _store_case(uow: UnitOfWork, identifier: str, name: str) -> int:
    data = case_data({"patient": {"identifier": identifier, "name": name}, "sedation_planned": True})
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    a = assess(case)
    return record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e").case_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str]]]:
    """A real server process on a fresh SQLite database with staff, calendar and three referred patients."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 21)
        _store_case(uow, "E2E-1", "Erin Example")
        second = _store_case(uow, "E2E-2", "Sam Second")
        uow.session.flush()
        # accepted already: its preparation checklist is the form two users edit at once (only the current stage
        # of a case has forms, decision 0033)
        for action, role in ((Action.START_SCREENING, Role.COORDINATOR), (Action.ACCEPT, Role.RADIOLOGIST)):
            workflow.take_action(uow, second, action, Actor("e2e", role), DEFAULT_POLICY, expected_version=None)

    url, secrets = staffed_database(tmp_path_factory.mktemp("e2e"), ROLES, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, without network chatter."""
    with chromium() as b:
        yield b


class Staff:
    """One member of staff in their own browser context (tablet-sized window)."""

    _last_step: dict[Role, int] = {}  # noqa: RUF012  (a code is accepted once: use each step once per role)

    def __init__(self, browser: Browser, base: str, role: Role, secret: str) -> None:
        self.context = browser.new_context(viewport={"width": 1024, "height": 1366})
        self.page: Page = self.context.new_page()
        self.base = base
        self.role = role
        self.secret = secret

    def sign_in(self) -> Staff:
        page = self.page
        page.goto(self.base + "/login")
        page.get_by_label("Username").fill(ROLES[self.role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        current = int(time.time() // 30)
        step = max(current - 1, Staff._last_step.get(self.role, current - 2) + 1)
        assert step <= current + 1, "too many sign-ins for one role within 90 seconds"
        Staff._last_step[self.role] = step
        code = pyotp.TOTP(self.secret).at(step * 30)
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return self

    def shot(self, name: str) -> None:
        """Keep a screenshot and check the page against the WCAG 2.1 A/AA rules of axe-core."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        result = AXE.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
        assert not violations, f"{name}: {violations}"

    def open_patient(self, identifier: str) -> None:
        self.page.goto(self.base + "/")
        self.page.get_by_label("Search by name or identifier").fill(identifier)
        self.page.get_by_role("button", name="Search").click()
        self.page.get_by_role("link", name=identifier).click()
        expect(self.page.get_by_role("heading", name="Timeline")).to_be_visible()

    def action(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def confirm(self) -> None:
        """Press the confirmation page's "Yes, ..." button (accept, decline and discharge ask first)."""
        expect(self.page.get_by_role("heading", level=1)).to_contain_text("?")
        self.page.get_by_role("button", name=re.compile(r"^Yes, ")).click()


def test_referral_to_follow_up_in_the_browser(server: tuple[str, dict[Role, str]], browser: Browser) -> None:
    base, secrets = server
    coordinator = Staff(browser, base, Role.COORDINATOR, secrets[Role.COORDINATOR]).sign_in()
    nurse = Staff(browser, base, Role.NURSE, secrets[Role.NURSE]).sign_in()
    radiologist = Staff(browser, base, Role.RADIOLOGIST, secrets[Role.RADIOLOGIST]).sign_in()

    coordinator.page.goto(base + "/")
    expect(coordinator.page.get_by_role("table")).to_contain_text("E2E-1")
    coordinator.shot("01-worklist")

    # a new referral typed in by the coordinator lands in the worklist as 'requested'
    coordinator.page.get_by_role("link", name="New referral").click()
    page = coordinator.page
    page.get_by_label("Patient identifier (MRN)").fill("E2E-9")
    page.get_by_label("Name", exact=True).fill("Nia New")
    page.get_by_label("Date of birth").fill("1945-06-30")
    page.get_by_label("Patient's phone").fill("030 1234 5678")
    page.get_by_label("Referrer's name").fill("Dr Ada Grey")
    page.get_by_label("Referrer's organisation").fill("Elm Street Practice")
    page.get_by_label("Referrer's phone or e-mail").fill("ada.grey@example.org")
    page.get_by_label("Fractured level(s)").fill("L2")
    page.get_by_label("Weeks since the pain began").fill("2")
    page.get_by_label("Pain now (0-10)").fill("9")
    coordinator.shot("00-new-referral")
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_role("heading", name="Nia New")).to_be_visible()
    expect(page.locator(".state").first).to_have_text("requested")
    coordinator.open_patient("E2E-1")
    coordinator.action("Start screening")
    expect(coordinator.page.locator(".state").first).to_have_text("screening")

    # wrong role: the coordinator cannot accept; the refusal says why
    radiologist.open_patient("E2E-1")
    expect(radiologist.page.get_by_role("table", name="Each guideline profile")).to_contain_text("nice-ta279")
    # the reasons and sources load when the "Why" panel is opened (htmx), not with every chart
    radiologist.page.get_by_text("Why: each profile's reasons").click()
    panel = radiologist.page.locator(".reasons-body").first
    expect(panel.locator("summary", has_text="Sources")).to_be_visible()
    expect(panel.locator("summary", has_text="Fractures and morphometry")).to_be_visible()
    radiologist.shot("02-chart-assessment")
    radiologist.action("Accept")
    radiologist.confirm()
    expect(radiologist.page.locator(".state").first).to_have_text("eligible")

    # incomplete checklist: preparation is refused and the screen says what is missing
    nurse.open_patient("E2E-1")
    expect(nurse.page.get_by_text("Not ready to book")).to_be_visible()
    # the step is shown disabled with every reason, not as a live button that reloads with an error
    expect(nurse.page.get_by_role("button", name="Complete preparation", exact=True)).to_be_disabled()
    expect(nurse.page.locator("ul.refusals").first).to_contain_text("checklist: name of the driver home")
    expect(nurse.page.locator(".state").first).to_have_text("eligible")
    nurse.shot("03-refused-incomplete-checklist")

    nurse.open_patient("E2E-1")
    for label in (
        "Medication list reviewed",
        "Allergies reviewed",
        "Fasting times explained",
        "Arrival time (15 minutes early) told",
    ):
        nurse.page.get_by_label(label).check()
    nurse.page.get_by_label("Driver home (name)").fill("Dana Driver")
    nurse.page.get_by_label("Adult staying 12 hours (name)").fill("Cory Companion")
    nurse.page.get_by_role("button", name="Save checklist").click()
    expect(nurse.page.get_by_text("Checklist complete.")).to_be_visible()
    nurse.shot("04-checklist-complete")

    coordinator.open_patient("E2E-1")
    coordinator.page.get_by_label("Payer").fill("Medicare")
    coordinator.page.get_by_label("Pre-approval").select_option("approved")
    coordinator.page.get_by_role("button", name="Save insurance").click()
    coordinator.action("Complete preparation")
    expect(coordinator.page.locator(".state").first).to_have_text("prepared")
    coordinator.page.get_by_role("link", name="Choose a slot in the calendar").click()
    coordinator.shot("05-calendar")
    # the calendar's grid (decision 0032): a bookable start is a button; booking asks for a confirmation
    coordinator.page.once("dialog", lambda dialog: dialog.accept())
    coordinator.page.locator(".fc-host[data-room='Room 1'] .slot-bookable").first.click()
    expect(coordinator.page.locator(".state").first).to_have_text("scheduled")
    expect(coordinator.page.get_by_text("Booked: Room 1")).to_be_visible()

    nurse.open_patient("E2E-1")
    nurse.action("Start procedure")
    expect(nurse.page.locator(".state").first).to_have_text("in procedure")

    radiologist.open_patient("E2E-1")
    radiologist.page.get_by_role("link", name="Open procedure mode").click()  # the cement timer (decision 0034)
    radiologist.page.get_by_role("button", name="Start at mixing").click()
    expect(radiologist.page.locator(".timer-phase").first).to_contain_text("mixing")
    radiologist.page.get_by_role("link", name="back to the chart").click()
    page = radiologist.page
    page.get_by_label("Approach").select_option("bipedicular")
    page.get_by_label("Contrast injected").check()
    page.get_by_label("Cement product").fill("Reference PMMA")
    page.get_by_label("Cement volume (mL)").fill("4.5")
    page.get_by_label("disc", exact=True).check()
    # a mid-procedure draft saves and re-opens with its values
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft, not signed")).to_be_visible()
    expect(page.get_by_label("Cement product")).to_have_value("Reference PMMA")
    now = dt.datetime.now().replace(second=0, microsecond=0)
    page.get_by_label("Started (clinic time, Europe/London)", exact=True).fill(
        (now - dt.timedelta(minutes=55)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_label("Ended").fill(now.strftime("%Y-%m-%dT%H:%M"))
    # signing without the dose and the reason for the changed date is refused, every reason on the page
    page.get_by_role("button", name="Save and sign").click()
    refusal = page.get_by_role("alert").first
    expect(refusal).to_contain_text("record the fluoroscopy time")
    expect(refusal).to_contain_text("differs from the booked date")
    expect(page.locator(".state").first).to_have_text("in procedure")
    page.get_by_label("Fluoroscopy time (min)").fill("3.5")
    page.get_by_label("Dose-area product (Gy·cm²)").fill("12")
    page.get_by_label("Reason, if done on another day than booked").fill("an earlier list had room")
    radiologist.shot("06-procedure-record")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.locator(".state").first).to_have_text("monitoring")
    expect(page.locator(".procedure-status")).to_contain_text("Signed")

    nurse.open_patient("E2E-1")
    for label, value in (
        ("Systolic BP (mmHg)", "182"),
        ("Diastolic BP (mmHg)", "95"),
        ("Heart rate (/min)", "118"),
        ("Respiration rate (/min)", "18"),
        ("SpO₂ %", "86"),
        ("Temperature (°C)", "37.0"),
        ("Pain (0-10)", "9"),
    ):
        nurse.page.get_by_label(label).fill(value)
    nurse.page.get_by_label("Air or oxygen").select_option("air")
    nurse.page.get_by_label("Consciousness (ACVPU)").select_option("alert")
    nurse.page.get_by_label("changed", exact=True).check()
    nurse.page.get_by_role("button", name="Record observations").click()
    expect(nurse.page.locator("td.news2").first).to_contain_text("medium risk")
    for label in (
        "Neurological exam at baseline",
        "Walking as before",
        "Pain not above baseline",
        "Eating and drinking",
    ):
        nurse.page.get_by_label(label).check()
    nurse.page.get_by_label("Aldrete score").fill("10")
    nurse.page.get_by_label("Driver (name, confirmed present)").fill("Dana Driver")
    nurse.page.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    refused = nurse.page.get_by_role("alert").first
    expect(refused).to_contain_text("the plan is 180 minutes")
    expect(refused).to_contain_text("NEWS2 is 5 (medium risk)")
    expect(refused).to_contain_text("recorded as changed")
    expect(nurse.page.locator(".state").first).to_have_text("monitoring")
    nurse.shot("07-early-discharge-refused")

    radiologist.open_patient("E2E-1")
    page = radiologist.page
    for label in (
        "Neurological exam at baseline",
        "Walking as before",
        "Pain not above baseline",
        "Eating and drinking",
    ):
        page.get_by_label(label).check()
    page.get_by_label("Aldrete score").fill("10")
    page.get_by_label(re.compile("Radiologist's override")).fill("reviewed: transfer to the spinal ward by ambulance")
    page.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    radiologist.confirm()
    expect(page.locator(".state").first).to_have_text("discharged")
    expect(page.locator("p.override")).to_contain_text("transfer to the spinal ward")
    radiologist.shot("07-discharged-by-override")
    nurse.open_patient("E2E-1")

    nurse.action("Start follow up")
    expect(nurse.page.locator(".state").first).to_have_text("follow up")
    nurse.page.get_by_label("NRS").first.fill("3")
    nurse.page.get_by_label("ODI %").first.fill("28")
    nurse.page.get_by_label("RDQ").first.fill("9")
    nurse.page.get_by_role("button", name="Record 2w").click()
    expect(nurse.page.get_by_role("cell", name="done", exact=False).first).to_be_visible()
    nurse.shot("08-follow-up")
    timeline = nurse.page.locator(".timeline")
    for who in (ROLES[Role.COORDINATOR], ROLES[Role.NURSE], ROLES[Role.RADIOLOGIST]):
        expect(timeline).to_contain_text(who)


def test_refusals_in_the_browser(server: tuple[str, dict[Role, str]], browser: Browser) -> None:
    base, secrets = server
    admin = Staff(browser, base, Role.ADMIN, secrets[Role.ADMIN]).sign_in()
    admin.page.goto(base + "/")
    expect(admin.page.get_by_role("heading", name="Not allowed")).to_be_visible()
    admin.page.goto(base + "/admin/audit")
    expect(admin.page.get_by_role("heading", name="Audit log")).to_be_visible()
    admin.shot("09-audit-log")

    first = Staff(browser, base, Role.NURSE, secrets[Role.NURSE]).sign_in()
    second = Staff(browser, base, Role.COORDINATOR, secrets[Role.COORDINATOR]).sign_in()
    first.open_patient("E2E-2")
    second.open_patient("E2E-2")
    first.page.get_by_label("Medication list reviewed").check()
    first.page.get_by_role("button", name="Save checklist").click()
    second.page.get_by_label("Driver home (name)").fill("Typed by the second user")
    second.page.get_by_role("button", name="Save checklist").click()
    expect(second.page.get_by_role("status")).to_contain_text("changed by someone else")
    expect(second.page.get_by_label("Driver home (name)")).to_have_value("Typed by the second user")
    second.shot("10-conflicting-edit")
