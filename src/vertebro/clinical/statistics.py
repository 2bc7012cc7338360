"""Summary statistics for the outcomes registry: proportions and means with 95 % confidence intervals.

Pure functions over counts and sums (the database aggregates; nothing here sees a row):

* proportions: the Wilson score interval (Wilson 1927; recommended over the Wald interval by Newcombe
  1998 and Brown, Cai & DasGupta 2001). It stays inside 0-1 and is informative at 0 % and 100 %: with
  0 events in 10 it is 0 % to 27.8 %, where the Wald interval collapses to 0-0.
* means: Student's t interval from n, the sum and the sum of squares; for a score on a bounded scale
  (NRS 0-10, ODI 0-100, RDQ 0-24, or a change between two such scores) the interval is built on the logit
  of the mean's position in the range and transformed back, so it never leaves the scale (the delta
  method on a transformed scale: Agresti & Coull 1998 make the same argument for proportions; a t interval
  of skewed, bounded scores can otherwise run to -63 on a 0-24 scale).
* funnel plots (Spiegelhalter 2005): control limits around the overall rate by the normal approximation
  to the binomial, clipped to 0-1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
"""The two-sided 95 % standard normal quantile."""
Z998 = 3.090232306167813
"""The two-sided 99.8 % standard normal quantile (the outer funnel limit)."""

# Student's t 97.5 % quantiles for 1-30 degrees of freedom (standard tables)
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name}: {value!r} is negative")
    return value


@dataclass(frozen=True, slots=True)
class Proportion:
    """``events`` out of ``n`` with the share and its 95 % Wilson interval (None when n is 0)."""

    events: int
    n: int
    share: float | None
    low: float | None
    high: float | None


def wilson_interval(events: int, n: int, z: float = Z95) -> Proportion:
    """Return the share ``events / n`` with its Wilson score interval (Wilson 1927, Newcombe 1998).

    centre = (p + z²/2n) / (1 + z²/n); half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    At 0 events the interval is [0, z²/(n+z²)], at n events [n/(n+z²), 1].
    """
    k = _count("events", events)
    total = _count("n", n)
    if k > total:
        raise ValueError(f"events: {k} is more than n = {total}")
    if total == 0:
        return Proportion(0, 0, None, None, None)
    p = k / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == total else min(1.0, centre + half)
    return Proportion(k, total, p, low, high)


def t_quantile_975(df: int) -> float:
    """Return Student's t 97.5 % quantile for ``df`` degrees of freedom.

    Tabulated for 1-30; above 30 the Cornish-Fisher expansion (error below 0.0005).
    """
    d = _count("df", df)
    if d == 0:
        raise ValueError("df: must be at least 1")
    if d <= len(_T975):
        return _T975[d - 1]
    z = Z95
    return z + (z**3 + z) / (4 * d) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * d * d)


@dataclass(frozen=True, slots=True)
class MeanEstimate:
    """The mean of ``n`` values with the sample standard deviation and its 95 % t interval."""

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None


def mean_interval(n: int, total: float, total_of_squares: float) -> MeanEstimate:
    """Return the mean, standard deviation and 95 % t interval from n, Σx and Σx².

    sd = sqrt((Σx² - (Σx)²/n) / (n-1)); interval = mean ± t(0.975, n-1)·sd/√n. With one value there is
    no interval; with none, no mean.
    """
    count = _count("n", n)
    if count == 0:
        return MeanEstimate(0, None, None, None, None)
    mean = total / count
    if count == 1:
        return MeanEstimate(1, mean, None, None, None)
    variance = max(0.0, (total_of_squares - total * total / count) / (count - 1))
    sd = math.sqrt(variance)
    half = t_quantile_975(count - 1) * sd / math.sqrt(count)
    return MeanEstimate(count, mean, sd, mean - half, mean + half)


def bounded_mean_interval(n: int, total: float, total_of_squares: float, low: float, high: float) -> MeanEstimate:
    """Return the mean and a 95 % interval that stays inside the scale [low, high].

    With p = (mean - low) / (high - low) and se = sd / (√n · (high - low)), the interval is
    expit(logit(p) ± t(0.975, n-1) · se / (p(1-p))) mapped back to the scale; when every value sits at one
    end (p is 0 or 1, or the spread is 0) the t interval is clipped to the scale instead.
    """
    if not high > low:
        raise ValueError(f"scale: {low!r}-{high!r} is empty")
    plain = mean_interval(n, total, total_of_squares)
    if plain.mean is None or plain.sd is None or plain.low is None or plain.high is None:
        return plain
    width = high - low
    p = (plain.mean - low) / width
    if plain.sd == 0.0 or not 0.0 < p < 1.0:
        return MeanEstimate(plain.n, plain.mean, plain.sd, max(low, plain.low), min(high, plain.high))
    half = t_quantile_975(plain.n - 1) * plain.sd / (math.sqrt(plain.n) * width) / (p * (1.0 - p))
    centre = math.log(p / (1.0 - p))
    return MeanEstimate(
        plain.n,
        plain.mean,
        plain.sd,
        max(low, low + width * _expit(centre - half)),
        min(high, low + width * _expit(centre + half)),
    )


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def funnel_limits(overall: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the funnel plot's control limits for a unit of ``n`` procedures around the overall rate.

    overall ± z·sqrt(overall(1-overall)/n), clipped to 0-1 (normal approximation to the binomial,
    Spiegelhalter 2005; adequate once n·overall reaches about 5).
    """
    if not 0.0 <= overall <= 1.0:
        raise ValueError(f"overall: {overall!r} is outside 0-1")
    count = _count("n", n)
    if count == 0:
        raise ValueError("n: must be at least 1")
    half = z * math.sqrt(overall * (1 - overall) / count)
    return max(0.0, overall - half), min(1.0, overall + half)
