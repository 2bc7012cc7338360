"""Each role's day on the chart in Debian's Chromium (issue 15 item 4, decision 0033): the radiologist opens the
chart, reads the evidence before the decision, accepts through the confirmation, reads the success message and
undoes it; the coordinator sees the hand-over on the worklist and the radiologist finds the case under "for you".
Every page is checked with axe-core, for CSP messages in the console and for horizontal overflow at 390 px;
screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serving import chromium, serve, signed_in_page, staffed_database
from tests.e2e.test_staff_browser import AXE, WCAG_TAGS
from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e" / "chart-stages"
PASSWORD = "correct horse battery"
ROLES = {Role.COORDINATOR: "stages.coordinator", Role.RADIOLOGIST: "stages.radiologist"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _store(uow: UnitOfWork, identifier: str, name: str, **fracture: object) -> None:
    data = case_data({"patient": {"identifier": identifier, "name": name}}, fracture=dict(fracture))
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    a = assess(case)
    record_assessment(uow, case, a, assessment_json(a), actor="e2e", source="e2e")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a fresh SQLite database: one case to decide, one whose MRI date is missing."""

    def fill(uow: UnitOfWork) -> None:
        workflow.ensure_calendar(uow, ("Room 1",), dt.date.today() + dt.timedelta(days=1), 7)
        _store(uow, "STAGES-1", "Dora Decide")
        _store(uow, "STAGES-2", "Hana Handover", imaging_date=None)

    url, secrets = staffed_database(tmp_path_factory.mktemp("stages"), ROLES, PASSWORD, fill)
    with serve(url) as base:
        yield base + "|" + json.dumps({role.value: secret for role, secret in secrets.items()})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as b:
        yield b


def _signed_in(browser: Browser, server: str, role: Role, problems: list[str]) -> tuple[Page, str]:
    base, secrets = server.split("|", 1)
    secret = json.loads(secrets)[role.value]
    return signed_in_page(browser, base, ROLES[role], PASSWORD, secret, problems, DESKTOP), base


def _check(page: Page, name: str) -> None:
    """axe-core clean, no horizontal overflow at 390 px; a desktop and a phone screenshot kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [(v["id"], v["impact"], v["nodes"][0]["target"]) for v in result.response["violations"]]
    assert not violations, f"{name}: {violations}"
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{name}: {width} px wide at 390 px"


def _open(page: Page, base: str, identifier: str, *, waiting: bool = False) -> None:
    page.goto(base + ("/?for=you" if waiting else "/"))
    page.get_by_role("link", name=identifier).click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()


def test_decide_with_the_evidence_first_confirm_undo_and_hand_over(server: str, browser: Browser) -> None:
    problems: list[str] = []
    coordinator, base = _signed_in(browser, server, Role.COORDINATOR, problems)
    radiologist, _ = _signed_in(browser, server, Role.RADIOLOGIST, problems)

    # the coordinator: the worklist names the hand-over, the screening starts with a success message
    coordinator.goto(base + "/")
    row = coordinator.get_by_role("row").filter(has_text="STAGES-2")
    expect(row).to_contain_text("needs the radiologist: imaging: L1: date of the MRI or bone scan")
    _check(coordinator, "01-worklist-hand-over")
    _open(coordinator, base, "STAGES-1")
    expect(coordinator.get_by_role("button", name="Accept", exact=True)).to_have_count(0)
    coordinator.get_by_role("button", name="Start screening", exact=True).click()
    expect(coordinator.get_by_role("status")).to_contain_text("Screening started.")
    expect(coordinator.locator(".handover")).to_contain_text("Needs the radiologist: review the evidence and decide")
    expect(coordinator.locator(".who-can").first).to_contain_text("the radiologist takes this step")
    _check(coordinator, "02-chart-waiting-for-the-radiologist")

    # the radiologist: both cases are "for you"; the evidence comes before the decision
    radiologist.goto(base + "/?for=you")
    expect(radiologist.get_by_role("link", name="STAGES-1")).to_be_visible()
    expect(radiologist.get_by_role("link", name="STAGES-2")).to_be_visible()
    _open(radiologist, base, "STAGES-1", waiting=True)
    evidence = radiologist.get_by_role("table", name="Each guideline profile")
    expect(evidence).to_contain_text("Supports")
    expect(radiologist.locator("ol.sources a[href^='https://doi.org/']")).not_to_have_count(0)  # cited, as links
    before = radiologist.evaluate(
        "() => !!(document.querySelector('table.evidence').compareDocumentPosition("
        "document.querySelector('form.action-accept')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert before, "the decision comes after the evidence"
    _check(radiologist, "03-evidence-then-decision")
    radiologist.get_by_role("button", name="Accept", exact=True).click()
    expect(radiologist.get_by_role("heading", level=1)).to_contain_text("Accept case")
    _check(radiologist, "04-confirm-accept")
    radiologist.get_by_role("button", name=re.compile(r"^Yes, accept case")).click()
    status = radiologist.get_by_role("status")
    expect(status).to_contain_text("Accepted")
    expect(radiologist.locator(".state").first).to_have_text("eligible")
    _check(radiologist, "05-accepted-with-undo")
    status.get_by_role("button", name="Undo the accept").click()
    expect(radiologist.get_by_role("status")).to_contain_text("Decision undone")
    expect(radiologist.locator(".state").first).to_have_text("screening")
    expect(radiologist.locator(".timeline")).to_contain_text("undo")

    assert [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p] == []
