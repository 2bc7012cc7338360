"""Secure messages in Debian's Chromium (decision 0035): a patient on a phone (390 x 844) writes to the team (a
mistake first, shown next to the field with what was typed kept), a nurse on a desktop sees the unread count in
the navigation, assigns the conversation to herself and answers; the patient sees the new reply marked and reads
it. Every page is checked with axe-core (WCAG 2.1 A/AA) and screenshot into test-artifacts/messages/; no page
reports a Content Security Policy violation, and the staff inbox does not overflow a 390 px screen. The admin's
clinic settings page is checked the same way."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.serving import serve, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS, browser
from tests.integration.web.portal_helpers import request_form
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e
_ = browser  # the module-scoped Chromium fixture, shared with the staff suite

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "messages"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
STAFF_PASSWORD = "correct horse battery"
PATIENT_PASSWORD = "green teapot evening stroll"
USERS = {Role.NURSE: "msg.nurse", Role.ADMIN: "msg.admin"}
QUESTION = "Can I take paracetamol the night before? It helps me sleep."
ANSWER = "Yes, paracetamol is fine the night before. Bring the box with you."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str]]]:
    """A real server in demo mode on a fresh SQLite database with a nurse, an admin and a calendar."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 7)

    url, secrets = staffed_database(tmp_path_factory.mktemp("messages-e2e"), USERS, STAFF_PASSWORD, fill)
    with serve(url, VERTEBRO_DEMO_MODE="true") as base:
        yield base, secrets


def watch(page: Page, problems: list[str]) -> Page:
    """Collect the page's console errors and warnings (a CSP violation is reported there)."""

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return page


def check(page: Page, name: str) -> None:
    """Keep a screenshot and check the page against axe-core's WCAG 2.1 A/AA rules and for horizontal overflow."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{name}: {width} px wide on a {viewport['width']} px screen"


def staff_signed_in(browser: Browser, base: str, role: Role, secret: str, problems: list[str]) -> Page:
    """Sign a member of staff in, in their own desktop-sized context."""
    page = watch(browser.new_context(viewport=DESKTOP).new_page(), problems)
    page.goto(base + "/login")
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=15000)
    return page


def activation_link(base: str) -> str:
    """Ask for an appointment (the demo shows the one-time link on screen) and return the link."""
    answer = httpx.post(base + "/portal/request", data=request_form(name="Mina Phone", email="mina@example.org"))
    assert answer.status_code == 200, answer.text
    found = re.search(r'id="activation-link" href="[^"]*(/portal/activate/[^"]+)"', answer.text)
    assert found, answer.text[:1000]
    return base + found.group(1)


def test_patient_writes_on_a_phone_and_the_nurse_answers_from_the_inbox(
    server: tuple[str, dict[Role, str]], browser: Browser
) -> None:
    base, secrets = server
    problems: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    patient = watch(context.new_page(), problems)
    patient.goto(activation_link(base))
    patient.get_by_label("New password", exact=True).fill(PATIENT_PASSWORD)
    patient.get_by_label("The same password again").fill(PATIENT_PASSWORD)
    patient.get_by_role("button", name="Set password and continue").click()
    expect(patient.get_by_role("heading", name="My page")).to_be_visible()

    patient.get_by_role("navigation", name="Portal").get_by_role("link", name="Messages").click()
    expect(patient.get_by_role("heading", name="Messages with the team")).to_be_visible()
    expect(patient.locator("#not-for-emergencies")).to_contain_text("not for emergencies")
    check(patient, "01-patient-messages")
    patient.get_by_role("link", name="Write to the team").click()
    patient.get_by_label("Subject").fill("Paracetamol before the procedure")
    patient.get_by_role("button", name="Send to the team").click()
    expect(patient.locator(".error-summary")).to_contain_text("Write your message")
    expect(patient.get_by_label("Subject")).to_have_value("Paracetamol before the procedure")
    check(patient, "02-patient-message-mistake")
    patient.get_by_label("Your message").fill(QUESTION)
    patient.get_by_role("button", name="Send to the team").click()
    expect(patient.get_by_role("status")).to_contain_text("Your message is with the team")
    expect(patient.locator(".thread")).to_contain_text(QUESTION)
    check(patient, "03-patient-message-sent")

    nurse = staff_signed_in(browser, base, Role.NURSE, secrets[Role.NURSE], problems)
    inbox_link = nurse.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Inbox"))
    expect(inbox_link).to_contain_text("1")
    inbox_link.click()
    expect(nurse.get_by_role("table")).to_contain_text("Mina Phone")
    check(nurse, "04-staff-inbox")
    nurse.get_by_role("link", name="Paracetamol before the procedure").click()
    nurse.get_by_label("Assign to").select_option("me")
    nurse.get_by_role("button", name="Assign").click()
    expect(nurse.get_by_role("status")).to_contain_text("assigned")
    nurse.get_by_label("Reply to the patient").fill(ANSWER)
    nurse.get_by_role("button", name="Send the reply").click()
    expect(nurse.get_by_role("status")).to_contain_text("Your reply is sent")
    expect(nurse.locator(".thread")).to_contain_text(ANSWER)
    check(nurse, "05-staff-thread")
    nurse.set_viewport_size(PHONE)
    for path in ("/inbox", nurse.url.replace(base, "").split("?")[0]):
        nurse.goto(base + path)
        check(nurse, f"06-staff-phone-{'inbox' if path == '/inbox' else 'thread'}")

    patient.goto(base + "/portal/me")
    badge = patient.get_by_role("navigation", name="Portal").get_by_role("link", name=re.compile("^Messages"))
    expect(badge).to_contain_text("1")
    badge.click()
    expect(patient.locator(".threads")).to_contain_text("New reply")
    patient.get_by_role("link", name="Paracetamol before the procedure").click()
    expect(patient.locator(".thread")).to_contain_text(ANSWER)
    check(patient, "07-patient-reads-the-reply")
    patient.goto(base + "/portal/messages")
    expect(patient.locator(".threads")).not_to_contain_text("New reply")

    admin = staff_signed_in(browser, base, Role.ADMIN, secrets[Role.ADMIN], problems)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic settings").click()
    admin.get_by_label("Time zone").fill("Mars/Olympus")
    admin.get_by_role("button", name="Save the clinic settings").click()
    expect(admin.locator(".error-summary")).to_contain_text("is not a time zone name")
    check(admin, "08-admin-clinic-settings-mistake")
    context.close()

    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert csp == []
