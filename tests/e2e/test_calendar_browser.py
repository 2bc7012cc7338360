"""The booking calendar in Debian's Chromium (issue 15 item 3, decision 0032): one time grid per room with each
booking's patient, levels and state; greyed starts that say why on hover and keyboard focus; booking a feasible
start for a case after a confirmation; moving a booking by dragging it, after a confirmation (and nothing moved
when the confirmation is declined). At 1366x900 and 390x844 (no horizontal overflow), each view checked with
axe-core's WCAG 2.1 A/AA rules and with no CSP message in the console. Screenshots go to
test-artifacts/calendar/."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect

from tests.e2e.serving import chromium, serve, staffed_database
from tests.integration.scheduling.conftest import COORDINATOR, POLICY, prepare
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e

AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "calendar"
PASSWORD = "correct horse battery"
USER = "cal.coordinator"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LABS = {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0}


def _weekday(on_or_after: dt.date) -> dt.date:
    while on_or_after.weekday() >= 5:
        on_or_after += dt.timedelta(days=1)
    return on_or_after


TODAY = dt.date.today()
EARLIEST = TODAY + dt.timedelta(days=5)  # apixaban: 3 whole days without it, the last dose after today
TOO_SOON = _weekday(TODAY + dt.timedelta(days=1))  # a working day before the earliest date
BOOKED_DAY = _weekday(TODAY + dt.timedelta(days=14))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, int]]]:
    """A server on a fresh SQLite database: four weeks of two rooms, a booked patient and one on apixaban."""
    ids: dict[str, int] = {}

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), TODAY, 28)
        ids["apixaban"] = prepare(
            uow, "CAL-APIX", patient={"name": "Alma Apixaban"}, medications=[{"name": "apixaban"}], labs=LABS
        )
        ids["booked"] = prepare(uow, "CAL-BOOKED", patient={"name": "Bea Booked"}, labs=LABS)
        start = dt.datetime.combine(BOOKED_DAY, dt.time(9, 0)).astimezone()
        workflow.book(
            uow, ids["booked"], room="Room 1", starts_at=start, actor=COORDINATOR, policy=POLICY, expected_version=None
        )

    url, secrets = staffed_database(tmp_path_factory.mktemp("calendar-e2e"), {Role.COORDINATOR: USER}, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets[Role.COORDINATOR], ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def signed_in(server: tuple[str, str, dict[str, int]], browser: Browser) -> tuple[Page, list[str]]:
    """The coordinator, signed in once, and what the console reported."""
    base, secret, _ = server
    page = browser.new_context(viewport=DESKTOP).new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    page.goto(base + "/login")
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(int(time.time())))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=15000)
    return page, problems


def _check(page: Page, name: str, problems: list[str]) -> None:
    """Keep a screenshot; no axe-core WCAG 2.1 A/AA violation, no CSP message, no horizontal overflow."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"
    assert [p for p in problems if "Content Security Policy" in p or "FullCalendar" in p] == []
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, f"{name}: wider than the screen"


def _long(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def test_the_calendar_shows_bookings_greys_out_with_reasons_books_and_moves(
    server: tuple[str, str, dict[str, int]], signed_in: tuple[Page, list[str]]
) -> None:
    base, _, ids = server
    page, problems = signed_in
    dialogs: list[str] = []

    # a week, Monday first, one time grid per room; the booking names the patient, the levels and the state
    page.goto(f"{base}/calendar?start={BOOKED_DAY.isoformat()}")
    booking = page.locator(".fc-host[data-room='Room 1'] .booking").first
    expect(booking).to_contain_text("Bea Booked")
    expect(booking).to_contain_text("scheduled")
    expect(booking).to_contain_text("09:00")
    expect(booking).not_to_contain_text("levels not recorded")
    expect(page.locator("#zone-note")).to_contain_text("Europe/London")
    expect(page.locator(".fc-host[data-room='Room 2']")).to_be_visible()
    expect(page.locator(".slot-fallback").first).to_be_hidden()  # the plain list's slots give way to the grid
    headers = page.locator(".fc-host[data-room='Room 1'] .fc-col-header-cell").all_inner_texts()
    assert headers[0].startswith("Mon"), headers
    _check(page, "01-week-desktop", problems)

    # a case on apixaban: the greyed starts say why, on focus and on hover, with the drug and the earliest date
    page.goto(f"{base}/calendar?case_id={ids['apixaban']}&view=day&start={TOO_SOON.isoformat()}")
    expect(page.locator("#earliest-start")).to_have_text(_long(EARLIEST))
    refused = page.locator(".fc-host .slot-refused").first
    expect(refused).to_be_visible()
    expect(page.locator(".fc-host .slot-bookable")).to_have_count(0)
    title = refused.get_attribute("title") or ""
    assert "apixaban" in title
    assert _long(EARLIEST) in title
    described = refused.get_attribute("aria-describedby")
    assert described
    expect(page.locator(f"#{described}")).to_contain_text("apixaban")
    page.keyboard.press("Tab")  # from the page into the grid: reach the first start with the keyboard
    refused.focus()
    expect(refused).to_be_focused()
    expect(page.locator("#slot-reason")).to_contain_text("apixaban")
    expect(page.locator("#slot-reason")).to_contain_text(_long(EARLIEST))
    page.keyboard.press("Enter")  # a greyed start cannot be booked: no confirmation is asked
    _check(page, "02-day-greyed-with-reason", problems)

    # the week of the earliest date: a feasible start is booked after a confirmation naming the patient
    page.goto(f"{base}/calendar?case_id={ids['apixaban']}&start={EARLIEST.isoformat()}")
    bookable = page.locator(".fc-host[data-room='Room 2'] .slot-bookable").first
    expect(bookable).to_be_visible()
    _check(page, "03-week-bookable", problems)

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    bookable.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert "Alma Apixaban" in dialogs[-1]
    assert "Room 2" in dialogs[-1]
    expect(page.locator(f"#case-{ids['apixaban']}-booking")).to_contain_text("Booked: Room 2")

    if EARLIEST.weekday() in (1, 2, 3, 4):  # the week of the earliest date has a working day before it
        # dragged to that Monday, confirmed: the server refuses, naming the drug and date; the booking stays
        page.goto(f"{base}/calendar?start={EARLIEST.isoformat()}")
        alma = page.locator(".fc-host[data-room='Room 2'] .booking", has_text="Alma Apixaban")
        expect(alma).to_be_visible()
        before = alma.inner_text()
        alma.scroll_into_view_if_needed()
        monday = page.locator(".fc-host[data-room='Room 2'] .fc-col-header-cell").first.bounding_box()
        box = alma.bounding_box()
        assert monday
        assert box
        page.once("dialog", accept)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 - 20, box["y"] + 20, steps=5)
        page.mouse.move(monday["x"] + monday["width"] / 2, box["y"] + 8, steps=10)
        page.mouse.up()
        expect(page.locator("#cal-error")).to_contain_text("apixaban")
        expect(page.locator("#cal-error")).to_contain_text(_long(EARLIEST))
        expect(alma).to_have_text(before)  # put back where it was
        page.reload()
        expect(page.locator(".fc-host[data-room='Room 2'] .booking", has_text="Alma Apixaban")).to_have_text(before)

    # drag a booking two hours later: declining the confirmation moves nothing, accepting moves it
    page.goto(f"{base}/calendar?view=day&start={BOOKED_DAY.isoformat()}")
    event = page.locator(".fc-host[data-room='Room 1'] .booking").first
    expect(event).to_contain_text("09:00")
    event.scroll_into_view_if_needed()

    def drag_to(hour: str) -> None:
        box = event.bounding_box()
        lane = page.locator(f".fc-host[data-room='Room 1'] td.fc-timegrid-slot-lane[data-time='{hour}']")
        target = lane.bounding_box()
        assert box
        assert target
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 30, steps=5)
        page.mouse.move(box["x"] + box["width"] / 2, target["y"] + 8, steps=10)
        page.mouse.up()

    def decline(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    drag_to("11:00:00")
    expect(page.locator("#cal-status")).to_have_text("Not moved.")
    assert "Bea Booked" in dialogs[-1]
    assert "11:00" in dialogs[-1]
    expect(event).to_contain_text("09:00")
    page.reload()
    expect(page.locator(".fc-host[data-room='Room 1'] .booking").first).to_contain_text("09:00")

    page.once("dialog", accept)
    drag_to("11:00:00")
    expect(page.get_by_role("status").first).to_contain_text("The booking was moved")
    moved = page.locator(".fc-host[data-room='Room 1'] .booking").first
    expect(moved).to_contain_text("11:00")
    expect(moved).to_contain_text("Bea Booked")
    _check(page, "04-day-moved", problems)


def test_the_calendar_fits_a_phone_and_works_with_the_keyboard(
    server: tuple[str, str, dict[str, int]], signed_in: tuple[Page, list[str]]
) -> None:
    base, _, ids = server
    page, problems = signed_in
    page.set_viewport_size(PHONE)
    try:
        page.goto(f"{base}/calendar?start={BOOKED_DAY.isoformat()}")
        expect(page.locator(".fc-host .booking").first).to_contain_text("Bea Booked")
        _check(page, "05-week-phone", problems)
        page.goto(f"{base}/calendar?case_id={ids['booked']}&view=day&start={TOO_SOON.isoformat()}")
        expect(page.locator(".fc-host .fc-event").first).to_be_visible()
        _check(page, "06-day-phone", problems)
        # the date picker and the view choice navigate without a pointer
        page.get_by_label("Go to date").fill(BOOKED_DAY.isoformat())
        page.get_by_label("Show").select_option("list")
        page.get_by_role("button", name="Go").click()
        expect(page.locator(f"#day-{BOOKED_DAY.isoformat()}")).to_be_visible()
        expect(page.locator(".day-bookings").first).to_contain_text("Bea Booked")
        _check(page, "07-list-phone", problems)
        page.get_by_role("link", name="Today").click()  # a weekend opens the coming working week
        monday = _weekday(TODAY) - dt.timedelta(days=_weekday(TODAY).weekday())
        expect(page.locator("#period")).to_contain_text(f"Week of Monday {monday.day} {monday:%B %Y}")
    finally:
        page.set_viewport_size(DESKTOP)
