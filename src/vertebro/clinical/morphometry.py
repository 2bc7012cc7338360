"""Vertebral morphometry: ratios, percent height loss, Genant grade, morphology, vertebra plana.

Heights are the six-point anterior (Ha), middle (Hm) and posterior (Hp) heights in millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.rules import rule

MAX_PLAUSIBLE_HEIGHT_MM = 80.0

R_RATIOS = rule(
    "morphometry.ratios",
    "Wedge ratio = Ha/Hp and biconcavity ratio = Hm/Hp of the same vertebra; crush ratios = Hp/Hp' "
    "and Hp/Hp'' against the posterior heights of the vertebrae above and below.",
    "qm-morphometry",
)
R_REFERENCE = rule(
    "morphometry.reference",
    "Percent height loss uses the mean of the corresponding heights of the adjacent vertebrae above "
    "and below when they are given; otherwise the same vertebra's posterior height, which cannot "
    "show a crush deformity.",
    "morphometry-reference-choice",
)
R_GENANT = rule(
    "morphometry.genant",
    "Genant semiquantitative grade: < 20 % height loss = 0, 20-25 % = 1 (mild), 25-40 % = 2 "
    "(moderate), > 40 % = 3 (severe); vertebro resolves the overlapping boundaries as "
    "<20 -> 0, 20<=x<25 -> 1, 25<=x<=40 -> 2, >40 -> 3.",
    "genant-1993",
)
R_SHAPE = rule(
    "morphometry.shape",
    "Shape: wedge when the anterior height is the most reduced, biconcave when the middle height is, "
    "crush when the posterior height is reduced too (whole vertebral body).",
    "genant-1993",
)
R_PLANA = rule(
    "morphometry.vertebra_plana",
    "Vertebra plana (near-complete collapse) is flagged at 70 % height loss or more.",
    "morphometry-reference-choice",
)

DEFORMITY_THRESHOLD = 0.20
VERTEBRA_PLANA_PERCENT = 70.0


class Morphology(StrEnum):
    """The shape of a vertebral deformity."""

    NONE = "none"
    WEDGE = "wedge"
    BICONCAVE = "biconcave"
    CRUSH = "crush"


class HeightReference(StrEnum):
    """Which heights the percent height loss was measured against."""

    ADJACENT_MEAN = "adjacent_mean"
    ADJACENT_ABOVE = "adjacent_above"
    ADJACENT_BELOW = "adjacent_below"
    SAME_VERTEBRA_POSTERIOR = "same_vertebra_posterior"
    REPORTED = "reported"


@dataclass(frozen=True, slots=True)
class Heights:
    """Anterior, middle and posterior heights of one vertebral body, in millimetres."""

    anterior: float
    middle: float
    posterior: float


class MorphometryError(ValueError):
    """Heights that cannot belong to a real vertebra; ``field`` names the offending height."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Morphometry:
    """Everything measured from one fractured vertebra's heights."""

    wedge_ratio: float | None
    biconcavity_ratio: float | None
    crush_ratio_above: float | None
    crush_ratio_below: float | None
    height_loss_percent: float
    reference: HeightReference
    morphology: Morphology | None  # None: not measurable from a reported percentage
    genant_grade: int
    vertebra_plana: bool


def implausible_heights(anterior: float, middle: float, posterior: float) -> tuple[str, str] | None:
    """Return ``(field, problem)`` for heights no vertebral body can have, or None when plausible."""
    for name, value in (
        ("anterior", anterior),
        ("middle", middle),
        ("posterior", posterior),
    ):
        if not value > 0:
            return name, f"must be greater than 0 mm, got {value}"
        if value > MAX_PLAUSIBLE_HEIGHT_MM:
            return name, (
                f"{value} mm is not a plausible vertebral body height (at most {MAX_PLAUSIBLE_HEIGHT_MM:g} mm)"
            )
    if anterior > 2 * posterior:
        return "anterior", (
            f"anterior height {anterior} mm is more than twice the posterior height {posterior} mm; "
            "check the measurement"
        )
    if middle > 2 * posterior:
        return "middle", (
            f"middle height {middle} mm is more than twice the posterior height {posterior} mm; check the measurement"
        )
    return None


def checked_heights(anterior: float, middle: float, posterior: float) -> Heights:
    """Return the heights as a value, raising :class:`MorphometryError` when implausible."""
    problem = implausible_heights(anterior, middle, posterior)
    if problem is not None:
        raise MorphometryError(*problem)
    return Heights(anterior, middle, posterior)


def genant_grade(height_loss_percent: float) -> int:
    """Return the Genant semiquantitative grade (0-3) for a percent height loss (rule morphometry.genant)."""
    if height_loss_percent < 20.0:
        return 0
    if height_loss_percent < 25.0:
        return 1
    if height_loss_percent <= 40.0:
        return 2
    return 3


def is_vertebra_plana(height_loss_percent: float) -> bool:
    """Return True for near-complete collapse (rule morphometry.vertebra_plana)."""
    return height_loss_percent >= VERTEBRA_PLANA_PERCENT


def _reduction(height: float, reference: float) -> float:
    return max(0.0, 1.0 - height / reference)


def measure(heights: Heights, above: Heights | None = None, below: Heights | None = None) -> Morphometry:
    """Return the morphometry of a vertebra from its heights and optional adjacent-vertebra heights.

    Rules morphometry.ratios, morphometry.reference, morphometry.genant, morphometry.shape and
    morphometry.vertebra_plana (Genant 1993; EPOS quantitative morphometry).
    """
    hp = heights.posterior
    wedge = heights.anterior / hp
    biconcave = heights.middle / hp
    crush_above = hp / above.posterior if above is not None else None
    crush_below = hp / below.posterior if below is not None else None

    refs = [h for h in (above, below) if h is not None]
    if refs:
        n = len(refs)
        ref_a = sum(h.anterior for h in refs) / n
        ref_m = sum(h.middle for h in refs) / n
        ref_p = sum(h.posterior for h in refs) / n
        r_a = _reduction(heights.anterior, ref_a)
        r_m = _reduction(heights.middle, ref_m)
        r_p = _reduction(hp, ref_p)
        if n == 2:
            reference = HeightReference.ADJACENT_MEAN
        elif above is not None:
            reference = HeightReference.ADJACENT_ABOVE
        else:
            reference = HeightReference.ADJACENT_BELOW
    else:
        r_a = _reduction(heights.anterior, hp)
        r_m = _reduction(heights.middle, hp)
        r_p = 0.0
        reference = HeightReference.SAME_VERTEBRA_POSTERIOR

    loss = round(100.0 * max(r_a, r_m, r_p), 1)
    return Morphometry(
        wedge_ratio=round(wedge, 3),
        biconcavity_ratio=round(biconcave, 3),
        crush_ratio_above=None if crush_above is None else round(crush_above, 3),
        crush_ratio_below=None if crush_below is None else round(crush_below, 3),
        height_loss_percent=loss,
        reference=reference,
        morphology=_morphology(loss, r_a, r_m, r_p),
        genant_grade=genant_grade(loss),
        vertebra_plana=is_vertebra_plana(loss),
    )


def reported(height_loss_percent: float) -> Morphometry:
    """Return the morphometry that can be derived from a reported percent height loss alone."""
    return Morphometry(
        wedge_ratio=None,
        biconcavity_ratio=None,
        crush_ratio_above=None,
        crush_ratio_below=None,
        height_loss_percent=height_loss_percent,
        reference=HeightReference.REPORTED,
        morphology=None,
        genant_grade=genant_grade(height_loss_percent),
        vertebra_plana=is_vertebra_plana(height_loss_percent),
    )


def _morphology(loss_percent: float, r_a: float, r_m: float, r_p: float) -> Morphology:
    if loss_percent < 100.0 * DEFORMITY_THRESHOLD:
        return Morphology.NONE
    if r_p >= DEFORMITY_THRESHOLD:
        return Morphology.CRUSH
    return Morphology.WEDGE if r_a >= r_m else Morphology.BICONCAVE
