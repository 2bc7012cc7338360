"""The observation schedule after the procedure (decision 0034): when each check is due, which are done, due,
overdue or planned, and the next one; counted in elapsed time, so a clock change moves no check."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.recovery import observation_schedule, observation_times

END = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


def _minutes(times: tuple[dt.datetime, ...]) -> list[int]:
    return [int((t - END).total_seconds() // 60) for t in times]


@pytest.mark.rule("recovery.observation_schedule")
def test_checks_every_15_minutes_for_an_hour_then_every_30_until_the_end() -> None:
    """Post-procedure orders: "vital signs and lower-limb neurological checks every 15 min for 1 h, then every
    30 min for 1 h"; beyond two hours every 30 min until the planned monitoring time ends (clinic policy)."""
    assert _minutes(observation_times(END, 120, DEFAULT_POLICY)) == [0, 15, 30, 45, 60, 90, 120]
    assert _minutes(observation_times(END, 180, DEFAULT_POLICY)) == [0, 15, 30, 45, 60, 90, 120, 150, 180]
    assert _minutes(observation_times(END, 100, DEFAULT_POLICY)) == [0, 15, 30, 45, 60, 90, 100]


@pytest.mark.rule("recovery.observation_schedule")
def test_a_missed_check_is_overdue_and_the_next_one_is_shown() -> None:
    """Clinic policy: "a check not recorded 5 minutes after it was due is overdue"."""
    taken = (END + dt.timedelta(minutes=1), END + dt.timedelta(minutes=16))
    schedule = observation_schedule(END, 120, taken, END + dt.timedelta(minutes=37), DEFAULT_POLICY)
    assert [c.status for c in schedule.checks[:4]] == ["done", "done", "overdue", "planned"]
    assert schedule.overdue == (END + dt.timedelta(minutes=30),)
    assert schedule.next_due == END + dt.timedelta(minutes=45)
    within_grace = observation_schedule(END, 120, taken, END + dt.timedelta(minutes=34), DEFAULT_POLICY)
    assert within_grace.checks[2].status == "due"
    assert not within_grace.overdue
    assert within_grace.next_due == END + dt.timedelta(minutes=30)


def test_a_set_counts_once_and_late_sets_do_not_fill_earlier_checks() -> None:
    taken = (END + dt.timedelta(minutes=50),)  # between the 45 and 60 minute checks: counts for 45
    schedule = observation_schedule(END, 120, taken, END + dt.timedelta(minutes=70), DEFAULT_POLICY)
    statuses = [c.status for c in schedule.checks[:5]]
    assert statuses == ["overdue", "overdue", "overdue", "done", "overdue"]


def test_a_clock_change_moves_no_check() -> None:
    """The night the clocks go back in London: checks stay 15 minutes of real time apart."""
    end = dt.datetime(2026, 10, 25, 0, 50, tzinfo=ZoneInfo("Europe/London"))
    times = observation_times(end, 120, DEFAULT_POLICY)
    gaps = {(b.astimezone(dt.UTC) - a.astimezone(dt.UTC)) for a, b in itertools.pairwise(times)}
    assert gaps == {dt.timedelta(minutes=15), dt.timedelta(minutes=30)}


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        observation_times(END.replace(tzinfo=None), 120, DEFAULT_POLICY)
    with pytest.raises(ValueError, match="aware"):
        observation_schedule(END, 120, (), END.replace(tzinfo=None), DEFAULT_POLICY)


@given(
    planned=st.integers(min_value=1, max_value=300),
    taken=st.lists(st.integers(min_value=-30, max_value=400), max_size=20),
    now=st.integers(min_value=-10, max_value=500),
)
def test_properties_of_any_schedule(planned: int, taken: list[int], now: int) -> None:
    moments = tuple(END + dt.timedelta(minutes=m) for m in taken)
    schedule = observation_schedule(END, planned, moments, END + dt.timedelta(minutes=now), DEFAULT_POLICY)
    due = [c.due_at for c in schedule.checks]
    assert due == sorted(set(due)), "checks are in time order, none twice"
    assert due[0] == END
    assert due[-1] == END + dt.timedelta(minutes=planned)
    assert all(b - a <= dt.timedelta(minutes=30) for a, b in itertools.pairwise(due))
    clock = END + dt.timedelta(minutes=now)
    grace = dt.timedelta(minutes=DEFAULT_POLICY.observation_grace_minutes)
    for check in schedule.checks:
        if check.status == "overdue":
            assert clock > check.due_at + grace
        if check.status == "planned":
            assert clock < check.due_at
        if check.status == "done":
            assert check.recorded_at in moments
    recorded = [c.recorded_at for c in schedule.checks if c.recorded_at is not None]
    assert len(recorded) == len(set(recorded)), "one set counts for one check"
    assert len(schedule.overdue) == sum(c.status == "overdue" for c in schedule.checks)
    if schedule.next_due is not None:
        assert all(t < schedule.next_due for t in schedule.overdue)
