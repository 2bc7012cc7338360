"""The chart's preparation plan names the clinic's zone on every time, as the rest of the chart does: the plan's times
are the clinic's wall-clock times (clinical/clock.py), read back from the stored assessment."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.test_care_forms import in_the_room
from vertebro.clinical.clock import zone_of
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role


def test_the_preparation_plans_times_name_the_clinics_zone(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    zone = zone_of(DEFAULT_POLICY.time_zone)
    day = dt.datetime.now(zone).date() + dt.timedelta(days=10)
    case_id = stored_case("PLAN-ZONE-1", medications=[{"name": "aspirin", "purpose": "primary_prevention"}])
    patient_id = in_the_room(session_factory, case_id, day)
    chart = signed_in(Role.NURSE).get(f"/patients/{patient_id}").text

    start = dt.datetime.combine(day, DEFAULT_POLICY.procedure_start, zone)
    arrival = start - dt.timedelta(minutes=DEFAULT_POLICY.arrival_minutes_early)
    assert f"<p>Procedure {start:%Y-%m-%d %H:%M %Z} · arrival {arrival:%Y-%m-%d %H:%M %Z}</p>" in chart
    holds = chart[chart.index("<caption>Medications</caption>") : chart.index("</table>", chart.index("Medications"))]
    restart = re.search(r"<td>aspirin</td>.*?<td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>", holds)
    assert restart, holds
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Z]{3,4}", restart.group(1)), restart.group(1)
