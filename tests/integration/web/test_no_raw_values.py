"""No raw Python values on screen (issue 15): staff and portal pages never show None, True or False as words.

A patient requests an appointment through the portal (demo mode), staff open the worklist, the chart, the
reasons and the calendar in every clinical role, and the patient opens each portal page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from tests.integration.web.portal_helpers import new_patient
from vertebro.pathway.machine import Role
from vertebro.web.templating import TEMPLATES, yes_no

RAW = re.compile(r"\b(None|True|False)\b")


class _Text(HTMLParser):
    """The words a reader sees: text outside <script>/<style>, and the values of text attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "alt", "placeholder") and value:
                self.words.append(value)
            if tag in ("input", "option") and name == "value" and value and ("type", "hidden") not in attrs:
                self.words.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.words.append(data)


def raw_values(html: str) -> list[str]:
    """Return every raw None/True/False a reader would see on a page, with its context."""
    parser = _Text()
    parser.feed(html)
    return [w.strip()[:80] for w in parser.words if RAW.search(w)]


def test_the_yes_no_filter_names_unknown_as_not_recorded() -> None:
    assert [yes_no(v) for v in (True, False, None)] == ["yes", "no", "not recorded"]
    assert TEMPLATES.env.filters["yes_no"] is yes_no


def test_no_staff_or_portal_page_shows_a_raw_none_true_or_false(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    patient = portal_factory()
    made = new_patient(patient)
    case_id = made["case_id"]
    pages: dict[str, str] = {}
    for path in (
        "/portal/me",
        f"/portal/cases/{case_id}/intake",
        f"/portal/cases/{case_id}/plan",
        f"/portal/cases/{case_id}/progress",
        "/portal",
        "/portal/info",
    ):
        response = patient.get(path)
        assert response.status_code == 200, path
        pages[path] = response.text
    coordinator = signed_in(Role.COORDINATOR)
    worklist = coordinator.get("/")
    chart_link = re.search(r'href="(/patients/\d+)#case-', worklist.text)
    assert chart_link, worklist.text[:300]
    for role in (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD):
        staff = signed_in(role)
        for path in ("/", chart_link.group(1), f"/cases/{case_id}/reasons", "/calendar"):
            response = staff.get(path)
            assert response.status_code == 200, (role, path)
            pages[f"{role.value} {path}"] = response.text
    shown = {name: found for name, html in pages.items() if (found := raw_values(html))}
    assert shown == {}
