"""The earliest safe procedure start: holds completable from the booking moment, fasting and labs in time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import make_case
from vertebro.clinical import ClinicPolicy, start_feasibility
from vertebro.clinical.medications import HoldAction, medication_holds

KIDNEYS_FINE = {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0}  # DOAC holds need it (asra.doac)
LONDON = ZoneInfo("Europe/London")
POLICY = ClinicPolicy()
# Drugs whose plan is a dated hold whatever else the record says (no prescriber decision involved).
DAY_HOLDS = {"apixaban": 3, "rivaroxaban": 3, "naproxen": 4, "cilostazol": 2, "fondaparinux": 4}
HOUR_HOLDS = {"enoxaparin": 24, "heparin": 24}


def _case(*medications: dict[str, str], **changes: object) -> object:
    return make_case({"medications": list(medications), "labs": KIDNEYS_FINE, **changes})


@pytest.mark.rule("booking.feasible_start")
def test_apixaban_booked_late_in_the_evening_cannot_have_its_last_dose_today() -> None:
    """ASRA 2018 high-risk table: "rivaroxaban, apixaban, edoxaban stop 3 days before"; vertebro
    (booking.feasible_start): "a last dose on a calendar day falls after the booking day in the clinic's
    time zone". Booked at 22:25 on Friday 4 December, the earliest procedure day is Wednesday 9 December
    (last dose Saturday 5); Tuesday 8 would put the last dose on the booking day itself."""
    case = make_case({"medications": [{"name": "apixaban"}], "labs": KIDNEYS_FINE})
    now = dt.datetime(2026, 12, 4, 22, 25, tzinfo=LONDON)
    feasible = start_feasibility(case, POLICY, now, LONDON)
    assert feasible.earliest == dt.datetime(2026, 12, 9, 0, 0, tzinfo=LONDON)
    refused = feasible.refusals(dt.datetime(2026, 12, 8, 9, 0, tzinfo=LONDON))
    assert len(refused) == 1
    assert refused[0].startswith("apixaban:")
    assert "Wednesday 9 December 2026" in refused[0]
    assert feasible.allows(dt.datetime(2026, 12, 9, 8, 0, tzinfo=LONDON))
    last = medication_holds(case, POLICY, dt.datetime(2026, 12, 9, 8, 0), None)[0]
    assert last.last_dose_on == dt.date(2026, 12, 5)


@pytest.mark.rule("booking.feasible_start")
def test_a_decision_outstanding_makes_no_date_bookable() -> None:
    """ASRA 2018: "Aspirin for secondary prophylaxis: hold only after shared assessment and risk
    stratification"; vertebro (booking.feasible_start): "a medicine awaiting the prescriber's decision has
    no bookable start until the decision is recorded"."""
    case = make_case({"medications": [{"name": "aspirin", "purpose": "secondary_prevention"}]})
    now = dt.datetime(2026, 12, 4, 9, 0, tzinfo=LONDON)
    feasible = start_feasibility(case, POLICY, now, LONDON)
    assert not feasible.bookable
    assert feasible.earliest is None
    refused = feasible.refusals(now + dt.timedelta(days=60))
    assert any(r.startswith("aspirin:") and "until it is recorded" in r for r in refused)


@pytest.mark.rule("booking.feasible_start")
def test_hours_holds_fasting_and_labs_constrain_the_start() -> None:
    """ASRA 2018: "therapeutic dose stop 24 h before"; ASA 2017 fasting: "fried or fatty food or meat until
    8 h before"; labs are taken the day before at the earliest (booking.feasible_start: "a last dose counted
    in hours is not yet past")."""
    case = make_case(
        {
            "medications": [{"name": "enoxaparin", "purpose": "therapeutic"}],
            "sedation_planned": True,
            "labs": {"inr": None, "platelets": 220.0},
        }
    )
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)
    feasible = start_feasibility(case, POLICY, now, LONDON)
    kinds = {c.kind: c for c in feasible.constraints}
    assert kinds["hold"].not_before == now + dt.timedelta(hours=24)
    assert kinds["fasting"].not_before == now + dt.timedelta(hours=8)
    assert kinds["labs"].not_before == dt.datetime(2026, 12, 8, 0, 0, tzinfo=LONDON)
    assert feasible.earliest == now + dt.timedelta(hours=24)
    assert not feasible.allows(now + dt.timedelta(hours=23, minutes=59))


def test_nothing_to_hold_allows_any_future_start_but_not_a_past_one() -> None:
    case = make_case({"medications": [{"name": "paracetamol"}]})
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)
    feasible = start_feasibility(case, POLICY, now, LONDON)
    assert feasible.earliest == now
    assert feasible.allows(now + dt.timedelta(minutes=30))
    assert feasible.refusals(now - dt.timedelta(minutes=30)) == ("this time is already past",)


def test_naive_moments_are_refused() -> None:
    case = make_case()
    with pytest.raises(ValueError, match="timezone-aware"):
        start_feasibility(case, POLICY, dt.datetime(2026, 12, 7, 10, 0))
    feasible = start_feasibility(case, POLICY, dt.datetime(2026, 12, 7, 10, 0, tzinfo=LONDON), LONDON)
    with pytest.raises(ValueError, match="timezone-aware"):
        feasible.refusals(dt.datetime(2026, 12, 9, 8, 0))


moments = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 1, 1)).map(
    lambda m: m.replace(second=0, microsecond=0, tzinfo=LONDON)
)


@settings(max_examples=300, deadline=None)
@given(
    drugs=st.lists(st.sampled_from(sorted(DAY_HOLDS) + sorted(HOUR_HOLDS)), min_size=1, max_size=3, unique=True),
    now=moments,
    offset_minutes=st.integers(min_value=-60 * 24, max_value=60 * 24 * 12),
)
def test_a_start_is_allowed_exactly_when_every_last_dose_of_the_core_plan_is_still_ahead(
    drugs: list[str], now: dt.datetime, offset_minutes: int
) -> None:
    """Across clock changes: a start is allowed iff, in the core's own plan for it, every calendar-day
    last dose is after the booking day and every hours-based last dose is not past (elapsed time)."""
    case = make_case(
        {"medications": [{"name": d, "purpose": "therapeutic", "route": "sc"} for d in drugs], "labs": KIDNEYS_FINE}
    )
    feasible = start_feasibility(case, POLICY, now, LONDON)
    start = (now + dt.timedelta(minutes=offset_minutes)).astimezone(LONDON)
    today = now.astimezone(LONDON).date()
    plan = medication_holds(case, POLICY, start.replace(tzinfo=None), None)
    ahead = start >= now
    for hold in plan:
        assert hold.action is HoldAction.HOLD
        if hold.last_dose_on is not None:
            ahead = ahead and hold.last_dose_on > today
        else:
            assert hold.stop_hours_before is not None
            elapsed = start.astimezone(dt.UTC) - now.astimezone(dt.UTC)
            ahead = ahead and elapsed >= dt.timedelta(hours=hold.stop_hours_before)
    assert feasible.allows(start) == ahead
    earliest = feasible.earliest
    assert earliest is not None
    assert feasible.allows(earliest)
    if earliest > now:
        assert not feasible.allows(earliest - dt.timedelta(minutes=1))


@pytest.mark.rule("booking.feasible_start")
def test_hours_are_elapsed_time_across_the_clock_change() -> None:
    """ASRA 2018: "therapeutic dose stop 24 h before"; booking.feasible_start: "a last dose counted in hours
    is not yet past". The clocks go back at 02:00 on Sunday 25 October 2026 in London: 24 elapsed hours
    from 10:00 on Saturday end at 09:00 on Sunday, wall-clock."""
    case = make_case({"medications": [{"name": "enoxaparin", "purpose": "therapeutic"}]})
    now = dt.datetime(2026, 10, 24, 10, 0, tzinfo=LONDON)
    feasible = start_feasibility(case, POLICY, now, LONDON)
    earliest = feasible.earliest
    assert earliest is not None
    assert earliest.astimezone(LONDON).replace(tzinfo=None) == dt.datetime(2026, 10, 25, 9, 0)
    assert feasible.allows(dt.datetime(2026, 10, 25, 9, 0, tzinfo=LONDON))
    assert not feasible.allows(dt.datetime(2026, 10, 25, 8, 30, tzinfo=LONDON))
