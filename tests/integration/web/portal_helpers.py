"""Helpers for portal tests: a patient requests an appointment, activates the account and signs in; the calendar
file a patient is sent, read as a calendar program would."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import icalendar
from fastapi.testclient import TestClient

PATIENT_PASSWORD = "my spine is on the mend"


def request_form(**changes: str) -> dict[str, str]:
    """Return a valid appointment request form (fields as a browser sends them)."""
    today = dt.date.today()
    form = {
        "name": "Ruth Example",
        "birth_date": "1946-05-02",
        "sex": "female",
        "email": "ruth@example.org",
        "phone": "",
        "referring_doctor": "Dr Grey, Elm Street Practice",
        "where_it_hurts": "lower_back",
        "pain_since": (today - dt.timedelta(weeks=5)).isoformat(),
        "levels": "L1",
        "pain_now": "8",
    }
    form.update(changes)
    return form


def csrf_of(html: str) -> str:
    """Return the CSRF token rendered into a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:400]
    return match.group(1)


def new_patient(client: TestClient, **changes: str) -> dict[str, Any]:
    """Request an appointment (demo mode shows the link), activate it; return reference, case id and client."""
    response = client.post("/portal/request", data=request_form(**changes))
    assert response.status_code == 200, response.text
    reference = re.search(r'id="reference">([A-Z0-9-]+)<', response.text)
    link = re.search(r'id="activation-link" href="[^"]*(/portal/activate/[^"]+)"', response.text)
    assert reference, response.text
    assert link, response.text
    response = client.post(link.group(1), data={"password": PATIENT_PASSWORD, "repeated": PATIENT_PASSWORD})
    assert response.status_code == 303, response.text
    me = client.get("/portal/me")
    case = re.search(r"/portal/cases/(\d+)/intake", me.text)
    assert case, me.text
    return {"reference": reference.group(1), "case_id": int(case.group(1)), "activation": link.group(1)}


def the_event(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    """Return an iCalendar file's calendar and its one event, read with the ``icalendar`` library, after checking
    the line form RFC 5545 3.1 asks of the file itself (CRLF line ends, lines folded at 75 octets)."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "a line not ended by CRLF"
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n")), "a line longer than 75 octets"
    calendar = icalendar.Calendar.from_ical(text)
    assert not [component.errors for component in calendar.walk() if component.errors]
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    (event,) = calendar.events
    return calendar, event
