"""After the procedure, the patient's page gives the day it was done (the signed record), not the booked day: the
plan page and the going-home sheet already say "done on" that day (decision 0018); and the plan no longer tells
the patient to call today about a last dose before a procedure that is done."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.portal_helpers import new_patient
from tests.integration.web.test_portal_path import _send_intake, _staff_books, _staff_treat_and_discharge
from vertebro.clinical.clock import zone_of
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role


def _long(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def test_the_procedure_card_gives_the_day_it_was_done_not_the_booked_day(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
) -> None:
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    _send_intake(patient, case_id)
    booked_on = _staff_books(signed_in, case_id)  # two weeks ahead
    _staff_treat_and_discharge(signed_in, case_id)  # done an hour ago, before the booked day
    done_on = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).astimezone(zone_of(DEFAULT_POLICY.time_zone)).date()

    me = patient.get("/portal/me").text
    card = re.search(r'<div class="key" id="appointment">(.*?)</div>', me, re.S)
    assert card, me
    assert "You had your procedure" in card.group(1)
    assert _long(done_on) in card.group(1)
    assert _long(booked_on) not in card.group(1)
    plan = patient.get(f"/portal/cases/{case_id}/plan").text
    assert f"was done on {_long(done_on)}" in plan
    # the last dose before a procedure that is done is not a date to call about today
    assert "Warfarin" in plan
    assert "This date has passed" not in plan
