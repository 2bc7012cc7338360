"""The clinic settings page (decision 0035): only the admin edits them; every problem is named at once and nothing
is saved until all are right; the saved values reach the portal's pages and the messages patients get, in this
server process at once and in another within its refresh; a zone change is refused while appointments are
booked ahead."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of, new_patient
from tests.integration.web.test_care_forms import in_the_room
from tests.integration.web.test_portal_path import _send_intake, _staff_books
from vertebro.clinical.clinic import DEMO_PHONE
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, ClinicSettingsRow, OutboxMessage
from vertebro.web import deps

SETTINGS = {
    "name": "the spinal procedures team",
    "site": "Day Case Unit, Northfield Infirmary",
    "address": "Ward 7, Northfield Infirmary, 2 Sample Lane, Sampleton SA1 1AA",
    "phone": "01632 960 555",
    "opening_hours": "Monday to Thursday, 7:30 to 18:00",
    "out_of_hours": "01632 960 777 (the ward)",
    "directions": "Use the east entrance; the multi-storey car park is free for patients.",
    "time_zone": "Europe/London",
}


def _form(client: TestClient) -> dict[str, str]:
    page = client.get("/admin/clinic")
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text)}


def test_only_the_admin_opens_or_saves_the_clinic_settings(signed_in: Callable[[Role], TestClient]) -> None:
    for role in (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD):
        client = signed_in(role)
        assert client.get("/admin/clinic").status_code == 403
        assert client.post("/admin/clinic", data=SETTINGS).status_code == 403
    admin = signed_in(Role.ADMIN)
    page = admin.get("/admin/clinic").text
    assert DEMO_PHONE in page  # the environment's value until the admin saves
    assert 'href="/admin/clinic"' in page


def test_every_problem_is_named_at_once_and_nothing_is_saved(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    admin = signed_in(Role.ADMIN)
    bad = {
        **_form(admin),
        **SETTINGS,
        "name": "",
        "phone": "call reception",
        "time_zone": "Europe/Atlantis",
        "address": "x" * 301,
    }
    refused = admin.post("/admin/clinic", data=bad)
    assert refused.status_code == 422
    for message in (
        "Name of the service: enter a value",
        "Phone number: digits, spaces",
        "Time zone: &#39;Europe/Atlantis&#39; is not a time zone name",
        "Address: at most 300 characters (this has 301)",
    ):
        assert message in refused.text
    assert "Europe/Atlantis" in refused.text  # what was typed is kept
    with UnitOfWork(session_factory) as uow:
        assert uow.session.get(ClinicSettingsRow, 1) is None


def test_saved_settings_show_on_the_portal_and_in_a_message_and_are_audited(
    signed_in: Callable[[Role], TestClient],
    portal_factory: Callable[..., TestClient],
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patient = portal_factory()
    new_patient(patient)
    assert DEMO_PHONE in patient.get("/portal/me").text  # this server process has read the settings once
    monkeypatch.setattr(deps, "CLINIC_REFRESH_SECONDS", 0.0)  # another process's copy: re-read on the next request

    admin = signed_in(Role.ADMIN)
    saved = admin.post("/admin/clinic", data={**_form(admin), **SETTINGS})
    assert saved.status_code == 303, saved.text
    assert "01632 960 555" in admin.get("/admin/clinic").text

    me = patient.get("/portal/me").text
    assert "01632 960 555" in me
    assert "Northfield Infirmary" in me
    assert "01632 960 777 (the ward)" in me
    assert DEMO_PHONE not in me
    token = csrf_of(patient.get("/portal/messages/new").text)
    sent = patient.post("/portal/messages", data={"csrf_token": token, "subject": "Parking", "body": "Where?"})
    assert sent.status_code == 303
    thread_id = int(re.findall(r"\d+", sent.headers["location"])[0])
    nurse = signed_in(Role.NURSE)
    assert nurse.post(f"/inbox/{thread_id}/reply", data={"body": "See the directions."}).status_code == 303
    with UnitOfWork(session_factory) as uow:
        note = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "secure_message")).one()
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "clinic_settings")).all()
    assert "from the spinal procedures team" in note.subject
    assert "01632 960 555" in note.body
    assert "Sampleton SA1 1AA" in note.body
    assert [(a.actor, a.action) for a in audit] == [("t.admin", "read"), ("t.admin", "update"), ("t.admin", "read")]
    assert set(audit[1].detail["fields"]) == set(SETTINGS) - {"time_zone"}


def test_the_time_zone_is_not_changed_under_booked_appointments(
    signed_in: Callable[[Role], TestClient],
    portal_factory: Callable[..., TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deps, "CLINIC_REFRESH_SECONDS", 0.0)  # the portal's server re-reads on every request
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    _send_intake(patient, case_id)
    _staff_books(signed_in, case_id)
    admin = signed_in(Role.ADMIN)
    moved = admin.post("/admin/clinic", data={**_form(admin), **SETTINGS, "time_zone": "Europe/Berlin"})
    assert moved.status_code == 409
    assert "1 appointment(s) are booked ahead in Europe/London" in moved.text
    kept = admin.post("/admin/clinic", data={**_form(admin), **SETTINGS})
    assert kept.status_code == 303
    me = patient.get("/portal/me").text
    assert "How to get there: Use the east entrance" in me


def test_times_typed_in_clinic_time_name_the_clinics_zone(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    """Issue 15: "All times are stored in UTC and shown in the clinic's time zone with one format and the zone named
    where it could be ambiguous": a start time is typed as the clinic's wall-clock time, so its label names the zone
    (and no format hint that the browser's own date control contradicts)."""
    admin = signed_in(Role.ADMIN)
    saved = admin.post("/admin/clinic", data={**_form(admin), **SETTINGS, "time_zone": "America/New_York"})
    assert saved.status_code == 303, saved.text[:500]
    case_id = stored_case("ZONE-1")
    patient_id = in_the_room(session_factory, case_id, dt.date.today())
    chart = signed_in(Role.RADIOLOGIST).get(f"/patients/{patient_id}").text
    assert f'<label for="st-{case_id}">Started (clinic time, America/New_York)</label>' in chart
    assert f'<label for="en-{case_id}">Ended (clinic time, America/New_York)</label>' in chart
    assert "YYYY-MM-DD" not in chart
