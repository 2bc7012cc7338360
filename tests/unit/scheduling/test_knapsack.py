"""The room-day knapsack facets: valid for every whole packing, and they cut off fractional fillings."""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from vertebro.scheduling.knapsack import bin_cuts, hull_cuts, knapsack_max


def _packings(sizes: tuple[int, ...], capacity: int) -> list[tuple[int, ...]]:
    ranges = [range(capacity // s + 1) for s in sizes]
    return [p for p in product(*ranges) if sum(s * n for s, n in zip(sizes, p, strict=True)) <= capacity]


def _holds(cut: tuple[tuple[int, ...], int], point: tuple[float, ...]) -> bool:
    coef, rhs = cut
    return sum(c * n for c, n in zip(coef, point, strict=True)) <= rhs + 1e-9


def test_six_sessions_of_ninety_minutes_fill_six_hundred_not_six_and_two_thirds() -> None:
    cuts = hull_cuts((90,), 600)
    assert cuts == (((1,), 6),)
    assert not _holds(cuts[0], (600 / 90,))


def test_the_three_session_lengths_of_a_working_day() -> None:
    sizes, capacity = (90, 150, 210), 600
    cuts = hull_cuts(sizes, capacity)
    assert cuts
    for point in _packings(sizes, capacity):
        assert all(_holds(cut, point) for cut in cuts)
    # every cut is tight at some whole packing (a facet, not a loose bound)
    for coef, rhs in cuts:
        assert max(sum(c * n for c, n in zip(coef, p, strict=True)) for p in _packings(sizes, capacity)) == rhs
    # a fractional filling of the room with the longest sessions is cut off
    assert not all(_holds(cut, (0.0, 0.0, capacity / 210)) for cut in cuts)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.sampled_from([30, 60, 90, 120, 150, 180, 210, 240]), min_size=1, max_size=3, unique=True),
    capacity=st.integers(min_value=0, max_value=720),
)
def test_every_whole_packing_satisfies_every_cut(sizes: list[int], capacity: int) -> None:
    ordered = tuple(sorted(sizes))
    cuts = hull_cuts(ordered, capacity)
    for point in _packings(ordered, capacity):
        assert all(_holds(cut, point) for cut in cuts)
    for coef, _ in cuts:
        assert all(c >= 0 for c in coef)


def test_more_than_three_lengths_get_no_cuts() -> None:
    assert hull_cuts((60, 90, 150, 210), 600) == ()


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.sampled_from([30, 60, 90, 120, 150, 210]), min_size=1, max_size=3, unique=True),
    coef=st.lists(st.integers(min_value=0, max_value=5), min_size=3, max_size=3),
    capacity=st.integers(min_value=0, max_value=660),
)
def test_knapsack_max_is_the_best_whole_packing(sizes: list[int], coef: list[int], capacity: int) -> None:
    ordered = tuple(sorted(sizes))
    weights = tuple(coef[: len(ordered)])
    best = max(sum(c * n for c, n in zip(weights, p, strict=True)) for p in _packings(ordered, capacity))
    assert knapsack_max(weights, ordered, capacity) == best


def test_two_radiologists_cannot_share_eleven_short_sessions_and_a_long_one() -> None:
    """1,200 minutes of 90- and 210-minute sessions fill 2 x 600 minutes in total, but not person by person."""
    cuts = bin_cuts((90, 210), (600, 600))
    assert not all(_holds(cut, (11, 1)) for cut in cuts)
    assert all(_holds(cut, (2, 4)) and _holds(cut, (4, 2)) for cut in cuts)  # 2 x (2 x 90 + 2 x 210)


@settings(max_examples=80, deadline=None)
@given(
    sizes=st.lists(st.sampled_from([60, 90, 120, 150, 180, 210, 240]), min_size=1, max_size=5, unique=True),
    bins=st.lists(st.integers(min_value=0, max_value=630), min_size=1, max_size=3),
    data=st.data(),
)
def test_every_packing_into_bins_satisfies_every_bin_cut(
    sizes: list[int], bins: list[int], data: st.DataObject
) -> None:
    """No cut removes a way of sharing whole sessions among the bins (a valid inequality, never a guess).

    Up to three lengths (procedures) the cuts come from the bins' knapsack facets; monitoring comes in
    up to five lengths (120-240 minutes), where the cuts count sessions in units of each length."""
    ordered = tuple(sorted(sizes))
    cuts = bin_cuts(ordered, tuple(sorted(bins)))
    for _ in range(20):
        total = [0] * len(ordered)
        for capacity in bins:
            point = data.draw(st.sampled_from(_packings(ordered, capacity)))
            total = [t + n for t, n in zip(total, point, strict=True)]
        assert all(_holds(cut, tuple(total)) for cut in cuts)
    assert all(c >= 0 for coef, _ in cuts for c in coef)


def test_three_bays_of_a_day_hold_nine_three_hour_monitorings_not_ten_and_a_half() -> None:
    """From 09:30 to 20:00 a bay holds three 180-minute monitorings and a gap no further patient fits."""
    sizes = (120, 150, 180, 210, 240)
    cuts = bin_cuts(sizes, (630, 630, 630))
    assert not all(_holds(cut, (1, 1, 9, 0, 0)) for cut in cuts)  # 1,890 bay minutes, exactly 3 x 630
    assert all(_holds(cut, (0, 0, 9, 0, 0)) for cut in cuts)
