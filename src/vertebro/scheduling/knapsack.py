"""Facets of small knapsacks: the strongest linear constraints on how many sessions of each length fit a room-day.

A room-day of capacity C holds a whole number of sessions of each length. The master's constraint
"minutes booked <= C" lets the linear relaxation fill C exactly with fractions of sessions (6.67 sessions
of 90 minutes in 600 minutes), which made its bound weak. When a room-day's sessions come in at most
three lengths, the convex hull of the whole-number solutions of ``sum(length_k * n_k) <= C`` is small and
exact: its facets, added to the master, cut every such fraction off while keeping every real plan.
"""

from __future__ import annotations

import math
from functools import cache
from itertools import combinations, product

Cut = tuple[tuple[int, ...], int]  # coefficients per length, right-hand side: sum(coef_k * n_k) <= rhs

MAX_LENGTHS = 3
DUAL_PARTS = 8  # bin_cuts also counts lengths in 1/2 ... 1/8 of a bin (rounded down)


def _maximal(sizes: tuple[int, ...], capacity: int) -> list[tuple[int, ...]]:
    """Return the maximal whole-number packings (adding any further session would exceed the capacity)."""
    ranges = [range(capacity // s + 1) for s in sizes]
    feasible = {p for p in product(*ranges) if sum(s * n for s, n in zip(sizes, p, strict=True)) <= capacity}
    return sorted(
        p
        for p in feasible
        if all(tuple(n + (j == k) for j, n in enumerate(p)) not in feasible for k in range(len(sizes)))
    )


def _positive_facets(sizes: tuple[int, ...], capacity: int) -> set[Cut]:
    """Return the facets with every coefficient positive (they pass through maximal packings only)."""
    dims = len(sizes)
    points = _maximal(sizes, capacity)
    cuts: set[Cut] = set()
    if dims == 1:
        return {((1,), capacity // sizes[0])}
    for chosen in combinations(points, dims):
        normal = _normal(chosen)
        if normal is None:
            continue
        coef = normal if sum(normal) > 0 else tuple(-c for c in normal)
        if any(c <= 0 for c in coef):
            continue
        rhs = sum(c * n for c, n in zip(coef, chosen[0], strict=True))
        if all(sum(c * n for c, n in zip(coef, p, strict=True)) <= rhs for p in points):
            divisor = math.gcd(*coef, rhs)
            cuts.add((tuple(c // divisor for c in coef), rhs // divisor))
    return cuts


def _normal(points: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """Return an integer normal of the hyperplane through ``len(points)`` points in that many dimensions."""
    base = points[0]
    vectors = [tuple(q - b for q, b in zip(p, base, strict=True)) for p in points[1:]]
    if len(base) == 1:
        return (1,)
    if len(base) == 2:
        (dx, dy) = vectors[0]
        return (-dy, dx) if (dx, dy) != (0, 0) else None
    (a1, a2, a3), (b1, b2, b3) = vectors
    normal = (a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1)
    return None if normal == (0, 0, 0) else normal


@cache
def hull_cuts(sizes: tuple[int, ...], capacity: int) -> tuple[Cut, ...]:
    """Return the facets ``sum(coef_k * n_k) <= rhs`` (coefficients >= 0) of packing ``sizes`` into ``capacity``.

    Every whole-number packing satisfies every cut; fractional packings that fill the capacity exactly
    do not. At most ``MAX_LENGTHS`` lengths (more: no cuts). The plain capacity constraint is not repeated.
    """
    dims = len(sizes)
    if not 1 <= dims <= MAX_LENGTHS or any(s <= 0 for s in sizes) or capacity < 0:
        return ()
    cuts: set[Cut] = set()
    # A facet with a zero coefficient is a facet of the knapsack of the other lengths, lifted with zeros.
    for size in range(1, dims + 1):
        for subset in combinations(range(dims), size):
            for coef, rhs in _positive_facets(tuple(sizes[k] for k in subset), capacity):
                lifted = [0] * dims
                for k, c in zip(subset, coef, strict=True):
                    lifted[k] = c
                cuts.add((tuple(lifted), rhs))
    plain = _plain(sizes, capacity)
    useful = [c for c in cuts if c != plain and not _dominated_by_bounds(c, sizes, capacity)]
    return tuple(sorted(c for c in useful if not any(_dominates(other, c) for other in useful if other != c)))


def _dominates(a: Cut, b: Cut) -> bool:
    """True when cut ``a`` implies cut ``b`` for non-negative counts (larger coefficients, smaller bound)."""
    return all(x >= y for x, y in zip(a[0], b[0], strict=True)) and a[1] <= b[1]


def _plain(sizes: tuple[int, ...], capacity: int) -> Cut:
    divisor = math.gcd(*sizes, capacity)
    return tuple(s // divisor for s in sizes), capacity // divisor


def _dominated_by_bounds(cut: Cut, sizes: tuple[int, ...], capacity: int) -> bool:
    """True when the cut holds for every fractional packing too (it cuts nothing off)."""
    coef, rhs = cut
    # the fractional packings' vertices are the origin and capacity / size on each axis
    return all(c * capacity <= rhs * s for c, s in zip(coef, sizes, strict=True))


@cache
def knapsack_max(coef: tuple[int, ...], sizes: tuple[int, ...], capacity: int) -> int:
    """Return the largest ``sum(coef_k * n_k)`` over whole-number packings ``sum(sizes_k * n_k) <= capacity``.

    An unbounded knapsack solved exactly by dynamic programming over the capacity in steps of the
    sizes' greatest common divisor (a few dozen steps for sessions in a working day).
    """
    if capacity <= 0 or not sizes:
        return 0
    step = math.gcd(*sizes)
    units = capacity // step
    best = [0] * (units + 1)
    for c in range(1, units + 1):
        best[c] = max(
            [best[c - 1], *(best[c - s // step] + v for s, v in zip(sizes, coef, strict=True) if s // step <= c)]
        )
    return best[units]


@cache
def bin_cuts(sizes: tuple[int, ...], capacities: tuple[int, ...]) -> tuple[Cut, ...]:
    """Return cuts ``sum(coef_k * n_k) <= rhs`` valid for packing sessions of ``sizes`` into several bins.

    A bin is one person's (or one room's) free stretch of a day, and no session spans two. For any
    coefficients ``c >= 0``, each bin holds at most ``knapsack_max(c, sizes, capacity)``, so the sum over
    the bins bounds every packing into them: a valid cut for every ``c``. The coefficients tried are the
    facets of each bin's own knapsack (``hull_cuts``) on every three of the lengths (the others at zero),
    the session lengths themselves (total minutes, less what no whole packing can fill), and each length
    counted in units of each length and in units of a bin's 1/2 to 1/``DUAL_PARTS`` (rounded down; the
    classic dual feasible functions of bin packing). With identical bins and up to three lengths these
    include the facets of the bins' combined hull. Cuts that every fractional packing within the bins'
    total minutes satisfies are left out.
    """
    if not sizes or any(s <= 0 for s in sizes):
        return ()
    total = sum(c for c in capacities if c > 0)
    normals = {_plain(sizes, 1)[0], *(tuple(s // unit for s in sizes) for unit in sizes)}
    for capacity in set(capacities):
        normals.update(
            tuple(s * parts // capacity for s in sizes) for parts in range(2, DUAL_PARTS + 1) if capacity > 0
        )
    normals.discard(tuple(0 for _ in sizes))
    # the facets of each bin's knapsack restricted to up to three of the lengths, the others at zero
    for subset in combinations(range(len(sizes)), min(len(sizes), MAX_LENGTHS)):
        for capacity in set(capacities):
            for coef, _ in hull_cuts(tuple(sizes[k] for k in subset), capacity):
                lifted = [0] * len(sizes)
                for k, c in zip(subset, coef, strict=True):
                    lifted[k] = c
                normals.add(tuple(lifted))
    cuts = set()
    for coef in normals:
        rhs = sum(knapsack_max(coef, sizes, c) for c in capacities)
        divisor = math.gcd(*coef, rhs)
        cut = (tuple(c // divisor for c in coef), rhs // divisor)
        if not _dominated_by_bounds(cut, sizes, total):
            cuts.add(cut)
    return tuple(sorted(c for c in cuts if not any(_dominates(other, c) for other in cuts if other != c)))
