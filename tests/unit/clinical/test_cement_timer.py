"""The cement timer's reading (procedure mode, decision 0034): phases from the cement's times, pauses left out of the
timer's clock but never out of the real time since mixing, and the alert before the working time ends."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.procedure import DEFAULT_PRODUCT, PRODUCTS, TimerReading, cement_timeline, timer_reading

TIMELINE = cement_timeline(PRODUCTS[DEFAULT_PRODUCT], 21.0)
MIXED = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
WORKING = next(p for p in TIMELINE.phases if p.name == "working")


def _at(minutes: float, paused_at: dt.datetime | None = None, paused_seconds: float = 0) -> TimerReading:
    return timer_reading(
        TIMELINE,
        mixed_at=MIXED,
        paused_at=paused_at,
        paused_seconds=paused_seconds,
        now=MIXED + dt.timedelta(minutes=minutes),
        warn_minutes=1.0,
    )


def test_a_timer_not_started_reads_not_started() -> None:
    reading = timer_reading(TIMELINE, mixed_at=None, paused_at=None, paused_seconds=0, now=MIXED, warn_minutes=1)
    assert (reading.phase, reading.warning, reading.elapsed_min) == ("not started", False, 0.0)


@pytest.mark.rule("cement.phases")
def test_the_phases_follow_each_other_from_mixing_to_set() -> None:
    """PALACOS phases: "mixing, waiting, working, setting"; the timer walks through them in that order."""
    names = [_at(p.start_min + 0.01).phase for p in TIMELINE.phases]
    assert names == ["mixing", "waiting", "working", "setting"]
    assert _at(TIMELINE.set_at_min + 0.1).phase == "set"


@pytest.mark.rule("cement.working_time_warning")
def test_the_alert_comes_in_the_last_minute_of_the_working_phase_only() -> None:
    """Clinic policy: "The cement timer warns before the working (injectable) phase ends, by default 1 minute
    before"; not earlier in the working phase, not in the setting phase."""
    assert not _at(WORKING.start_min + 0.1).warning
    assert _at(WORKING.end_min - 0.5).warning
    assert not _at(WORKING.end_min + 0.1).warning


def test_a_pause_holds_the_timer_but_not_the_real_time_since_mixing() -> None:
    paused = _at(10, paused_at=MIXED + dt.timedelta(minutes=2))
    assert paused.paused
    assert paused.elapsed_min == pytest.approx(2)
    assert paused.since_mixing_min == pytest.approx(10)
    resumed = _at(10, paused_seconds=300)
    assert resumed.elapsed_min == pytest.approx(5)
    assert not resumed.paused


@given(
    minutes=st.floats(min_value=0, max_value=60, allow_nan=False),
    held=st.floats(min_value=0, max_value=3600, allow_nan=False),
)
def test_properties_of_any_reading(minutes: float, held: float) -> None:
    reading = _at(minutes, paused_seconds=held)
    assert 0 <= reading.elapsed_min <= reading.since_mixing_min + 1e-9
    assert reading.since_mixing_min == pytest.approx(minutes, abs=1e-6)  # microseconds
    assert reading.phase in ("mixing", "waiting", "working", "setting", "set")
    if reading.warning:
        assert reading.phase == "working"
        assert reading.phase_left_min is not None
        assert reading.phase_left_min <= 1.0


@given(first=st.floats(min_value=0, max_value=40), later=st.floats(min_value=0, max_value=40))
def test_the_phase_never_goes_back_while_running(first: float, later: float) -> None:
    order = ["mixing", "waiting", "working", "setting", "set"]
    a, b = sorted((first, later))
    assert order.index(_at(a).phase) <= order.index(_at(b).phase)
