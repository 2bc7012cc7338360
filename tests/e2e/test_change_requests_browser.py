"""A patient's request to move the appointment, answered by the coordinator from the chart in Debian's Chromium
(decision 0040, hazard H126): the open request is a warning above the stages with its small form; the coordinator
picks the outcome, types a note and records it; the success message says so, the warning is gone and the answer is
in the collapsed history. The worklist marks the case until then. Checked with axe-core (WCAG 2.1 A/AA), with no
console error; screenshots go to test-artifacts/change-requests/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import serve, signed_in_page, staffed_database
from tests.e2e.test_booking_browser import _weekday
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS, browser
from tests.integration.scheduling.conftest import COORDINATOR, POLICY, prepare
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AppointmentChangeRequest

pytestmark = pytest.mark.e2e
_ = browser  # the module-scoped Chromium fixture, shared with the staff suite

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "change-requests"
PASSWORD = "correct horse battery"
USER = "chg.coordinator"
LABS = {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0}
WISH = "My daughter cannot drive me that day."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, int]]]:
    """A server on a fresh SQLite database: a booked case whose patient asked (from the portal) to move it."""
    ids: dict[str, int] = {}

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today(), 28)
        case_id = prepare(uow, "CHG-1", patient={"name": "Mira Moving"}, labs=LABS)
        start = dt.datetime.combine(_weekday(dt.date.today() + dt.timedelta(days=14)), dt.time(9, 0)).astimezone()
        booking = workflow.book(
            uow, case_id, room="Room 1", starts_at=start, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        # what the portal stores when the patient sends the form (the portal's own tests send it)
        uow.portal.add(AppointmentChangeRequest(case_id=case_id, booking_id=booking.id, kind="reschedule", reason=WISH))
        ids["case"] = case_id

    url, secrets = staffed_database(tmp_path_factory.mktemp("changes-e2e"), {Role.COORDINATOR: USER}, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets[Role.COORDINATOR], ids


def _check(page: Page, name: str, problems: list[str]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"
    assert problems == []


def test_the_coordinator_answers_a_patients_request_from_the_chart(
    server: tuple[str, str, dict[str, int]], browser: Browser
) -> None:
    base, secret, ids = server
    problems: list[str] = []
    page = signed_in_page(browser, base, USER, PASSWORD, secret, problems)

    # the worklist marks the case and its filter finds it
    page.goto(base + "/")
    page.get_by_role("link", name="patient asks to change the appointment 1").click()
    row = page.get_by_role("row").filter(has_text="Mira Moving")
    expect(row).to_contain_text("Patient asks to move")
    row.get_by_role("link", name="CHG-1").click()

    # the chart: the open request is a warning above the stages, with the form to answer it
    request = page.locator(f"#case-{ids['case']}-changes .change-request")
    expect(request).to_contain_text("The patient asks to move the appointment")
    expect(request).to_contain_text(WISH)
    expect(request.get_by_role("radio")).to_have_count(2)  # kept as booked, or could not reach
    _check(page, "01-open-request", problems)

    group = request.get_by_role("group", name="How was the request to move answered?")
    group.get_by_label("Kept as booked after a call").check()
    request.get_by_label("Note (optional)").fill("Spoke to her: a neighbour will drive her.")
    request.get_by_role("button", name="Record the answer").click()

    expect(page.get_by_role("status")).to_contain_text("The patient's request is answered")
    changes = page.locator(f"#case-{ids['case']}-changes")
    expect(changes.locator(".change-request")).to_have_count(0)
    history = changes.locator("details.change-history")
    expect(history.get_by_text("Answered requests (1)")).to_be_visible()
    expect(history.locator("li")).to_be_hidden()  # collapsed
    history.get_by_text("Answered requests (1)").click()
    expect(history.locator("li")).to_contain_text("kept as booked after a call")
    expect(history.locator("li")).to_contain_text(f"recorded by {USER}")
    expect(history.locator("li")).to_contain_text("a neighbour will drive her")
    _check(page, "02-answered", problems)

    page.goto(base + "/?change=open")
    expect(page.get_by_role("row").filter(has_text="Mira Moving")).to_have_count(0)
