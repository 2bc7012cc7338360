"""End-to-end in Debian's Chromium at phone size (390 x 844): a patient asks for an appointment, activates the
account, fills the intake partway, resumes in a new browser context, is assessed and booked by staff driving
the staff pages, sees the plan with the right dates, and after the procedure answers the 2-week questionnaire
and sees the chart. Every portal page is screenshot into test-artifacts/portal/ and checked with axe-core
(WCAG 2.1 A/AA); the request form is filled with the keyboard alone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from tests.e2e.serving import serve, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS, browser
from vertebro.education.dates import long_date
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import FollowUp

pytestmark = pytest.mark.e2e
_ = browser  # the module-scoped Chromium fixture, shared with the staff suite

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PHONE = {"width": 390, "height": 844}
STAFF_PASSWORD = "correct horse battery"
PATIENT_PASSWORD = "blue kettle morning walk"
USERS = {Role.COORDINATOR: "p2e.coordinator", Role.NURSE: "p2e.nurse", Role.RADIOLOGIST: "p2e.radiologist"}


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[Role, str]]]:
    """A real server in demo mode on a fresh SQLite database with staff accounts and a calendar."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 21)

    url, secrets = staffed_database(tmp_path_factory.mktemp("portal-e2e"), USERS, STAFF_PASSWORD, fill)
    with serve(url, VERTEBRO_DEMO_MODE="true") as base:
        yield base, url, secrets


def shot(page: Page, name: str) -> None:
    """Keep a phone-width screenshot and check the page against axe-core's WCAG 2.1 A/AA rules."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"
    footer = page.locator("footer").inner_text()
    assert "does not replace your own doctor or nurse" in footer, f"{name}: no disclaimer"


def phone(browser: Browser) -> tuple[BrowserContext, Page]:
    """A new phone-sized browser context (no cookies from any other)."""
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    return context, context.new_page()


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def staff_page(browser: Browser, base: str, role: Role, secret: str) -> Page:
    """Sign a member of staff in, in their own desktop-sized context."""
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(base + "/login")
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


def open_patient(page: Page, base: str, reference: str) -> None:
    """Find the patient by reference number in the worklist and open the chart."""
    page.goto(base + "/")
    page.get_by_label("Search by name or identifier").fill(reference)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()


def request_with_keyboard(page: Page) -> None:
    """Fill and send the request form with the keyboard alone (Tab, typing, arrows, Space, Enter)."""
    today = dt.date.today()
    since = today - dt.timedelta(weeks=5)
    tab_to(page, "#name")
    page.keyboard.type("Rosa Phone")
    tab_to(page, "#birth_date")
    page.keyboard.type("03141946")  # month, day, year in the en-US date field
    tab_to(page, "input[name=sex]")
    page.keyboard.press("Space")  # the first choice: female
    tab_to(page, "#email")
    page.keyboard.type("rosa@example.org")
    tab_to(page, "#referring_doctor")
    page.keyboard.type("Dr Grey, Elm Street Practice")
    tab_to(page, "input[name=where_it_hurts]")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # to 'Lower back'
    tab_to(page, "#pain_since")
    page.keyboard.type(since.strftime("%m%d%Y"))
    tab_to(page, "#levels")
    page.keyboard.type("L1")
    tab_to(page, "input[name=pain_now]")
    for _ in range(8):
        page.keyboard.press("ArrowRight")  # 0 -> 8
    tab_to(page, "form.form button[type=submit]")
    page.keyboard.press("Enter")


def test_patient_portal_from_request_to_the_two_week_chart(
    portal_server: tuple[str, str, dict[Role, str]], browser: Browser
) -> None:
    base, db_url, secrets = portal_server

    # Reading: home, the information pages, the word list
    context, page = phone(browser)
    page.goto(base + "/portal")
    shot(page, "01-home")
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Information").click()
    shot(page, "02-information")
    page.get_by_role("link").filter(has_text="vertebroplasty").first.click()
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    shot(page, "03-information-page")
    page.goto(base + "/portal/info/glossary.html")
    shot(page, "04-word-list")

    # Asking for an appointment: a mistake first, explained next to the field, nothing typed lost
    page.goto(base + "/portal/request")
    shot(page, "05-request")
    page.get_by_label("Your full name").fill("Rosa Phone")
    page.get_by_label("The bone, as written on the report").fill("lower back")
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#levels-error")).to_contain_text("for example L1 or T12")
    expect(page.get_by_label("Your full name")).to_have_value("Rosa Phone")
    expect(page.get_by_label("The bone, as written on the report")).to_have_value("lower back")
    shot(page, "06-request-mistakes")
    page.goto(base + "/portal/request")
    request_with_keyboard(page)
    expect(page.get_by_role("heading", name="We have your request")).to_be_visible()
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"VB-[A-Z2-9]{6}", reference)
    shot(page, "07-request-received")

    page.get_by_role("link", name="Set my password").click()
    shot(page, "08-set-password")
    page.get_by_label("New password", exact=True).fill(PATIENT_PASSWORD)
    page.get_by_label("The same password again").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page.get_by_role("heading", name="My page")).to_be_visible()
    expect(page.locator("li[aria-current=step]")).to_contain_text("Request received")
    shot(page, "09-my-page")

    # The request is in the staff worklist at once, in the first state of the path
    coordinator = staff_page(browser, base, Role.COORDINATOR, secrets[Role.COORDINATOR])
    coordinator.goto(base + "/?state=requested")
    expect(coordinator.get_by_role("table")).to_contain_text(reference)

    # Intake, step by step: step 1 carries the request over; step 2 saved with a mistake
    page.get_by_role("link", name="Fill in your questionnaire").click()
    expect(page.locator("#step-count")).to_have_text("Step 1 of 7")
    expect(page.locator("[aria-current=step]")).to_have_text("Your pain")
    expect(page.locator("input[name=pain_now][value='8']")).to_be_checked()
    page.get_by_role("group", name="Since it started, is it").get_by_label("About the same").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#step-count")).to_have_text("Step 2 of 7")
    page.get_by_label("Painkillers").check()
    page.get_by_label("For how many weeks, in total?").fill("five")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#tried_weeks-error")).to_contain_text("whole number")
    expect(page.get_by_label("For how many weeks, in total?")).to_have_value("five")
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_role("status")).to_contain_text("Your answers are saved")
    expect(page.get_by_label("For how many weeks, in total?")).to_have_value("five")
    shot(page, "10-intake-saved-with-a-mistake")
    context.close()

    # Resume in a new browser context: sign in, the draft is there, at the step left unfinished
    context, page = phone(browser)
    page.goto(base + "/portal/login")
    shot(page, "11-sign-in")
    page.get_by_label("Reference number or e-mail address").fill(reference.lower())
    page.get_by_label("Password").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Carry on with your questionnaire").click()
    expect(page.locator("#step-count")).to_have_text("Step 2 of 7")
    expect(page.get_by_label("For how many weeks, in total?")).to_have_value("five")
    expect(page.get_by_label("Painkillers")).to_be_checked()
    page.get_by_label("For how many weeks, in total?").fill("5")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("group", name="Do you take a medicine that thins the blood?").get_by_label("Yes").check()
    for question in ("bone cement", "contrast dye", "latex"):
        page.get_by_role("group", name=re.compile(question)).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Warfarin (Coumadin, Jantoven)").check()  # asked once the patient said yes
    shot(page, "12-intake")
    page.get_by_role("button", name="Continue").click()
    # a woman of 80 is not asked about pregnancy (the pregnancy screen of the plan does not apply)
    expect(page.get_by_role("group", name="Are you pregnant, or could you be?")).to_have_count(0)
    page.get_by_role("button", name="Continue").click()
    for section in range(1, 11):
        page.locator(f"input[name=odi-{section}][value='2']").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#step-count")).to_have_text("Step 7 of 7")
    expect(page.locator("main")).to_contain_text("Warfarin (Coumadin, Jantoven)")
    shot(page, "12a-intake-review")
    page.get_by_role("button", name="Send to the team").click()
    expect(page.get_by_role("status")).to_contain_text("your answers are with the team")
    page.get_by_role("link", name="Questionnaire sent").click()
    expect(page.locator("dl.told")).to_contain_text("Warfarin (Coumadin, Jantoven)")
    shot(page, "12b-intake-sent")
    page.goto(base + "/portal/me")

    # Staff assess and book through the staff pages
    coordinator_start = coordinator
    open_patient(coordinator_start, base, reference)
    coordinator_start.get_by_role("button", name="Start screening", exact=True).click()
    radiologist = staff_page(browser, base, Role.RADIOLOGIST, secrets[Role.RADIOLOGIST])
    open_patient(radiologist, base, reference)
    facts = radiologist.locator("form[action$='/facts']").first
    facts.get_by_label("Cause").select_option("osteoporotic")
    facts.get_by_label("Date of the MRI or bone scan").fill(dt.date.today().isoformat())
    facts.get_by_label("MRI oedema").select_option("yes")
    facts.get_by_role("button", name="Save L1 and re-assess").click()
    radiologist.wait_for_url(re.compile(r"done=facts"))
    # The safety facts the portal cannot settle are recorded by staff, each an explicit yes or no
    safety = radiologist.locator("form[action$='/safety-facts']")
    for label in (
        "In hospital now (inpatient)",
        "Fever",
        "Active infection (local or systemic)",
        "Cancer, now or in the past",
        "Neurological deficit",
        "Coagulopathy that cannot be corrected",
    ):
        safety.get_by_label(label, exact=True).select_option("no")
    safety.get_by_label("Allergies", exact=True).select_option("none")
    safety.get_by_role("button", name="Save safety facts and re-assess").click()
    expect(radiologist.get_by_text("Every safety fact is recorded.")).to_be_visible()
    radiologist.get_by_role("button", name="Accept", exact=True).click()
    radiologist.get_by_role("button", name=re.compile(r"^Yes, accept case")).click()  # the confirmation page
    expect(radiologist.locator(".state").first).to_have_text("eligible")
    nurse = staff_page(browser, base, Role.NURSE, secrets[Role.NURSE])
    open_patient(nurse, base, reference)
    # warfarin has no hold date until its thrombotic risk is recorded (decision 0016)
    decision = nurse.locator("form[action$='/medications/decision']").first
    decision.get_by_label(re.compile("thrombotic risk")).select_option("low")
    decision.get_by_role("button", name=re.compile("Record the decision")).click()
    expect(nurse.locator("form[action$='/medications/decision']")).to_have_count(0)  # nothing waits any more
    for label in ("Medication list reviewed", "Holds and restart dates explained", "Allergies reviewed"):
        nurse.get_by_label(label).check()
    nurse.get_by_label("Arrival time (15 minutes early) told").check()
    nurse.locator("form[action$='/checklist']").get_by_label("Sedation planned").select_option("no")
    nurse.get_by_label("INR").fill("1.1")
    nurse.get_by_label("Platelets (x 10^9/L)").fill("240")
    nurse.get_by_label("Labs taken on").fill(dt.date.today().isoformat())
    nurse.get_by_role("button", name="Save checklist").click()
    expect(nurse.get_by_text("Checklist complete.")).to_be_visible()
    shot_staff = nurse  # the staff chart with the fields portal cases need passes axe too
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    violations = AXE.run(shot_staff, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}).response["violations"]
    assert not violations, [(v["id"], v["nodes"][0]["target"]) for v in violations]
    open_patient(coordinator, base, reference)
    coordinator.get_by_label("Pre-approval").select_option("self_pay")
    coordinator.get_by_role("button", name="Save insurance").click()
    coordinator.get_by_role("button", name="Complete preparation", exact=True).click()
    expect(coordinator.locator(".state").first).to_have_text("prepared")
    coordinator.get_by_role("link", name="Choose a slot in the calendar").click()
    coordinator.get_by_role("link", name="Next week").click()
    # the calendar's grid (decision 0032): a bookable start is a button; booking asks for a confirmation
    slot = coordinator.locator(".fc-host[data-room='Room 1'] .slot-bookable").first
    booked = slot.get_attribute("data-start") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00", booked), booked
    coordinator.once("dialog", lambda dialog: dialog.accept())
    slot.click()
    expect(coordinator.locator(".state").first).to_have_text("scheduled")
    start = dt.datetime.fromisoformat(booked)
    procedure_day = start.date()
    arrival = start - dt.timedelta(minutes=15)

    # The patient sees the appointment (arrive 15 minutes early) and the plan with their own dates
    page.goto(base + "/portal/me")
    clock = f"{arrival.hour % 12 or 12}:{arrival.minute:02d} {'am' if arrival.hour < 12 else 'pm'}"
    expect(page.locator("#appointment")).to_contain_text(  # one format, the clinic's zone named (decision 0026)
        re.compile(rf"{clock} (GMT|BST) on {long_date(arrival.date())}")
    )
    expect(page.locator("li[aria-current=step]")).to_contain_text("Booked")
    shot(page, "13-my-page-booked")
    page.get_by_role("link", name="Your preparation and aftercare plan").click()
    last_dose = procedure_day - dt.timedelta(days=6)  # ASRA 2018 warfarin hold (as in test_workflow)
    expect(page.locator("li.medicine")).to_contain_text(f"Warfarin: take your last dose on {long_date(last_dose)}")
    shot(page, "14-plan")
    pdf = context.request.get(
        base + page.get_by_role("link", name=re.compile("preparation plan")).get_attribute("href")
    )
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"

    # The day, discharge and follow-up, by staff
    open_patient(nurse, base, reference)
    nurse.get_by_role("button", name="Start procedure", exact=True).click()
    open_patient(radiologist, base, reference)
    radiologist.get_by_label("Approach").select_option("bipedicular")
    radiologist.get_by_label("Cement product").fill("Reference PMMA")
    radiologist.get_by_label("Cement volume (mL)").fill("4")
    now = dt.datetime.now().replace(second=0, microsecond=0)
    radiologist.get_by_label(re.compile(r"^Started \(clinic time, ")).fill(
        (now - dt.timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M")
    )
    radiologist.get_by_label("Ended").fill(now.strftime("%Y-%m-%dT%H:%M"))
    radiologist.get_by_label("Fluoroscopy time (min)").fill("3")
    radiologist.get_by_label("Reference air kerma (mGy)").fill("90")
    radiologist.get_by_label("Reason, if done on another day than booked").fill("brought forward for the test")
    radiologist.get_by_role("button", name="Save and sign").click()
    expect(radiologist.locator(".state").first).to_have_text("monitoring")
    # The planned monitoring has not passed: the radiologist discharges with a written reason.
    for criterion in (
        "Neurological exam at baseline",
        "Walking as before",
        "Pain not above baseline",
        "Eating and drinking",
    ):
        radiologist.get_by_label(criterion).check()
    radiologist.get_by_label(re.compile("Radiologist's override")).fill("observed throughout; stable, going home now")
    radiologist.get_by_role("button", name="Discharge and issue the aftercare plan").click()
    radiologist.get_by_role("button", name=re.compile(r"^Yes, discharge case")).click()  # the confirmation page
    expect(radiologist.locator(".state").first).to_have_text("discharged")
    open_patient(nurse, base, reference)
    nurse.get_by_role("button", name="Start follow up", exact=True).click()
    expect(nurse.locator(".state").first).to_have_text("follow up")

    engine = make_engine(db_url)  # two weeks pass: the 2-week questionnaire opens today
    with UnitOfWork(make_session_factory(engine)) as uow:
        uow.session.execute(update(FollowUp).where(FollowUp.visit == "2w").values(due_from=dt.date.today()))
        uow.commit()
    engine.dispose()

    page.goto(base + "/portal/me")
    page.get_by_role("link", name="Answer your 2-week questionnaire").click()
    shot(page, "15-two-week-questionnaire")
    page.locator("input[name=pain_now][value='3']").check()
    for section in range(1, 11):
        page.locator(f"input[name=odi-{section}][value='1']").check()
    page.get_by_role("button", name="Send to the team").click()
    expect(page.get_by_role("heading", name="Your pain and daily life over time")).to_be_visible()
    expect(page.locator("figcaption").first).to_contain_text("Before: 8; After 2 weeks: 3.")
    expect(page.get_by_role("img", name=re.compile("Pain"))).to_be_visible()
    shot(page, "16-progress")

    # Another case id is not this patient's: a plain 'not found' page
    page.goto(base + "/portal/cases/999999/plan")
    expect(page.get_by_role("heading", name="We could not find this page")).to_be_visible()
    shot(page, "17-not-found")
    context.close()
