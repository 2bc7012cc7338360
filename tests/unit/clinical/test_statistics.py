"""Registry statistics against values computed by hand, and their properties (hypothesis)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.statistics import (
    Z95,
    funnel_limits,
    mean_interval,
    t_quantile_975,
    wilson_interval,
)


def test_wilson_at_zero_percent() -> None:
    """0 of 10: the upper limit is z²/(n+z²) = 3.8415/13.8415 = 0.2775; the lower limit is exactly 0."""
    p = wilson_interval(0, 10)
    assert p.share == 0.0
    assert p.low == 0.0
    assert p.high == pytest.approx(0.27753, abs=1e-5)


def test_wilson_at_hundred_percent() -> None:
    """10 of 10: the lower limit is n/(n+z²) = 10/13.8415 = 0.7225; the upper limit is exactly 1."""
    p = wilson_interval(10, 10)
    assert p.share == 1.0
    assert p.low == pytest.approx(0.72247, abs=1e-5)
    assert p.high == 1.0


def test_wilson_at_half() -> None:
    """5 of 10: centre 0.5, half-width 1.96·sqrt(2.5 + 0.9604)/13.8415 = 0.2634 -> 0.2366 to 0.7634."""
    p = wilson_interval(5, 10)
    assert p.low == pytest.approx(0.23659, abs=1e-4)
    assert p.high == pytest.approx(0.76341, abs=1e-4)


def test_wilson_one_in_twenty() -> None:
    """1 of 20 (a 5 % complication rate): Wilson 0.0089 to 0.2361 (Newcombe 1998, table I, method 3 style)."""
    p = wilson_interval(1, 20)
    assert p.low == pytest.approx(0.00889, abs=1e-4)
    assert p.high == pytest.approx(0.23611, abs=1e-4)


def test_wilson_without_cases_has_no_share() -> None:
    p = wilson_interval(0, 0)
    assert (p.share, p.low, p.high) == (None, None, None)


@pytest.mark.parametrize(("events", "n", "field"), [(3, 2, "events"), (-1, 2, "events"), (1, -2, "n")])
def test_wilson_refuses_impossible_counts(events: int, n: int, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        wilson_interval(events, n)


def test_wilson_refuses_booleans() -> None:
    with pytest.raises(TypeError, match="events"):
        wilson_interval(True, 2)


def test_mean_interval_by_hand() -> None:
    """2,4,4,4,5,5,7,9: mean 5, sd sqrt(32/7) = 2.138, t(7) = 2.365, half-width 1.788 -> 3.212 to 6.788."""
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    m = mean_interval(len(values), sum(values), sum(v * v for v in values))
    assert m.mean == 5.0
    assert m.sd == pytest.approx(math.sqrt(32 / 7))
    assert m.low == pytest.approx(3.2123, abs=1e-3)
    assert m.high == pytest.approx(6.7877, abs=1e-3)


def test_mean_of_one_value_has_no_interval() -> None:
    m = mean_interval(1, 7.0, 49.0)
    assert (m.mean, m.sd, m.low, m.high) == (7.0, None, None, None)
    assert mean_interval(0, 0.0, 0.0).mean is None


def test_t_quantiles() -> None:
    """Table values: t(1) = 12.706, t(30) = 2.042; t(60) = 2.000 and t(120) = 1.980 by the expansion."""
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(30) == 2.042
    assert t_quantile_975(60) == pytest.approx(2.000, abs=5e-4)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=5e-4)
    assert t_quantile_975(10**6) == pytest.approx(Z95, abs=1e-4)


def test_funnel_limits_by_hand() -> None:
    """Overall 10 %, 100 procedures: 0.1 ± 1.96·sqrt(0.09/100) = 0.1 ± 0.0588."""
    low, high = funnel_limits(0.1, 100)
    assert low == pytest.approx(0.04120, abs=1e-4)
    assert high == pytest.approx(0.15880, abs=1e-4)
    assert funnel_limits(0.0, 50) == (0.0, 0.0)
    assert funnel_limits(0.5, 1) == (0.0, 1.0)


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_the_share_and_stays_in_range(case: tuple[int, int]) -> None:
    k, n = case
    p = wilson_interval(k, n)
    assert p.low is not None
    assert p.high is not None
    assert p.share is not None
    assert 0.0 <= p.low <= p.share <= p.high <= 1.0
    assert (p.low == 0.0) == (k == 0)
    assert (p.high == 1.0) == (k == n)


@given(st.integers(min_value=1, max_value=2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_is_symmetric(case: tuple[int, int]) -> None:
    k, n = case
    p, q = wilson_interval(k, n), wilson_interval(n - k, n)
    assert p.low == pytest.approx(1 - q.high, abs=1e-12)  # type: ignore[operator]
    assert p.high == pytest.approx(1 - q.low, abs=1e-12)  # type: ignore[operator]


@given(st.integers(1, 200), st.integers(0, 200), st.integers(2, 50))
def test_wilson_narrows_with_more_cases(n: int, k_raw: int, factor: int) -> None:
    k = min(k_raw, n)
    small, large = wilson_interval(k, n), wilson_interval(k * factor, n * factor)
    assert large.high - large.low < small.high - small.low  # type: ignore[operator]


@given(st.lists(st.integers(0, 100), min_size=2, max_size=300))
def test_mean_interval_matches_the_data(values: list[int]) -> None:
    m = mean_interval(len(values), float(sum(values)), float(sum(v * v for v in values)))
    assert m.mean == pytest.approx(statistics.fmean(values))
    assert m.sd == pytest.approx(statistics.stdev(values), abs=1e-6)
    assert m.low is not None
    assert m.high is not None
    assert m.low <= m.mean <= m.high


@given(st.floats(0, 1), st.integers(1, 10**6))
def test_funnel_limits_surround_the_overall_rate(overall: float, n: int) -> None:
    low, high = funnel_limits(overall, n)
    assert 0.0 <= low <= overall <= high <= 1.0
    wider_low, wider_high = funnel_limits(overall, n, z=3.09)
    assert wider_low <= low
    assert wider_high >= high
