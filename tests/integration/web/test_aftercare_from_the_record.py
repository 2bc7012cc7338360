"""The going-home sheet counts from the procedure as it was recorded (its start and its end), not from the booked
hour and the planned room time: a blood thinner's restart follows the real end of the procedure (hazard H135)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import pdf_text, signed_procedure
from tests.integration.web.test_care_forms import in_the_room
from tests.integration.web.test_workflow import act
from vertebro.clinical.clock import zone_of
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role


def _spoken(moment: dt.datetime) -> str:
    """A clinic time as the patient's sheets write it: '3:40 pm on Monday 7 December 2026'."""
    clock = f"{moment.hour % 12 or 12}:{moment:%M} {'am' if moment.hour < 12 else 'pm'}"
    return f"{clock} on {moment:%A} {moment.day} {moment:%B %Y}"


def test_a_blood_thinners_restart_counts_from_the_recorded_end_of_the_procedure(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    zone = zone_of(DEFAULT_POLICY.time_zone)
    # booked for yesterday (the clinic's) at the usual first start; done that day, later and longer than planned
    day = dt.datetime.now(zone).date() - dt.timedelta(days=1)
    case_id = stored_case("AFTER-1", medications=[{"name": "aspirin", "purpose": "primary_prevention"}])
    patient_id = in_the_room(session_factory, case_id, day)
    started = dt.datetime.combine(day, dt.time(13, 10), zone)
    ended = started + dt.timedelta(minutes=150)  # the plan: 08:00 and 90 minutes of room time
    body = signed_procedure(started, ended)
    radiologist = signed_in(Role.RADIOLOGIST)
    signed = act(radiologist, case_id, "POST", "/procedure", body)
    assert signed.status_code == 200, signed.text

    sheet = " ".join(pdf_text(radiologist, patient_id, "discharge").split())
    restart = ended + dt.timedelta(hours=24)  # aspirin: 24 hours after the procedure (ASRA 2018)
    assert f"aspirin From {_spoken(restart)}, if the wound is not bleeding" in sheet
