"""The procedure report gives its signature time in the clinic's zone, like its date of procedure: a report signed
in the evening in New York, or in the morning east of UTC, is not stamped with another day than its procedure (and
in a zone ahead of UTC the report was refused as "signed before the procedure")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import pdf_text, signed_procedure
from tests.integration.web.portal_helpers import csrf_of
from tests.integration.web.test_care_forms import in_the_room
from tests.integration.web.test_clinic_settings import SETTINGS
from tests.integration.web.test_workflow import act
from vertebro.clinical.clock import zone_of
from vertebro.pathway.machine import Role

ZONE = "Pacific/Kiritimati"  # UTC+14: from 10:00 UTC on, its date is a day ahead of UTC's


def test_the_reports_signature_time_is_in_the_clinics_zone(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    admin = signed_in(Role.ADMIN)
    token = csrf_of(admin.get("/admin/clinic").text)
    saved = admin.post("/admin/clinic", data={"csrf_token": token, **SETTINGS, "time_zone": ZONE})
    assert saved.status_code == 303, saved.text[:500]
    zone = zone_of(ZONE)
    started = dt.datetime.now(zone).replace(second=0, microsecond=0) - dt.timedelta(hours=2)
    case_id = stored_case("SIGNED-ZONE-1")
    patient_id = in_the_room(session_factory, case_id, started.date())
    body = signed_procedure(started, started + dt.timedelta(minutes=45))
    radiologist = signed_in(Role.RADIOLOGIST)
    signed = act(radiologist, case_id, "POST", "/procedure", body)
    assert signed.status_code == 200, signed.text
    now = dt.datetime.now(zone)

    report = pdf_text(radiologist, patient_id, "procedure-report")
    assert f"Date of procedure: {started.date().isoformat()}" in report
    stamp = re.search(r"Electronically signed: (\d{4}-\d\d-\d\d \d\d:\d\d) (\S+)", report)
    assert stamp, report
    assert stamp.group(2) == now.strftime("%Z")  # the clinic's zone, not UTC
    at = dt.datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    assert dt.timedelta(0) <= now - at < dt.timedelta(hours=1)
