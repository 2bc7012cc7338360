"""Whole patient journeys in Debian's Chromium (issue 12, item 7): four patients driven through every role.

1. A single-level vertebroplasty with sedation, from the coordinator's referral to the 2-week follow-up, with the
   preparation handout, the procedure report and the discharge sheet read back as PDF text.
2. Four fractured levels (T11-L2) staged as three levels and then one, on warfarin and on clopidogrel after a recent
   stent: booking waits for the prescriber's decisions recorded on the chart; the handout then names the drugs, the
   hold dates and the prescriber's agreement; the patient reads the plan on the portal; a draft record only.
3. A pregnant patient: conservative care, no augmentation, no preparation for a procedure.
4. A cement leak with a complication and an early-discharge attempt: NEWS2 escalation shown, discharge refused
   with the reasons, then the radiologist's written override on the discharge sheet.

Last, FHIR and the registry (signed procedures only) over what the journeys left: the tests run in file order,
as a clinic's day does. One server and one
browser for the module; screenshots go to test-artifacts/e2e/journeys/ and a few pages are checked with axe-core.
The monitoring time passes through the data (the procedure's recorded times), never by waiting.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from tests.e2e.serving import chromium, serve, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.rules import RULES
from vertebro.pathway.machine import Role
from vertebro.store import credentials, workflow
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import PatientAccount
from vertebro.store.service import record_assessment

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e" / "journeys"
PASSWORD = "correct horse battery"
USERS = {
    Role.COORDINATOR: "jr.coordinator",
    Role.NURSE: "jr.nurse",
    Role.RADIOLOGIST: "jr.radiologist",
    Role.SERVICE_LEAD: "jr.lead",
}
DISCHARGE_CRITERIA = (
    "Neurological exam at baseline",
    "Walking as before",
    "Pain not above baseline",
    "Eating and drinking",
)


def _rule_ids(text: str) -> list[str]:
    """The rule ids (e.g. medications.antiplatelet_decision) that appear in a text meant for the patient."""
    return [rule for rule in RULES if re.search(rf"\b{re.escape(rule)}\b", text)]


def _store_case(uow: UnitOfWork, identifier: str, name: str, changes: dict[str, Any]) -> int:
    """A referred case, assessed and stored as the intake would store it (no procedure date yet)."""
    data = case_data(changes)
    data["patient"].update(identifier=identifier, name=name)
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    a = assess(case)
    return record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e").patient_id


STAGED = {
    "sedation_planned": True,
    "medications": [
        {"name": "warfarin", "purpose": "therapeutic"},
        {"name": "clopidogrel", "purpose": "secondary_prevention"},
    ],
}
PREGNANT = {"patient": {"age": 34, "sex": "female", "pregnant": True}}
LEAK = {"sedation_planned": True}
PORTAL_TOKEN = "journeys-portal-activation-token-0123456789"
PATIENT_PASSWORD = "blue kettle morning walk"
OVERRIDE = "reviewed at the bedside: admitted to the ward for overnight observation"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str]]]:
    """One server on a fresh SQLite database: the staff, a calendar and three referred patients."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 42)
        fractures = [{**case_data()["fractures"][0], "level": level} for level in ("T11", "T12", "L1", "L2")]
        staged = _store_case(uow, "JR-STAGED", "Stella Staged", {**STAGED, "fractures": fractures})
        # the staged patient also uses the portal: an account waiting for its password
        uow.portal.add(
            PatientAccount(
                patient_id=staged,
                reference="JR-STAGED",
                email="stella@example.org",
                activation_digest=credentials.token_digest(PORTAL_TOKEN),
                activation_expires_at=utc_now() + dt.timedelta(days=7),
            )
        )
        _store_case(uow, "JR-PREG", "Pia Pregnant", PREGNANT)
        _store_case(uow, "JR-LEAK", "Leo Leak", LEAK)

    url, secrets = staffed_database(tmp_path_factory.mktemp("journeys"), USERS, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


class Member:
    """One member of staff, signed in once for the module in their own browser context."""

    _last_step: dict[Role, int] = {}  # noqa: RUF012  (a TOTP code is accepted once per role)

    def __init__(self, browser: Browser, base: str, role: Role, secret: str) -> None:
        self.browser = browser
        self.context: BrowserContext = browser.new_context(viewport={"width": 1024, "height": 1366})
        self.page: Page = self.context.new_page()
        self.base = base
        self.role = role
        page = self.page
        page.goto(base + "/login")
        page.get_by_label("Username").fill(USERS[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        current = int(time.time() // 30)
        step = max(current - 1, Member._last_step.get(role, current - 2) + 1)
        Member._last_step[role] = step
        page.get_by_label("Code").fill(pyotp.TOTP(secret).at(step * 30))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def shot(self, name: str, *, axe: bool = False) -> None:
        """Keep a screenshot; with ``axe`` check the page against axe-core's WCAG 2.1 A/AA rules."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if axe:
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

    def state(self) -> Any:
        return self.page.locator(".state").first

    def patient_id(self) -> int:
        href = self.page.get_by_role("navigation", name="Documents").get_by_role("link").first.get_attribute("href")
        match = re.search(r"/patients/(\d+)/", href or "")
        assert match, href
        return int(match.group(1))

    def pdf(self, kind: str) -> str:
        """The text of one of the patient's documents, downloaded with this member's session."""
        response = self.context.request.get(f"{self.base}/patients/{self.patient_id()}/documents/{kind}")
        assert response.status == 200, response.text()
        assert response.headers["content-type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(response.body()))
        return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)

    def post_form(self, path: str, **fields: str) -> tuple[int, str]:
        """Post a form with this member's session and the page's CSRF token (as a stale tab would); the status."""
        token = self.page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
        version = self.page.locator("input[name=version]").first.get_attribute("value") or ""
        response = self.context.request.post(
            self.base + path, form={"csrf_token": token, "version": version, **fields}, max_redirects=0
        )
        return response.status, response.text()

    def get_json(self, path: str) -> Any:
        response = self.context.request.get(self.base + path)
        assert response.status == 200, response.text()
        return response.json()


@pytest.fixture(scope="module")
def staff(server: tuple[str, dict[Role, str]], browser: Browser) -> dict[Role, Member]:
    """Each role signed in once for the module."""
    base, secrets = server
    return {role: Member(browser, base, role, secrets[role]) for role in USERS}


def long(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _book_first_slot(coordinator: Member) -> dt.datetime:
    """Book the first offered slot in Room 1 from the calendar; return its start."""
    page = coordinator.page
    page.get_by_role("link", name="Choose a slot in the calendar").click()
    # the calendar's grid (decision 0032): a bookable start is a button; booking asks for a confirmation
    slot = page.locator(".fc-host[data-room='Room 1'] .slot-bookable").first
    start = slot.get_attribute("data-start") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00", start), start
    page.once("dialog", lambda dialog: dialog.accept())
    slot.click()
    expect(coordinator.state()).to_have_text("scheduled")
    return dt.datetime.fromisoformat(start)


def _checklist(nurse: Member, *, sedation: bool, driver: str = "", companion: str = "") -> None:
    page = nurse.page
    checklist = page.locator("form[action$='/checklist']")
    for label in (
        "Medication list reviewed",
        "Allergies reviewed",
        "Fasting times explained",
        "Arrival time (15 minutes early) told",
    ):
        checklist.get_by_label(label).check()
    if checklist.get_by_label("Holds and restart dates explained").count():
        checklist.get_by_label("Holds and restart dates explained").check()
    checklist.get_by_label("Sedation planned").select_option("yes" if sedation else "no")
    checklist.get_by_label("INR").fill("1.0")
    checklist.get_by_label("Platelets (x 10^9/L)").fill("230")
    checklist.get_by_label("Labs taken on").fill(dt.date.today().isoformat())
    if driver:
        checklist.get_by_label("Driver home (name)").fill(driver)
    if companion:
        checklist.get_by_label("Adult staying 12 hours (name)").fill(companion)
    checklist.get_by_role("button", name="Save checklist").click()
    expect(page.get_by_text("Checklist complete.")).to_be_visible()


def _insure_and_prepare(coordinator: Member) -> None:
    page = coordinator.page
    page.get_by_label("Payer").fill("Medicare")
    page.get_by_label("Pre-approval").select_option("approved")
    page.get_by_role("button", name="Save insurance").click()
    coordinator.action("Complete preparation")
    expect(coordinator.state()).to_have_text("prepared")


def _procedure(
    radiologist: Member,
    *,
    ended_minutes_ago: int,
    levels: tuple[str, ...],
    leak: str | None = None,
    complications: str = "",
) -> dt.datetime:
    """Record the procedure: a draft first (it re-opens with its values), then signed with the dose."""
    page = radiologist.page
    form = page.locator("form[action$='/procedure']")
    form.get_by_label("Technique").select_option("vertebroplasty")
    for level in levels:
        box = form.locator("fieldset", has=page.locator(f"legend:text-is('{level}')")).first
        box.get_by_label("Approach").select_option("bipedicular")
        box.get_by_label("Cement product").fill("Reference PMMA")
        box.get_by_label("Cement volume (mL)").fill("3.5")
        if leak and level == levels[0]:
            box.get_by_label(leak, exact=True).check()
            box.get_by_label("Leak symptomatic").check()
    form.get_by_role("button", name="Save draft").click()
    expect(page.locator(".procedure-status")).to_contain_text("Draft, not signed")
    expect(page.locator(".state").first).to_have_text("in procedure")
    form = page.locator("form[action$='/procedure']")
    expect(form.locator("input[name$='.cement_product']").first).to_have_value("Reference PMMA")
    ended = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=ended_minutes_ago)
    form.get_by_label(re.compile(r"^Started \(clinic time, ")).fill(
        (ended - dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M")
    )
    form.get_by_label("Ended").fill(ended.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Fluoroscopy time (min)").fill("4.2")
    form.get_by_label("Dose-area product (Gy·cm²)").fill("15")
    form.get_by_label("Reason, if done on another day than booked").fill("an earlier list had room")
    if complications:
        form.get_by_label("Other complications (separate with ;)").fill(complications)
    form.get_by_role("button", name="Save and sign").click()
    expect(radiologist.state()).to_have_text("monitoring")
    expect(page.locator(".procedure-status")).to_contain_text("Signed")
    return ended - dt.timedelta(minutes=45)


def _observe(nurse: Member, neuro: str = "unchanged from before the procedure", **values: str) -> None:
    page = nurse.page
    readings = {
        "Systolic BP (mmHg)": "128",
        "Diastolic BP (mmHg)": "76",
        "Heart rate (/min)": "72",
        "Respiration rate (/min)": "14",
        "SpO₂ %": "97",
        "Temperature (°C)": "36.8",
        "Pain (0-10)": "3",
    }
    readings.update(values)
    for label, value in readings.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Air or oxygen").select_option("air")
    page.get_by_label("Consciousness (ACVPU)").select_option("alert")
    page.get_by_label(neuro, exact=True).check()
    page.get_by_role("button", name="Record observations").click()


def test_single_level_vertebroplasty_with_sedation(staff: dict[Role, Member]) -> None:
    coordinator, nurse = staff[Role.COORDINATOR], staff[Role.NURSE]
    radiologist = staff[Role.RADIOLOGIST]

    # the coordinator's referral records every safety fact
    page = coordinator.page
    page.goto(coordinator.base + "/referrals/new")
    page.get_by_label("Patient identifier (MRN)").fill("JR-SINGLE")
    page.get_by_label("Name", exact=True).fill("Vera Vertebra")
    page.get_by_label("Date of birth").fill("1948-02-11")
    page.get_by_label("Patient's e-mail").fill("vera@example.org")
    page.get_by_label("Referrer's name").fill("Dr Grey")
    page.get_by_label("Referrer's organisation").fill("Elm Street Practice")
    page.get_by_label("Referrer's phone or e-mail").fill("+49 30 555 0101")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Fractured level(s)").fill("L1")
    page.get_by_label("Cause").select_option("osteoporotic")
    page.get_by_label("Weeks since the pain began").fill("3")
    page.get_by_label("Pain now (0-10)").fill("8")
    page.get_by_label("Pain at the fracture level on examination").select_option("yes")
    for label in (
        "Pregnant",
        "In hospital now (inpatient)",
        "Fever",
        "Active infection (local or systemic)",
        "Cancer, now or in the past",
        "Neurological deficit",
        "Coagulopathy that cannot be corrected",
    ):
        page.get_by_label(label, exact=True).select_option("no")
    page.get_by_label("Allergies", exact=True).select_option("none")
    page.get_by_label("Medicines", exact=True).select_option("none")
    coordinator.shot("01-referral", axe=True)
    page.get_by_role("button", name="Save referral").click()
    expect(page.get_by_role("heading", name="Vera Vertebra")).to_be_visible()
    expect(coordinator.state()).to_have_text("requested")
    coordinator.action("Start screening")
    expect(coordinator.state()).to_have_text("screening")

    # the radiologist adds the imaging, sees every safety fact recorded and accepts
    radiologist.open_patient("JR-SINGLE")
    page = radiologist.page
    facts = page.locator("form[action$='/facts']").first
    facts.get_by_label("Date of the MRI or bone scan").fill((dt.date.today() - dt.timedelta(days=3)).isoformat())
    facts.get_by_label("MRI oedema").select_option("yes")
    facts.get_by_role("button", name="Save L1 and re-assess").click()
    page.wait_for_url(re.compile(r"done=facts"))
    expect(page.get_by_text("Every safety fact is recorded.")).to_be_visible()
    expect(page.get_by_role("table", name="Each guideline profile")).to_be_visible()
    radiologist.shot("02-screening", axe=True)
    radiologist.action("Accept")
    radiologist.confirm()
    expect(radiologist.state()).to_have_text("eligible")

    # the nurse's checklist: sedation, so a driver and an adult for the night
    nurse.open_patient("JR-SINGLE")
    _checklist(nurse, sedation=True, driver="Dana Driver", companion="Cory Companion")
    coordinator.open_patient("JR-SINGLE")
    _insure_and_prepare(coordinator)
    booked = _book_first_slot(coordinator)
    expect(coordinator.page.get_by_text("Booked: Room 1")).to_be_visible()

    handout = coordinator.pdf("preparation")
    assert "vertebroplasty" in handout.lower()
    assert "L1" in handout
    assert long(booked.date()) in handout
    assert "Bone to be treated: L1" in handout
    assert "An adult must take you home" in handout  # the driver line: sedation (ASA 2018)
    assert "An adult must stay with you for 12 hours" in handout  # the companion line
    assert "Do not drive on the day of the procedure" in handout

    # the day: the nurse starts, the radiologist records a draft, then signs with the dose
    nurse.open_patient("JR-SINGLE")
    nurse.action("Start procedure")
    expect(nurse.state()).to_have_text("in procedure")
    radiologist.open_patient("JR-SINGLE")
    started = _procedure(radiologist, ended_minutes_ago=200, levels=("L1",))
    radiologist.shot("03-signed-procedure")
    report = radiologist.pdf("procedure-report")
    assert "vertebroplasty" in report.lower()
    assert "kyphoplasty" not in report.lower()
    assert "Vertebroplasty, L1" in report
    assert f"Date of procedure: {started.date().isoformat()}" in report
    assert "Dose-area product 15" in report

    # calm observations, discharge after the planned time
    nurse.open_patient("JR-SINGLE")
    _observe(nurse)
    expect(nurse.page.locator("td.news2").first).to_contain_text("low")
    for label in DISCHARGE_CRITERIA:
        nurse.page.get_by_label(label).check()
    nurse.page.get_by_label("Aldrete score").fill("10")
    nurse.page.get_by_label("Driver (name, confirmed present)").fill("Dana Driver")
    nurse.page.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    nurse.confirm()
    expect(nurse.state()).to_have_text("discharged")
    nurse.shot("04-discharged", axe=True)
    sheet = nurse.pdf("discharge")
    assert "vertebroplasty" in sheet.lower()
    assert f"Your vertebroplasty: {long(started.date())}" in sheet  # the signed record's date, not the booking's
    assert "Bone treated: L1" in sheet
    assert "Done by jr.radiologist" in sheet
    assert "An adult must take you home and stay with you" in sheet  # agrees with the handout
    assert f"{long(started.date())} {long(started.date() + dt.timedelta(days=2))} Do not drive" in sheet
    assert f"Between {long(started.date() + dt.timedelta(days=14))}" in sheet  # the 2-4 week visit

    nurse.action("Start follow up")
    expect(nurse.state()).to_have_text("follow up")
    nurse.page.get_by_label("NRS").first.fill("2")
    nurse.page.get_by_label("ODI %").first.fill("20")
    nurse.page.get_by_label("RDQ").first.fill("6")
    nurse.page.get_by_role("button", name="Record 2w").click()
    expect(nurse.page.get_by_role("cell", name="done", exact=False).first).to_be_visible()
    nurse.shot("05-follow-up")


def _case_id(member: Member) -> int:
    article = member.page.locator("article.case").first.get_attribute("id") or ""
    return int(article.removeprefix("case-"))


def test_three_levels_staged_on_warfarin_and_clopidogrel_wait_for_the_prescriber(staff: dict[Role, Member]) -> None:
    coordinator, nurse = staff[Role.COORDINATOR], staff[Role.NURSE]
    radiologist = staff[Role.RADIOLOGIST]
    coordinator.open_patient("JR-STAGED")
    coordinator.action("Start screening")
    radiologist.open_patient("JR-STAGED")
    radiologist.action("Accept")
    radiologist.confirm()
    expect(radiologist.state()).to_have_text("eligible")

    # the nurse's checklist is complete, yet the case is not ready: the prescriber's decisions are missing
    nurse.open_patient("JR-STAGED")
    case_id = _case_id(nurse)
    checklist = nurse.page.locator("form[action$='/checklist']")
    for label in (
        "Medication list reviewed",
        "Allergies reviewed",
        "Fasting times explained",
        "Arrival time (15 minutes early) told",
    ):
        checklist.get_by_label(label).check()
    # no hold date exists yet, so none can be explained (decision 0034)
    expect(checklist.get_by_label("Holds and restart dates explained")).to_be_disabled()
    expect(checklist).to_contain_text("Cannot be ticked yet")
    checklist.get_by_label("Sedation planned").select_option("yes")
    checklist.get_by_label("INR").fill("2.4")
    checklist.get_by_label("Platelets (x 10^9/L)").fill("230")
    checklist.get_by_label("Labs taken on").fill(dt.date.today().isoformat())
    checklist.get_by_label("Driver home (name)").fill("Dan Driver")
    checklist.get_by_label("Adult staying 12 hours (name)").fill("Cal Companion")
    checklist.get_by_role("button", name="Save checklist").click()
    missing = nurse.page.get_by_role("note").filter(has_text="Not ready to book")
    expect(missing).to_contain_text("thrombotic risk")
    expect(missing).to_contain_text("warfarin")
    expect(missing).to_contain_text("prescriber's decision on clopidogrel")
    prescriber = nurse.page.locator(f"#case-{case_id}-prescriber")
    expect(prescriber).to_contain_text("clopidogrel")
    nurse.shot("10-staged-prescriber-decisions-waiting", axe=True)

    # booking is refused: preparation cannot be completed, the calendar offers no date
    coordinator.open_patient("JR-STAGED")
    page = coordinator.page
    page.get_by_label("Payer").fill("Medicare")
    page.get_by_label("Pre-approval").select_option("approved")
    page.get_by_role("button", name="Save insurance").click()
    # the step is shown disabled with every reason, not as a live button that reloads with an error
    expect(page.get_by_role("button", name="Complete preparation", exact=True)).to_be_disabled()
    expect(coordinator.state()).to_have_text("eligible")
    expect(page.locator(f"#case-{case_id}")).to_contain_text("prescriber's decision on clopidogrel recorded")
    page.goto(f"{coordinator.base}/calendar?case_id={case_id}")
    expect(page.locator("#earliest-start")).to_contain_text("No date can be booked yet")
    expect(page.locator(".constraints")).to_contain_text("decide with the prescriber")
    expect(page.locator("form button[aria-label^='Book']")).to_have_count(0)
    expect(page.locator(".fc-host .slot-refused").first).to_be_visible()
    expect(page.locator(".fc-host .slot-bookable")).to_have_count(0)
    coordinator.shot("11-staged-calendar-refused")
    # a booking posted anyway (a stale page, a second tab) is refused by the server
    monday = dt.date.today() + dt.timedelta(days=14 - dt.date.today().weekday())
    coordinator.open_patient("JR-STAGED")
    posted = coordinator.post_form(
        f"/cases/{case_id}/booking", room="Room 2", starts_at=f"{monday.isoformat()}T09:00:00+00:00"
    )
    assert posted[0] < 500
    assert posted[0] == 409
    assert "clopidogrel: no hold date yet" in posted[1]
    coordinator.open_patient("JR-STAGED")
    expect(coordinator.state()).to_have_text("eligible")

    # the nurse records warfarin's thrombotic risk; the radiologist records the cardiologist's decision on clopidogrel
    nurse.open_patient("JR-STAGED")
    decision = nurse.page.get_by_role("form", name="Prescriber's decision on warfarin")
    decision.get_by_label(re.compile("thrombotic risk")).select_option("low")
    decision.get_by_role("button", name="Record the decision on warfarin").click()
    radiologist.open_patient("JR-STAGED")
    decision = radiologist.page.get_by_role("form", name="Prescriber's decision on clopidogrel")
    decision.get_by_label("Prescriber's decision").select_option("hold")
    decision.get_by_label("Date the prescriber agreed").fill(dt.date.today().isoformat())
    decision.get_by_label(re.compile("Note")).fill("Dr Heart, cardiology: stent 14 months ago, may stop")
    decision.get_by_role("button", name="Record the decision on clopidogrel").click()
    prescriber = radiologist.page.locator(f"#case-{case_id}-prescriber")
    expect(prescriber).to_contain_text("recorded by jr.radiologist")
    radiologist.shot("12-staged-decisions-recorded", axe=True)
    nurse.open_patient("JR-STAGED")
    checklist = nurse.page.locator("form[action$='/checklist']")
    checklist.get_by_label("Holds and restart dates explained").check()  # the dates exist now
    checklist.get_by_role("button", name="Save checklist").click()
    expect(nurse.page.get_by_text("Checklist complete.")).to_be_visible()

    coordinator.open_patient("JR-STAGED")
    coordinator.action("Complete preparation")
    expect(coordinator.state()).to_have_text("prepared")
    booked = _book_first_slot(coordinator)
    expect(page.locator(f"#case-{case_id}")).to_contain_text("2 sessions: [T11, T12, L1] [L2]")  # at most 3 a session
    handout = coordinator.pdf("preparation")
    day = booked.date()
    assert long(day) in handout
    assert "Bones to be treated: T11 (middle back), T12 (middle back) and L1 (lower back)." in handout
    assert "We will book the next session for: L2 (lower back)." in handout
    warfarin = handout[handout.index("warfarin vitamin K antagonist") : handout.index("clopidogrel P2Y12")]
    clopidogrel = handout[handout.index("clopidogrel P2Y12") : handout.index("Tests and allergies")]
    assert f"Take your last dose on {long(day - dt.timedelta(days=6))}" in warfarin  # 5 whole days (ASRA 2018)
    assert f"The doctor who prescribes it agreed this plan on {long(dt.date.today())}" in clopidogrel
    assert f"Take your last dose on {long(day - dt.timedelta(days=8))}" in clopidogrel  # 7 whole days
    assert not _rule_ids(handout)
    assert "[unverified]" not in handout

    # the patient, on the portal: the appointment and the plan in plain words, no rule ids
    patient = coordinator.browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    patient.goto(f"{coordinator.base}/portal/activate/{PORTAL_TOKEN}")
    patient.get_by_label("New password", exact=True).fill(PATIENT_PASSWORD)
    patient.get_by_label("The same password again").fill(PATIENT_PASSWORD)
    patient.get_by_role("button", name="Set password and continue").click()
    expect(patient.get_by_role("heading", name="My page")).to_be_visible()
    arrival = booked - dt.timedelta(minutes=15)
    clock = f"{arrival.hour % 12 or 12}:{arrival:%M} {'am' if arrival.hour < 12 else 'pm'}"  # the clinic's one format
    expect(patient.locator("#appointment")).to_contain_text(f"Please arrive by {clock}")
    expect(patient.locator("#appointment")).to_contain_text(long(arrival.date()))
    patient.get_by_role("link", name="Your preparation and aftercare plan").click()
    plan = patient.locator("main")
    expect(plan).to_contain_text(f"Warfarin: take your last dose on {long(day - dt.timedelta(days=6))}")
    expect(plan).to_contain_text("clopidogrel", ignore_case=True)
    expect(plan).to_contain_text("agreed")
    words = plan.inner_text()
    assert not _rule_ids(words)
    assert "unverified" not in words.lower()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    patient.screenshot(path=str(ARTIFACTS / "13-staged-portal-plan.png"), full_page=True)
    violations = AXE.run(patient, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}).response["violations"]
    assert not violations, [(v["id"], v["nodes"][0]["target"]) for v in violations]
    patient.context.close()

    # the first session begins; the radiologist saves a draft only (not signed: not a procedure in the registry)
    nurse.open_patient("JR-STAGED")
    nurse.action("Start procedure")
    radiologist.open_patient("JR-STAGED")
    form = radiologist.page.locator("form[action$='/procedure']")
    levels = form.locator("input[name=level]").evaluate_all("els => els.map(e => e.value)")
    assert levels == ["T11", "T12", "L1"]  # the first session only: at most 3 levels
    form.get_by_role("button", name="Save draft").click()
    expect(radiologist.page.locator(".procedure-status")).to_contain_text("Draft, not signed")


def test_a_pregnant_patient_is_declined_for_conservative_care(staff: dict[Role, Member]) -> None:
    coordinator, radiologist = staff[Role.COORDINATOR], staff[Role.RADIOLOGIST]
    coordinator.open_patient("JR-PREG")
    coordinator.action("Start screening")
    radiologist.open_patient("JR-PREG")
    page = radiologist.page
    case = page.locator("article.case").first
    expect(case).to_contain_text("Recommendation: conservative care · levels L1")
    profiles = page.get_by_role("table", name="Each guideline profile")
    for profile in ("acr", "nice-ta279", "medicare-lcd", "nass-auc"):
        # each profile's row, found by its header (the row's cells also cite sources such as "acr-vcf-2018")
        row = profiles.get_by_role("row").filter(has=page.locator("th", has_text=f"({profile})"))
        expect(row).to_contain_text("contraindicated")
    expect(case).not_to_contain_text("Recommendation: vertebroplasty")
    expect(case).not_to_contain_text("Recommendation: kyphoplasty")
    radiologist.shot("20-pregnant-screening", axe=True)
    # accepting for a procedure against the recommendation without a written reason is refused
    radiologist.action("Accept")
    expect(radiologist.state()).to_have_text("screening")
    expect(page.locator("article.case").first).to_contain_text("record a written reason")
    page.locator("form[action$='/actions/decline']").get_by_label(re.compile("Reason")).fill(
        "pregnant: conservative care until after delivery"
    )
    radiologist.action("Decline")
    radiologist.confirm()
    expect(radiologist.state()).to_have_text("declined")
    radiologist.shot("21-pregnant-declined")
    # no preparation sheet for a procedure: the handout is refused with the reason
    response = radiologist.context.request.get(
        f"{radiologist.base}/patients/{radiologist.patient_id()}/documents/preparation"
    )
    assert response.status == 422
    assert "the current plan is conservative care" in response.text()
    # and no one can book it: the coordinator has no calendar link, the chart offers no preparation step
    coordinator.open_patient("JR-PREG")
    expect(coordinator.page.get_by_role("link", name="Choose a slot in the calendar")).to_have_count(0)
    expect(coordinator.page.get_by_role("button", name="Complete preparation", exact=True)).to_have_count(0)


def test_a_cement_leak_with_a_complication_and_an_early_discharge(staff: dict[Role, Member]) -> None:
    coordinator, nurse = staff[Role.COORDINATOR], staff[Role.NURSE]
    radiologist = staff[Role.RADIOLOGIST]
    coordinator.open_patient("JR-LEAK")
    coordinator.action("Start screening")
    radiologist.open_patient("JR-LEAK")
    radiologist.action("Accept")
    radiologist.confirm()
    expect(radiologist.state()).to_have_text("eligible")
    nurse.open_patient("JR-LEAK")
    _checklist(nurse, sedation=True, driver="Lia Driver", companion="Lou Companion")
    coordinator.open_patient("JR-LEAK")
    _insure_and_prepare(coordinator)
    _book_first_slot(coordinator)
    nurse.open_patient("JR-LEAK")
    nurse.action("Start procedure")
    radiologist.open_patient("JR-LEAK")
    started = _procedure(
        radiologist, ended_minutes_ago=10, levels=("L1",), leak="venous", complications="transient hypotension"
    )
    procedure = radiologist.page.locator("section[id$='-procedure']")
    expect(procedure.get_by_role("row").filter(has_text="L1")).to_contain_text("venous (symptomatic)")
    expect(procedure).to_contain_text("Complications: transient hypotension")
    report = radiologist.pdf("procedure-report")
    assert "Vertebroplasty, L1" in report
    assert "L1 bipedicular 3.5 no segmental vein; SYMPTOMATIC" in report
    assert "symptomatic leak" in report
    assert "transient hypotension" in report

    # NEWS2 in an escalation band, shown in words; the nurse's early discharge is refused with every reason
    nurse.open_patient("JR-LEAK")
    _observe(nurse, **{"Respiration rate (/min)": "25", "SpO₂ %": "91", "Heart rate (/min)": "118"})
    news2 = nurse.page.locator("td.news2").first
    expect(news2).to_contain_text("8")
    expect(news2).to_contain_text("high risk")
    expect(news2).to_contain_text("emergency response")
    for label in DISCHARGE_CRITERIA:
        nurse.page.get_by_label(label).check()
    nurse.page.get_by_label("Aldrete score").fill("10")
    nurse.page.get_by_label("Driver (name, confirmed present)").fill("Lia Driver")
    nurse.page.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    refused = nurse.page.get_by_role("alert").first
    expect(refused).to_contain_text("the plan is 180 minutes from the end of the procedure")
    expect(refused).to_contain_text("the last NEWS2 is 8 (high risk)")
    expect(nurse.state()).to_have_text("monitoring")
    nurse.shot("30-early-discharge-refused", axe=True)

    # the radiologist reviews and discharges with a written reason: audited, printed on the discharge sheet
    radiologist.open_patient("JR-LEAK")
    page = radiologist.page
    for label in DISCHARGE_CRITERIA:
        page.get_by_label(label).check()
    page.get_by_label("Aldrete score").fill("10")
    page.get_by_label("Driver (name, confirmed present)").fill("Lia Driver")
    page.get_by_label(re.compile("Radiologist's override")).fill(OVERRIDE)
    page.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    radiologist.confirm()
    expect(radiologist.state()).to_have_text("discharged")
    expect(page.locator("p.override")).to_contain_text(OVERRIDE)
    radiologist.shot("31-discharged-by-override", axe=True)
    sheet = radiologist.pdf("discharge")
    assert f'Your radiologist, jr.radiologist, decided this and wrote why: "{OVERRIDE}"' in sheet
    assert f"Your vertebroplasty: {long(started.date())}" in sheet

    # a complication after the procedure, recorded by the nurse
    nurse.open_patient("JR-LEAK")
    complications = nurse.page.locator("form[action$='/complications']")
    complications.get_by_label("Kind").select_option("symptomatic_cement_leak")
    complications.get_by_label("Serious").check()
    complications.get_by_label("Notes").fill("venous leak at L1: chest CT, no embolism")
    complications.get_by_role("button", name="Record complication").click()
    expect(nurse.page.locator("section[id$='-complications']")).to_contain_text("symptomatic cement leak (serious)")


def test_fhir_and_the_registry_follow_the_signed_records(staff: dict[Role, Member]) -> None:
    """After the journeys above (in this module's order): FHIR and the registry take only signed records."""
    radiologist, lead = staff[Role.RADIOLOGIST], staff[Role.SERVICE_LEAD]
    ids = {}
    for identifier in ("JR-SINGLE", "JR-STAGED", "JR-LEAK"):
        radiologist.open_patient(identifier)
        ids[identifier] = radiologist.patient_id()

    # the signed single-level record: one completed Procedure (vertebroplasty, L1, the operator), the booking fulfilled
    single = radiologist.get_json(f"/fhir/Patient/{ids['JR-SINGLE']}/$everything")
    resources = [e["resource"] for e in single.get("entry", [])]
    (procedure,) = [r for r in resources if r["resourceType"] == "Procedure"]
    assert procedure["status"] == "completed"
    assert procedure["code"]["coding"][0]["display"] == "Percutaneous vertebroplasty"
    assert [c["code"] for site in procedure["bodySite"] for c in site["coding"]] == ["L1"]
    assert procedure["performer"][0]["actor"]["display"] == USERS[Role.RADIOLOGIST]
    (appointment,) = [r for r in resources if r["resourceType"] == "Appointment"]
    assert appointment["status"] == "fulfilled"

    leak = radiologist.get_json(f"/fhir/Procedure?patient={ids['JR-LEAK']}")
    assert [e["resource"]["status"] for e in leak["entry"]] == ["completed"]
    leak_booking = radiologist.get_json(f"/fhir/Appointment?patient={ids['JR-LEAK']}")
    assert [e["resource"]["status"] for e in leak_booking["entry"]] == ["fulfilled"]

    # the staged patient's first session has a draft record only: no Procedure yet, the Appointment still booked
    staged = radiologist.get_json(f"/fhir/Procedure?patient={ids['JR-STAGED']}")
    assert staged["total"] == 0
    staged_booking = radiologist.get_json(f"/fhir/Appointment?patient={ids['JR-STAGED']}")
    assert [e["resource"]["status"] for e in staged_booking["entry"]] == ["booked"]

    # the registry counts the two signed procedures, not the draft; its drill-down opens
    page = lead.page
    page.goto(lead.base + "/registry")
    expect(page.locator("main")).to_contain_text("2 procedures in this cohort")
    operators = page.get_by_role("row").filter(has_text=USERS[Role.RADIOLOGIST]).first
    expect(operators).to_contain_text("2")
    lead.shot("40-registry", axe=True)
    drills = page.locator("a[href^='/registry/patients']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any("leak" in href for href in drills), drills
    for href in sorted(set(drills)):  # every drill-down opens (the leakage one opened an error page, issue 12)
        response = lead.context.request.get(lead.base + href)
        assert response.status == 200, (href, response.status)
    page.locator("a[href^='/registry/patients']").first.click()
    expect(page.get_by_role("heading", name="Patients behind a figure")).to_be_visible()
    expect(page.locator("main")).to_contain_text("JR-SINGLE")
    lead.shot("41-registry-patients")
