"""Intervals of bounded scores stay on their scale (issue 15: an RDQ interval of -63 to 89 on a 0-24 scale)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.statistics import bounded_mean_interval, mean_interval

SCALES = [(0.0, 10.0), (0.0, 24.0), (0.0, 100.0), (-24.0, 24.0)]


def _sums(values: list[float]) -> tuple[int, float, float]:
    return len(values), sum(values), sum(v * v for v in values)


def test_a_skewed_small_rdq_sample_stays_inside_0_to_24() -> None:
    """Two RDQ scores of 0 and 24: the t interval (12.706 · 12) runs far below 0 and above 24."""
    plain = mean_interval(*_sums([0.0, 24.0]))
    assert plain.low is not None
    assert plain.low < -60
    bounded = bounded_mean_interval(*_sums([0.0, 24.0]), 0.0, 24.0)
    assert bounded.mean == 12.0
    assert bounded.low is not None
    assert bounded.high is not None
    assert 0.0 <= bounded.low < 12.0 < bounded.high <= 24.0


def test_values_all_at_the_floor_give_the_floor() -> None:
    """Every NRS score 0: no spread, the interval is the single point 0 (clipped, never negative)."""
    m = bounded_mean_interval(*_sums([0.0, 0.0, 0.0]), 0.0, 10.0)
    assert (m.mean, m.low, m.high) == (0.0, 0.0, 0.0)


def test_a_large_central_sample_matches_the_t_interval_closely() -> None:
    """Far from the ends and with many values, the logit interval is close to the t interval."""
    values = [40.0 + (i % 21) for i in range(400)]
    plain = mean_interval(*_sums(values))
    bounded = bounded_mean_interval(*_sums(values), 0.0, 100.0)
    assert bounded.low == pytest.approx(plain.low, abs=0.2)
    assert bounded.high == pytest.approx(plain.high, abs=0.2)


def test_an_empty_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        bounded_mean_interval(2, 1.0, 1.0, 5.0, 5.0)


@given(
    scale=st.sampled_from(SCALES),
    fractions=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=60),
)
def test_the_interval_never_leaves_the_scale_and_holds_the_mean(
    scale: tuple[float, float], fractions: list[float]
) -> None:
    low, high = scale
    values = [low + f * (high - low) for f in fractions]
    m = bounded_mean_interval(*_sums(values), low, high)
    assert m.mean is not None
    if m.low is None or m.high is None:
        assert len(values) == 1
        return
    assert low <= m.low <= m.high <= high
    assert m.low - 1e-9 * (high - low) <= m.mean <= m.high + 1e-9 * (high - low)
    assert not math.isnan(m.low)
    assert not math.isnan(m.high)
