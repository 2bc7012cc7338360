"""The room-day knapsack facets: valid for every whole packing, and they cut off fractional fillings."""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from vertebro.scheduling.knapsack import hull_cuts


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
