"""Wide tables on a phone (390 px) in Debian's Chromium: the chart's follow-up table, the registry's and the audit
log's are wider than the screen, so each scrolls in a region a keyboard can reach (axe-core's
scrollable-region-focusable), as the chart's other wide tables do."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, serve, signed_in_page, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FollowUp
from vertebro.store.service import record_assessment

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
USERS = {Role.NURSE: "phone.nurse", Role.SERVICE_LEAD: "phone.lead", Role.ADMIN: "phone.admin"}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, str], int]]:
    """A server on a fresh SQLite database with one case in follow-up: the 2-week visit done, two to come."""
    ids: list[int] = []

    def fill(uow: UnitOfWork) -> None:
        data = case_data({"patient": {"identifier": "PHONE-1", "name": "Fay Follow"}})
        data.pop("procedure_date")
        case = Case.model_validate_json(json.dumps(data))
        a = assess(case)
        recorded = record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e")
        workflow = uow.workflows.get(recorded.case_id, for_update=True)
        assert workflow is not None
        workflow.state = "follow_up"
        today = dt.date.today()
        for visit, start, days, nrs in (("2w", -4, 14, 3), ("3m", 75, 21, None), ("12m", 350, 28, None)):
            done = dt.datetime.now(dt.UTC) if nrs is not None else None
            due_from = today + dt.timedelta(days=start)
            uow.session.add(
                FollowUp(
                    case_id=recorded.case_id,
                    visit=visit,
                    due_from=due_from,
                    due_until=due_from + dt.timedelta(days=days),
                    completed_at=done,
                    nrs=nrs,
                    odi_percent=None if nrs is None else 30.0,
                    rdq=None if nrs is None else 8,
                    recorded_by=None if nrs is None else "e2e",
                )
            )
        ids.append(recorded.patient_id)

    url, secrets = staffed_database(tmp_path_factory.mktemp("phone"), USERS, PASSWORD, fill)
    with serve(url) as base:
        yield base, secrets, ids[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


def test_the_follow_up_table_scrolls_in_a_focusable_region_on_a_phone(
    server: tuple[str, dict[Role, str], int], browser: Browser
) -> None:
    base, secrets, patient_id = server
    problems: list[str] = []
    page = signed_in_page(browser, base, USERS[Role.NURSE], PASSWORD, secrets[Role.NURSE], problems, PHONE)
    page.goto(f"{base}/patients/{patient_id}")
    page.wait_for_load_state("load")
    section = page.locator("section[id^='case-'][id$='-follow-up']:not(.stage-panel)")
    expect(section.get_by_role("table")).to_be_visible()
    result = AXE.run(
        page, context=f"#{section.get_attribute('id')}", options={"runOnly": {"type": "tag", "values": WCAG_TAGS}}
    )
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, violations
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert not problems, problems


def _violations(page: Page) -> list[tuple[str, str, str]]:
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]


@pytest.mark.parametrize(("role", "path"), [(Role.SERVICE_LEAD, "/registry"), (Role.ADMIN, "/admin/audit")])
def test_the_registry_and_the_audit_log_scroll_their_tables_in_focusable_regions_on_a_phone(
    server: tuple[str, dict[Role, str], int], browser: Browser, role: Role, path: str
) -> None:
    base, secrets, _ = server
    problems: list[str] = []
    page = signed_in_page(browser, base, USERS[role], PASSWORD, secrets[role], problems, PHONE)
    page.goto(base + path)
    page.wait_for_load_state("load")
    expect(page.get_by_role("table").first).to_be_visible()
    assert not _violations(page)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert not problems, problems
