"""Booking is safe, in Debian's Chromium: the calendar greys out the slots before an apixaban hold can be
completed and names the drug and the earliest date; cancelling asks for a reason and a confirmation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.serving import chromium, serve, staffed_database
from tests.e2e.test_staff_browser import PASSWORD, ROLES, Staff
from tests.integration.scheduling.conftest import COORDINATOR, POLICY, prepare
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork

pytestmark = pytest.mark.e2e
REASON = "The patient has a chest infection; rebook after antibiotics."


def _weekday(on_or_after: dt.date) -> dt.date:
    while on_or_after.weekday() >= 5:
        on_or_after += dt.timedelta(days=1)
    return on_or_after


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str], dict[str, int]]]:
    """A server on a fresh SQLite database: the calendar, a prepared patient on apixaban and a booked patient."""
    ids: dict[str, int] = {}

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today() + dt.timedelta(days=1), 21)
        ids["apixaban"] = prepare(
            uow,
            "BOOK-APIX",
            medications=[{"name": "apixaban"}],
            labs={"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0},
        )
        ids["booked"] = prepare(uow, "BOOK-CANCEL")
        start = dt.datetime.combine(_weekday(dt.date.today() + dt.timedelta(days=7)), dt.time(9, 0)).astimezone()
        workflow.book(
            uow, ids["booked"], room="Room 2", starts_at=start, actor=COORDINATOR, policy=POLICY, expected_version=None
        )

    url, secrets = staffed_database(tmp_path_factory.mktemp("booking-e2e"), ROLES, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets, ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


def test_a_refused_slot_shows_the_drug_and_the_earliest_date_and_cancelling_asks_reason_and_confirmation(
    server: tuple[str, dict[Role, str], dict[str, int]], browser: Browser
) -> None:
    base, secrets, ids = server
    coordinator = Staff(browser, base, Role.COORDINATOR, secrets[Role.COORDINATOR]).sign_in()
    page = coordinator.page
    earliest = dt.date.today() + dt.timedelta(days=5)
    earliest_text = f"{earliest:%A} {earliest.day} {earliest:%B %Y}"

    tomorrow = dt.date.today() + dt.timedelta(days=1)
    # the list view (the page as it works without JavaScript; the grid is tested in test_calendar_browser.py)
    page.goto(f"{base}/calendar?case_id={ids['apixaban']}&start={tomorrow.isoformat()}&view=list")
    expect(page.locator("#earliest-start")).to_have_text(earliest_text)
    expect(page.locator(".constraints")).to_contain_text("apixaban")
    refused = page.locator(".too-early").first
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("too early for this case")
    title = refused.get_attribute("title") or ""
    assert "apixaban" in title
    assert earliest_text in title
    for value in page.locator("input[name='starts_at']").evaluate_all("els => els.map(e => e.value)"):
        assert dt.datetime.fromisoformat(value).date() >= earliest
    coordinator.shot("booking-01-calendar-too-early")

    coordinator.open_patient("BOOK-CANCEL")
    section = page.locator(f"#case-{ids['booked']}-booking")
    expect(section).to_contain_text("Booked: Room 2")
    cancel = section.get_by_role("button", name="Cancel booking")
    cancel.click()  # no reason, no confirmation: the browser keeps the form (required fields), nothing is posted
    expect(page.locator(".state").first).to_have_text("scheduled")
    section.get_by_label("Reason for cancelling (required)").fill(REASON)
    cancel.click()  # still not confirmed
    expect(page.locator(".state").first).to_have_text("scheduled")
    coordinator.shot("booking-02-cancel-form")
    section.get_by_label("Yes, cancel this booking and free its slot").check()
    cancel.click()
    expect(page.locator(".state").first).to_have_text("prepared")
    expect(page.locator(".timeline")).to_contain_text("cancel")
    coordinator.shot("booking-03-cancelled")
