"""Every form the chart renders, for every role and every pathway state, submitted as rendered over HTTP on SQLite
and PostgreSQL (issue 12 item 8).

The chart (and the calendar its "Book" step opens) is parsed for its ``<form method="post">`` elements (action, inputs, selects and textareas with the
values the page pre-fills); each form is posted with valid input (the rendered values, plus what a user must type:
a reason, the vitals, a score) on a fresh case in the same state. Required: never a 5xx; success (303/200) or a
4xx page that names the problem (an alert on the page, never a bare error); a form the chart shows to a role is
one that role may use (never a 403 after the click). A role that is not shown a form and posts it anyway is
refused (403, or a 4xx page naming why), and the admin cannot open a chart at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.integration.web.journey import (
    CALM,
    OVERRIDE,
    STATES,
    case_in,
    discharge_ticks,
    patient_of,
    signed_fields,
    state_of,
)
from tests.integration.web.test_booking_safety import REASON
from vertebro.pathway.machine import Role

STAFF = (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD)
_ids = itertools.count(1)


@dataclass
class Form:
    """One rendered form: where it posts and the fields a browser would send."""

    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class _AllForms(HTMLParser):
    """Every ``<form method="post">`` of a page, in order (several may post to one action)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first: str | None = None
        self._chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(a.get("action", ""))
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._first, self._chosen = a.get("name"), None, False
        elif tag == "option" and self._select is not None:
            if self._first is None:
                self._first = a.get("value", "")
            if "selected" in a and not self._chosen:
                self._form.fields.append((self._select, a.get("value", "")))
                self._chosen = True
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            if not self._chosen and self._first is not None:
                self._form.fields.append((self._select, self._first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form.fields.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(page: str, case_id: int) -> list[Form]:
    """The post forms of a chart that act on ``case_id``."""
    parser = _AllForms()
    parser.feed(page)
    return [f for f in parser.forms if f.action.startswith(f"/cases/{case_id}/")]


def kind_of(action: str) -> str:
    """The form's route with the case id taken out: ``/cases/7/actions/accept`` -> ``actions/accept``."""
    return re.sub(r"^/cases/\d+/", "", action)


def valid_input(kind: str) -> dict[str, str | list[str]]:
    """What a user types into a form before pressing its button (the rest stays as rendered)."""
    if kind in ("actions/accept", "actions/decline"):  # typed, then confirmed on the confirmation page
        return {
            "reason": "Discussed with the patient and the referrer; the imaging was reviewed again.",
            "confirmed": "yes",
        }
    if kind == "actions/close":
        return {"reason": "Completed at 12 months with no concerns."}
    if kind == "booking/cancel":
        return {"reason": REASON, "confirm": "yes"}
    if kind == "procedure":
        fields = signed_fields(technique="vertebroplasty", ended_ago=dt.timedelta(hours=4))
        return {**fields, "sign": "1"}
    if kind == "observations":
        return dict(CALM)
    if kind == "discharge":
        return {**discharge_ticks(), "aldrete": "10", "override_reason": OVERRIDE, "confirmed": "yes"}
    if kind.startswith("follow-ups/"):
        return {"nrs": "3", "odi_percent": "30", "rdq": "8"}
    if kind == "complications":
        return {"notes": "Bruising at the entry site."}
    return {}


def post(
    client: TestClient, action: str, fields: list[tuple[str, str]], changes: dict[str, str | list[str]]
) -> Response:
    """Post ``fields`` with ``changes`` as a browser does (the form's own CSRF token; no header)."""
    sent = [(k, v) for k, v in fields if k not in changes]
    for name, value in changes.items():
        sent.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    token = client.headers.pop("X-CSRF-Token", None)
    try:
        return client.post(
            action, content=urlencode(sent), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    finally:
        if token is not None:
            client.headers["X-CSRF-Token"] = token


def names_the_problem(response: Response) -> bool:
    """A refusal page says what is wrong: an alert with words in it (not a bare status)."""
    alerts = re.findall(r'role="alert"[^>]*>(.*?)</', response.text, flags=re.S)
    detail = re.search(r'"detail"\s*:\s*"([^"]{8,})', response.text)
    return any(len(re.sub(r"<[^>]+>", "", a).strip()) >= 8 for a in alerts) or detail is not None


def rendered(client: TestClient, case_id: int) -> list[Form]:
    """The forms of the chart for ``case_id`` and of the calendar its "Book" step opens."""
    page = client.get(f"/patients/{patient_of(client, case_id)}")
    assert page.status_code == 200, page.text[:300]
    calendar = client.get(f"/calendar?case_id={case_id}")
    assert calendar.status_code == 200, calendar.text[:300]
    return forms_of(page.text, case_id) + forms_of(calendar.text, case_id)


@pytest.mark.parametrize("state", STATES)
def test_every_rendered_form_submits_cleanly_for_every_role(
    state: str, signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    def fresh() -> int:
        return case_in(state, signed_in, stored_case, f"FORM-{state[:6]}-{next(_ids)}")

    probe = fresh()
    offered: dict[Role, set[str]] = {
        role: {kind_of(f.action) for f in rendered(signed_in(role), probe)} for role in STAFF
    }
    problems: list[str] = []
    case_id = probe
    for role in STAFF:
        client = signed_in(role)
        for kind in sorted(offered[role]):
            if state_of(client, case_id) != state:  # the last form moved the case on: take a new one
                case_id = fresh()
            form = next((f for f in rendered(client, case_id) if kind_of(f.action) == kind), None)
            if form is None:  # the last form used this one up (a follow-up recorded): take a new case
                case_id = fresh()
                form = next(f for f in rendered(client, case_id) if kind_of(f.action) == kind)
            response = post(client, form.action, form.fields, valid_input(kind))
            where = f"{state}: {role.value} submitting {kind} as rendered"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code} {response.text[:300]}")
            elif response.status_code == 403:
                problems.append(f"{where}: 403, a live form for a role that may not use it")
            elif response.status_code >= 400 and not names_the_problem(response):
                problems.append(f"{where}: {response.status_code} without naming the problem")
            elif response.status_code not in (200, 303) and response.status_code < 400:
                problems.append(f"{where}: unexpected {response.status_code}")

    # A role not shown a form that posts it anyway (with its own token and the case's version) is refused.
    every_kind = set().union(*offered.values())
    for role in STAFF:
        client = signed_in(role)
        for kind in sorted(every_kind - offered[role]):
            if state_of(client, case_id) != state:
                case_id = fresh()
            shown_to = next(r for r in STAFF if kind in offered[r])
            form = next((f for f in rendered(signed_in(shown_to), case_id) if kind_of(f.action) == kind), None)
            if form is None:
                case_id = fresh()
                form = next(f for f in rendered(signed_in(shown_to), case_id) if kind_of(f.action) == kind)
            fields = [(k, v) for k, v in form.fields if k != "csrf_token"]
            token = client.headers["X-CSRF-Token"]
            response = post(client, form.action, [*fields, ("csrf_token", token)], valid_input(kind))
            where = f"{state}: {role.value} (not shown the form) posting {kind}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code} {response.text[:300]}")
            elif response.status_code < 400:
                problems.append(f"{where}: accepted ({response.status_code}) a step the chart does not offer")
            elif response.status_code != 403 and not names_the_problem(response):
                problems.append(f"{where}: {response.status_code} without naming the problem")
    assert not problems, "\n".join(problems)


def test_the_admin_cannot_open_a_chart_or_post_its_forms(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = case_in("monitoring", signed_in, stored_case, "FORM-ADMIN-1")
    patient_id = patient_of(signed_in(Role.RADIOLOGIST), case_id)
    admin = signed_in(Role.ADMIN)
    assert admin.get(f"/patients/{patient_id}").status_code == 403
    for kind in ("observations", "discharge", "actions/discharge", "safety-facts", "checklist", "procedure"):
        response = admin.post(f"/cases/{case_id}/{kind}", data={"csrf_token": admin.headers["X-CSRF-Token"]})
        assert response.status_code == 403, (kind, response.status_code, response.text[:300])
