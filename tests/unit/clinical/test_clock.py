"""Clinic wall-clock time across daylight-saving changes (clinical/clock.py, Europe/London by default)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import assessed
from vertebro.clinical.clock import elapsed, shifted, wall_clock
from vertebro.clinical.policy import ClinicPolicy

LONDON = "Europe/London"
SPRING = dt.date(2027, 3, 28)  # clocks go forward at 01:00 GMT
AUTUMN = dt.date(2026, 10, 25)  # clocks go back at 02:00 BST


def test_eight_hours_before_the_spring_change_is_eleven_pm_not_midnight() -> None:
    assert shifted(dt.datetime(2027, 3, 28, 8, 0), LONDON, hours=-8) == dt.datetime(2027, 3, 27, 23, 0)


def test_eight_hours_before_the_autumn_change_is_one_am() -> None:
    assert shifted(dt.datetime(2026, 10, 25, 8, 0), LONDON, hours=-8) == dt.datetime(2026, 10, 25, 1, 0)


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2030, 12, 31)),
    hours=st.integers(min_value=-96, max_value=96),
)
def test_shifted_is_exactly_the_elapsed_interval(moment: dt.datetime, hours: int) -> None:
    start = moment.replace(hour=8, minute=0, second=0, microsecond=0)  # procedures start at a real local time
    assert elapsed(start, shifted(start, LONDON, hours=hours), LONDON) == dt.timedelta(hours=hours)


@pytest.mark.rule("preparation.fasting")
@pytest.mark.parametrize(("day", "eight_hours_before"), [(SPRING, dt.datetime(2027, 3, 27, 23, 0)),
                                                         (AUTUMN, dt.datetime(2026, 10, 25, 1, 0))])  # fmt: skip
def test_fasting_times_are_elapsed_hours_across_a_clock_change(day: dt.date, eight_hours_before: dt.datetime) -> None:
    """ASA 2017: "fried/fatty/meat ≥ 8 h" before sedation — eight real hours, whatever the clock does."""
    a = assessed({"procedure_date": day.isoformat(), "sedation_planned": True})
    [fatty] = [i for i in a.preparation.items if i.kind == "fasting" and "fatty" in i.instruction]
    assert fatty.due == eight_hours_before


@pytest.mark.rule("asra.lmwh")
def test_hour_holds_are_elapsed_hours_across_a_clock_change() -> None:
    """ASRA 2018: "Enoxaparin prophylactic | 12 h | 12–24 h" — twelve real hours before an 08:00 start."""
    a = assessed(
        {"procedure_date": SPRING.isoformat(), "medications": [{"name": "enoxaparin", "purpose": "prophylactic"}]}
    )
    [h] = a.preparation.medication_holds
    assert h.last_dose_by == dt.datetime(2027, 3, 27, 19, 0)
    assert h.last_dose_by is not None
    assert h.hold_complete_by is not None
    assert elapsed(h.last_dose_by, h.hold_complete_by, LONDON) == dt.timedelta(hours=12)


def test_the_clinic_zone_is_a_policy_setting() -> None:
    utc = ClinicPolicy(time_zone="UTC")
    a = assessed({"procedure_date": SPRING.isoformat(), "sedation_planned": True}, policy=utc)
    [fatty] = [i for i in a.preparation.items if i.kind == "fasting" and "fatty" in i.instruction]
    assert fatty.due == dt.datetime(2027, 3, 28, 0, 0)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        shifted(dt.datetime(2027, 1, 1, 8, 0), "Mars/Olympus", hours=1)


def test_an_aware_moment_becomes_clinic_wall_clock_time() -> None:
    utc = dt.datetime(2027, 3, 28, 7, 0, tzinfo=dt.UTC)  # 08:00 BST
    assert wall_clock(utc, LONDON) == dt.datetime(2027, 3, 28, 8, 0)
    assert wall_clock(dt.datetime(2027, 3, 28, 8, 0), LONDON) == dt.datetime(2027, 3, 28, 8, 0)
