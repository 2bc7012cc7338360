"""One rule for driving after the procedure, used by the preparation plan and the aftercare plan."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.clinical.builders import PROCEDURE_DATE, assessed
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.recovery import driving_advice


@pytest.mark.rule("recovery.driving")
@pytest.mark.parametrize("sedated", [True, False, None])
def test_nobody_drives_home_and_no_driving_for_two_days(sedated: bool | None) -> None:
    """BayCare/Krames vertebroplasty discharge instructions: "Do not drive for 2 days after the procedure. And never
    drive while you are taking opioid pain medication" — with or without sedation."""
    advice = driving_advice(PROCEDURE_DATE, sedated, DEFAULT_POLICY)
    assert advice.may_drive_home is False
    assert (advice.first_day, advice.last_day) == (PROCEDURE_DATE, PROCEDURE_DATE + dt.timedelta(days=2))
    assert "no driving" in advice.transport
    assert "opioid" in advice.aftercare


@pytest.mark.rule("recovery.driving")
@pytest.mark.parametrize("sedated", [True, False])
def test_the_preparation_and_the_aftercare_plans_agree(sedated: bool) -> None:
    """Rule statement: "the patient never drives home, with or without sedation"."""
    a = assessed({"sedation_planned": sedated})
    [transport] = [i for i in a.preparation.items if i.kind == "transport"]
    advice = driving_advice(PROCEDURE_DATE, sedated, DEFAULT_POLICY)
    assert transport.instruction == advice.transport
    [drive] = [s for s in a.recovery.aftercare if "drive" in s.instruction]
    assert (drive.instruction, drive.start, drive.end) == (advice.aftercare, advice.first_day, advice.last_day)
