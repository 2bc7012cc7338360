"""Submitting a chart form as a browser would: read the rendered form (hidden fields with the CSRF token and
version, the defaults shown: values, selected options, ticked boxes), change what the user changes, post it."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from httpx import Response

Fields = list[tuple[str, str]]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Fields] = {}
        self._action: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._action = a.get("action", "")
            self.forms[self._action] = []
        if self._action is None:
            return
        fields = self.forms[self._action]
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a.get("name"), None, False
        elif tag == "option" and self._select is not None:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a and not self._select_chosen:
                fields.append((self._select, a.get("value", "")))
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._action is None:
            return
        fields = self.forms[self._action]
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            fields.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "form":
            self._action = None


def form_fields(page: str, action: str) -> Fields:
    """Return the fields a browser would send for the form posting to ``action`` as rendered."""
    parser = _Forms()
    parser.feed(page)
    if action not in parser.forms:
        raise AssertionError(f"no form posts to {action}; forms: {sorted(parser.forms)}")
    return parser.forms[action]


def submit(
    client: TestClient,
    chart_url: str,
    action: str,
    changes: dict[str, str | list[str] | None],
    *,
    button: tuple[str, str] | None = None,
    confirm: bool = True,
) -> Response:
    """Open the chart, fill the form posting to ``action`` (None unticks or empties a field), press the button;
    when the step asks for a confirmation, confirm it (``confirm=False`` stops at the confirmation page)."""
    page = client.get(chart_url)
    assert page.status_code == 200, page.text[:300]
    fields = [(name, value) for name, value in form_fields(page.text, action) if name not in changes]
    for name, value in changes.items():
        if value is None:
            continue
        fields.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    if button is not None:
        fields.append(button)
    response = client.post(
        action,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": ""},
        follow_redirects=False,
    )
    if confirm and response.status_code == 200 and 'name="confirmed" value="yes"' in response.text:
        # a step with a confirmation (decision 0033): the user reads the page and presses its confirm button
        return client.post(
            action,
            content=urlencode(form_fields(response.text, action)),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": ""},
            follow_redirects=False,
        )
    return response
