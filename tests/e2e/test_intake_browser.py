"""The stepped intake in Debian's Chromium on a 390 x 844 phone (decision 0036): a patient who does not know the
fractured level asks for an appointment, then fills the intake step by step: the progress is shown, a question
appears only after the answer that makes it apply, the review lists every answer and the answers are sent.
Every page is checked with axe-core (WCAG 2.1 A/AA), for CSP messages in the console and for horizontal
overflow; screenshots go to test-artifacts/portal/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.serving import serve, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS, browser
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e
_ = browser  # the module-scoped Chromium fixture, shared with the staff suite

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
PATIENT_PASSWORD = "seven short steps to send"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server in demo mode (activation link on screen, demo questionnaires) on a fresh SQLite database."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1",), dt.date.today() + dt.timedelta(days=1), 7)

    url, _secrets = staffed_database(
        tmp_path_factory.mktemp("intake-e2e"), {Role.COORDINATOR: "intake.coordinator"}, PASSWORD, fill
    )
    with serve(url, VERTEBRO_DEMO_MODE="true") as base:
        yield base


class Checked:
    """A phone page whose console is collected; ``check`` runs axe, the overflow and the CSP checks."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"{page.url}: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{self.page.url}: {message.text}")

    def check(self, name: str) -> None:
        """Screenshot, axe-core clean, no wider than the phone, no CSP message so far."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"intake-{name}.png"), full_page=True)
        result = AXE.run(self.page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
        assert not violations, f"{name}: {violations}"
        width = self.page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width} px wide"
        csp = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        assert csp == [], name
        assert "does not replace your own doctor or nurse" in self.page.locator("footer").inner_text()


def _progress(page: Page, number: int, title: str) -> None:
    expect(page.locator("#step-count")).to_have_text(f"Step {number} of 7")
    expect(page.locator("[aria-current=step]")).to_have_text(title)
    if number < 7:
        expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_patient_without_the_level_fills_the_intake_step_by_step(server: str, browser: Browser) -> None:
    base = server
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    checked = Checked(context.new_page())
    page = checked.page

    # The request: the patient does not know which bone is broken, and says so
    page.goto(base + "/portal/request")
    page.get_by_label("Your full name").fill("Lena Nolevel")
    page.get_by_label("Date of birth").fill("1949-07-21")
    page.get_by_role("group", name=re.compile("^Sex")).get_by_label("Female").check()
    page.get_by_label("E-mail address").fill("lena@example.org")
    page.get_by_label("Doctor who sent you").fill("Dr Grey, Elm Street Practice")
    page.get_by_role("group", name=re.compile("Where does it hurt most")).get_by_label("Lower back").check()
    page.get_by_label("When did this pain start?").fill((dt.date.today() - dt.timedelta(weeks=4)).isoformat())
    page.get_by_label("I don't know which bone it is").check()
    page.locator("input[name=pain_now][value='7']").check()
    checked.check("01-request-level-unknown")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="We have your request")).to_be_visible()
    page.get_by_role("link", name="Set my password").click()
    page.get_by_label("New password", exact=True).fill(PATIENT_PASSWORD)
    page.get_by_label("The same password again").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Set password and continue").click()
    page.get_by_role("link", name="Fill in your questionnaire").click()

    # Step 1: the pain, carried over from the request; a missing answer is named, the typed ones kept
    _progress(page, 1, "Your pain")
    expect(page.locator("input[name=pain_now][value='7']")).to_be_checked()
    expect(page.get_by_label("Lower back")).to_be_checked()
    checked.check("02-step-1")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#pain_course-error")).to_contain_text("please answer this question")
    expect(page.locator(".error-summary a[href='#pain_course']")).to_be_visible()
    expect(page.locator("input[name=pain_now][value='7']")).to_be_checked()
    checked.check("03-step-1-problem")
    page.get_by_role("group", name="Since it started, is it").get_by_label("Getting worse").check()
    page.get_by_role("button", name="Continue").click()

    # Step 2, then back to step 1 and forward again without losing what was typed
    _progress(page, 2, "What you have tried")
    page.get_by_label("Painkillers").check()
    page.get_by_label("For how many weeks, in total?").fill("4")
    page.get_by_role("button", name="Back", exact=True).click()
    _progress(page, 1, "Your pain")
    page.get_by_role("button", name="Continue").click()
    _progress(page, 2, "What you have tried")
    expect(page.get_by_label("For how many weeks, in total?")).to_have_value("4")
    expect(page.get_by_label("Painkillers")).to_be_checked()
    page.get_by_role("button", name="Continue").click()

    # Step 3: the blood thinners are asked one by one only after "Yes"
    _progress(page, 3, "Medicines and allergies")
    expect(page.get_by_label("Apixaban (Eliquis)")).to_have_count(0)
    checked.check("04-step-3")
    page.get_by_role("group", name="Do you take a medicine that thins the blood?").get_by_label("Yes").check()
    for question in ("bone cement", "contrast dye", "latex"):
        page.get_by_role("group", name=re.compile(question)).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    _progress(page, 3, "Medicines and allergies")
    expect(page.get_by_role("status")).to_contain_text("another question below")
    page.get_by_label("Apixaban (Eliquis)").check()
    checked.check("05-step-3-blood-thinners-asked")
    page.get_by_role("button", name="Continue").click()

    # Step 4: no pregnancy question for a woman of 77
    _progress(page, 4, "Other conditions")
    expect(page.get_by_role("group", name="Are you pregnant, or could you be?")).to_have_count(0)
    page.get_by_label("Lung or breathing problems, or breathless when lying flat").check()
    checked.check("06-step-4")
    page.get_by_role("button", name="Continue").click()

    # Step 5: daily life (the demo questionnaires)
    _progress(page, 5, "Your daily life")
    for section in range(1, 11):
        page.locator(f"input[name=odi-{section}][value='2']").check()
    page.get_by_role("button", name="Continue").click()

    # Step 6: the day; the overnight companion is asked only after sedation is wished
    _progress(page, 6, "Practical arrangements")
    expect(page.get_by_role("group", name=re.compile("stay with you for the 12 hours"))).to_have_count(0)
    page.get_by_role("group", name=re.compile("Would you like that")).get_by_label(
        "Yes, I would like medicine to help me relax"
    ).check()
    page.get_by_role("group", name=re.compile("can an adult take you home")).get_by_label("Yes").check()
    page.get_by_role("button", name="Continue").click()
    overnight = page.get_by_role("group", name=re.compile("stay with you for the 12 hours"))
    expect(overnight).to_be_visible()
    overnight.get_by_label("Yes").check()
    checked.check("07-step-6-companion-asked")
    page.get_by_role("button", name="Continue").click()

    # Step 7: the review lists every answer with a way to change it, then sends
    _progress(page, 7, "Check and send")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before you send them")
    review = page.locator("main")
    for text in ("7 out of 10", "Getting worse", "Apixaban (Eliquis)", "Lung or breathing problems", "10 of 10"):
        expect(review).to_contain_text(text)
    expect(page.get_by_role("link", name=re.compile("^Change"))).to_have_count(page.locator("dl.review dt").count())
    checked.check("08-review")
    page.get_by_role("link", name="Change treatments tried").click()
    _progress(page, 2, "What you have tried")
    page.get_by_label("For how many weeks, in total?").fill("6")
    page.get_by_role("button", name="Save and go back to the check page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers before you send them")
    expect(page.locator("#tried_weeks-row")).to_contain_text("6")
    page.get_by_role("button", name="Send to the team").click()
    expect(page.get_by_role("status")).to_contain_text("your answers are with the team")
    checked.check("09-sent")
    context.close()
