"""The radiation dose of a procedure against reference levels and the follow-up thresholds (pure).

Two different comparisons, kept apart because they mean different things:

* **Diagnostic reference levels** (DRLs) are an optimisation tool: the 75th percentile of a survey's doses for one
  procedure, set nationally (with a country and a year) or locally. A dose above a DRL asks the team to review its
  technique; it says nothing about harm to this patient (rule ``dose.reference-level``).
* The **substantial radiation dose level** is a patient-safety threshold: above it a skin reaction is possible
  and the patient is told and followed up (rule ``dose.substantial-radiation-dose``; SIR/CIRSE 2009, NCRP 168).

Nothing here reads a database or a file: the values come in as :class:`DoseValues`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vertebro.clinical.rules import rule

R_DOSE_FOLLOW_UP = rule(
    "dose.substantial-radiation-dose",
    "A fluoroscopy-guided procedure whose reference air kerma exceeds 5 Gy, whose kerma-area product exceeds "
    "500 Gy·cm² or whose fluoroscopy time exceeds 60 minutes reached the substantial radiation dose level: the "
    "patient is told, the dose is written in the record and the patient is followed up for skin effects.",
    "sir-cirse-dose-2009",
    "ncrp-168-2010",
)
R_DOSE_REFERENCE = rule(
    "dose.reference-level",
    "A procedure's dose is compared with the diagnostic reference level of that procedure (the 75th percentile of "
    "a dose survey, national with its country and year, or local); a dose above it calls for a review of the "
    "technique, not for patient follow-up.",
    "asn-2019-dc-0667",
)

# quantity -> (label, unit)
QUANTITIES: dict[str, tuple[str, str]] = {
    "air_kerma_mgy": ("reference air kerma", "mGy"),
    "dap_gy_cm2": ("kerma-area product", "Gy·cm²"),
    "fluoroscopy_minutes": ("fluoroscopy time", "min"),
    "ctdivol_mgy": ("CTDIvol", "mGy"),
    "dlp_mgy_cm": ("dose-length product", "mGy·cm"),
}


@dataclass(frozen=True, slots=True)
class DoseValues:
    """The accumulated dose of one procedure, in the units of the procedure record."""

    fluoroscopy_minutes: float | None = None
    dap_gy_cm2: float | None = None
    air_kerma_mgy: float | None = None
    ctdivol_mgy: float | None = None
    dlp_mgy_cm: float | None = None

    def value(self, quantity: str) -> float | None:
        """Return the value of one quantity (a key of :data:`QUANTITIES`)."""
        result: float | None = getattr(self, quantity)
        return result

    @property
    def empty(self) -> bool:
        """True when no quantity is known."""
        return all(self.value(q) is None for q in QUANTITIES)


@dataclass(frozen=True, slots=True)
class Threshold:
    """A limit on one quantity: a follow-up threshold or a reference level, with where it comes from."""

    quantity: str
    limit: float | None  # None: the published value was not read here, so nothing is compared
    source_id: str
    country: str | None = None
    year: int | None = None
    technique: str | None = None  # None: any technique
    guidance: str = "fluoroscopy"  # or "ct"

    @property
    def label(self) -> str:
        """What the threshold limits, with its unit."""
        name, unit = QUANTITIES[self.quantity]
        return f"{name} ({unit})"


# SIR/CIRSE 2009 and NCRP Report 168: the substantial radiation dose level (SRDL) of fluoroscopy-guided procedures.
SUBSTANTIAL_DOSE: tuple[Threshold, ...] = (
    Threshold("air_kerma_mgy", 5000.0, "ncrp-168-2010"),
    Threshold("dap_gy_cm2", 500.0, "ncrp-168-2010"),
    Threshold("fluoroscopy_minutes", 60.0, "ncrp-168-2010"),
)

# National DRLs for vertebral augmentation. France, ASN decision 2019-DC-0667: the interventional annex's
# vertebroplasty entry was not read here, so its value is left empty and the comparison says so (decision 0023).
REFERENCE_LEVELS: tuple[Threshold, ...] = (
    Threshold("dap_gy_cm2", None, "asn-2019-dc-0667", country="France", year=2019, technique="vertebroplasty"),
    Threshold("fluoroscopy_minutes", None, "asn-2019-dc-0667", country="France", year=2019, technique="vertebroplasty"),
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One quantity against one threshold: the value, the limit, and whether it was exceeded."""

    threshold: Threshold
    value: float | None
    exceeded: bool
    compared: bool  # False when the value or the published limit is not known

    @property
    def text(self) -> str:
        """A line for the chart: the quantity, the value and the limit."""
        name, unit = QUANTITIES[self.threshold.quantity]
        where = f" ({self.threshold.country} {self.threshold.year})" if self.threshold.country else ""
        if self.threshold.limit is None:
            return f"{name}: reference level{where} not confirmed, not compared"
        if self.value is None:
            return f"{name}: not recorded (limit {self.threshold.limit:g} {unit}{where})"
        relation = "above" if self.exceeded else "within"
        return f"{name} {self.value:g} {unit}: {relation} {self.threshold.limit:g} {unit}{where}"


@dataclass(frozen=True, slots=True)
class DoseReview:
    """The dose of one procedure against the follow-up thresholds and the reference levels."""

    follow_up: tuple[Comparison, ...]
    reference: tuple[Comparison, ...]
    recorded: bool  # False: no dose value at all (nothing was reported or typed)

    @property
    def follow_up_needed(self) -> bool:
        """True when any substantial-radiation-dose threshold was exceeded (rule dose.substantial-radiation-dose)."""
        return any(c.exceeded for c in self.follow_up)

    @property
    def above_reference(self) -> tuple[Comparison, ...]:
        """The reference levels the dose exceeded (rule dose.reference-level)."""
        return tuple(c for c in self.reference if c.exceeded)

    @property
    def unverified(self) -> bool:
        """True: both rules rest on sources whose threshold text was not checked here."""
        return R_DOSE_FOLLOW_UP.unverified or R_DOSE_REFERENCE.unverified


def _compare(threshold: Threshold, values: DoseValues) -> Comparison:
    value = values.value(threshold.quantity)
    if value is None or threshold.limit is None or math.isnan(value):
        return Comparison(threshold, value, exceeded=False, compared=False)
    return Comparison(threshold, value, exceeded=value > threshold.limit, compared=True)


def review_dose(
    values: DoseValues,
    *,
    technique: str = "vertebroplasty",
    reference_levels: Sequence[Threshold] = REFERENCE_LEVELS,
) -> DoseReview:
    """Compare a procedure's dose with the substantial radiation dose level (rule dose.substantial-radiation-dose)
    and with the reference levels of its technique (rule dose.reference-level).

    A threshold is exceeded only when strictly above its limit; a quantity not recorded is never exceeded but is
    listed as not compared, so a missing dose is visible rather than read as a low one.
    """
    follow_up = tuple(_compare(t, values) for t in SUBSTANTIAL_DOSE)
    reference = tuple(_compare(t, values) for t in reference_levels if t.technique is None or t.technique == technique)
    return DoseReview(follow_up=follow_up, reference=reference, recorded=not values.empty)


MIN_PROCEDURES_FOR_LEVEL = 10


def _percentile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def local_reference_level(doses: Sequence[float]) -> float | None:
    """Return the 75th percentile of a set of procedure doses (how a local DRL is set, rule dose.reference-level),
    or None for fewer than 10 procedures; linear interpolation between order statistics."""
    ordered = sorted(d for d in doses if not math.isnan(d))
    if len(ordered) < MIN_PROCEDURES_FOR_LEVEL:
        return None
    return _percentile(ordered, 0.75)


@dataclass(frozen=True, slots=True)
class DoseFigures:
    """One group's doses of one quantity: how many, the median, and the 75th percentile (rule dose.reference-level;
    None below 10 procedures, too few to set a level on)."""

    group: str
    quantity: str
    procedures: int
    median: float | None
    p75: float | None


def dose_figures(rows: Sequence[tuple[str, float | None]], quantity: str) -> list[DoseFigures]:
    """Median and 75th percentile of a quantity per group (e.g. per operator), then for all groups together
    (group ``"all"``, the service's local reference level); procedures without the quantity are not counted."""
    groups: dict[str, list[float]] = {}
    for group, value in rows:
        if value is not None and not math.isnan(value):
            groups.setdefault(group, []).append(value)
    everyone = [v for values in groups.values() for v in values]
    figures = []
    for group, values in [*sorted(groups.items()), ("all", everyone)]:
        ordered = sorted(values)
        figures.append(
            DoseFigures(
                group=group,
                quantity=quantity,
                procedures=len(ordered),
                median=_percentile(ordered, 0.5) if ordered else None,
                p75=local_reference_level(ordered),
            )
        )
    return figures
