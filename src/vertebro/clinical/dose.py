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

from vertebro.clinical.evidence import Confirmation, source
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
    "icrp-135-2017",
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


GUIDANCES = ("fluoroscopy", "ct")
# The quantities each guidance is measured in: a C-arm reports KAP, Ka,r and fluoroscopy time, a CT CTDIvol and DLP.
GUIDANCE_QUANTITIES: dict[str, tuple[str, ...]] = {
    "fluoroscopy": ("dap_gy_cm2", "air_kerma_mgy", "fluoroscopy_minutes"),
    "ct": ("ctdivol_mgy", "dlp_mgy_cm"),
}


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

    @property
    def confirmation(self) -> Confirmation:
        """How firmly the threshold's source was confirmed (``clinical.evidence``)."""
        return source(self.source_id).confirmation

    @property
    def unverified(self) -> bool:
        """True unless the value was read in the primary document (a ``secondary`` or ``unverified`` source, or a
        value not read at all): every output marks such a comparison."""
        return self.limit is None or self.confirmation is not Confirmation.CONFIRMED

    @property
    def origin(self) -> str:
        """Where the level comes from, for a reader: country, year, document and its confirmation."""
        cited = source(self.source_id)
        document = cited.document_id or f"{cited.citation.split(',')[0]} et al. {cited.year or ''}".strip()
        where = ", ".join(str(part) for part in (self.country, self.year) if part)
        mark = "" if not self.unverified else f", {self.confirmation.value.replace('_', ' ')}"
        return f"{where}; {document}{mark}" if where else f"{document}{mark}"


# SIR/CIRSE 2009 and NCRP Report 168: the substantial radiation dose level (SRDL) of fluoroscopy-guided procedures.
SUBSTANTIAL_DOSE: tuple[Threshold, ...] = (
    Threshold("air_kerma_mgy", 5000.0, "ncrp-168-2010"),
    Threshold("dap_gy_cm2", 500.0, "ncrp-168-2010"),
    Threshold("fluoroscopy_minutes", 60.0, "ncrp-168-2010"),
)

# Published diagnostic reference levels for vertebral augmentation, by country, year, technique and guidance
# (decision 0029). No value could be read in the documents available to this work, so every limit is empty: the
# chart, the report and the registry list each as "not confirmed, not compared" instead of comparing against a
# remembered number. A clinician who reads a table fills in its limit (and raises the source's confirmation).
REFERENCE_LEVELS: tuple[Threshold, ...] = (
    # France, ASN decision 2019-DC-0667 (homologated 23 May 2019): its interventional annex was not read.
    Threshold("dap_gy_cm2", None, "asn-2019-dc-0667", country="France", year=2019, technique="vertebroplasty"),
    Threshold("fluoroscopy_minutes", None, "asn-2019-dc-0667", country="France", year=2019, technique="vertebroplasty"),
    # Germany, BfS announcement of 17 November 2022, table 6 (interventional procedures in adults, KAP).
    Threshold("dap_gy_cm2", None, "bfs-drw-2022", country="Germany", year=2022, technique="vertebroplasty"),
    # France, IRSN multicentre survey of interventional neuroradiology including vertebroplasty (KAP, fluoro time).
    Threshold("dap_gy_cm2", None, "kien-irsn-2011", country="France", year=2011, technique="vertebroplasty"),
    Threshold("fluoroscopy_minutes", None, "kien-irsn-2011", country="France", year=2011, technique="vertebroplasty"),
    # United States, proposed initial reference levels from the RAD-IR data (KAP, Ka,r, fluoroscopy time).
    Threshold("dap_gy_cm2", None, "miller-2009-us-rl", country="United States", year=2009, technique="vertebroplasty"),
    Threshold(
        "air_kerma_mgy", None, "miller-2009-us-rl", country="United States", year=2009, technique="vertebroplasty"
    ),
    Threshold(
        "fluoroscopy_minutes", None, "miller-2009-us-rl", country="United States", year=2009, technique="vertebroplasty"
    ),
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
        """A line for the chart and the report: the quantity, the value, the limit and where the limit comes from
        (with its confirmation when it is not confirmed, so an unconfirmed level is never read as confirmed)."""
        name, unit = QUANTITIES[self.threshold.quantity]
        where = f" ({self.threshold.origin})" if self.threshold.country else ""
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
    technique: str = "vertebroplasty"
    guidance: tuple[str, ...] = ("fluoroscopy",)

    @property
    def follow_up_needed(self) -> bool:
        """True when any substantial-radiation-dose threshold was exceeded (rule dose.substantial-radiation-dose)."""
        return any(c.exceeded for c in self.follow_up)

    @property
    def above_reference(self) -> tuple[Comparison, ...]:
        """The reference levels the dose exceeded (rule dose.reference-level)."""
        return tuple(c for c in self.reference if c.exceeded)

    @property
    def no_reference(self) -> tuple[str, ...]:
        """The guidances of this procedure for which no published reference level of its technique is registered:
        listed as missing, never read as "within" (rule dose.reference-level)."""
        covered = {c.threshold.guidance for c in self.reference}
        return tuple(
            f"no published reference level registered for {self.technique} under "
            f"{'CT' if guidance == 'ct' else guidance}"
            for guidance in self.guidance
            if guidance not in covered
        )

    @property
    def reference_unverified(self) -> bool:
        """True when any reference level shown rests on a value not confirmed in its primary document."""
        return R_DOSE_REFERENCE.unverified or any(c.threshold.unverified for c in self.reference)

    @property
    def unverified(self) -> bool:
        """True: both rules rest on sources whose threshold text was not checked here."""
        return R_DOSE_FOLLOW_UP.unverified or R_DOSE_REFERENCE.unverified


def _compare(threshold: Threshold, values: DoseValues) -> Comparison:
    value = values.value(threshold.quantity)
    if value is None or threshold.limit is None or math.isnan(value):
        return Comparison(threshold, value, exceeded=False, compared=False)
    return Comparison(threshold, value, exceeded=value > threshold.limit, compared=True)


def guidance_of(values: DoseValues) -> tuple[str, ...]:
    """The guidances a dose was measured under, read from which quantities it holds (fluoroscopy when none)."""
    found = tuple(g for g in GUIDANCES if any(values.value(q) is not None for q in GUIDANCE_QUANTITIES[g]))
    return found or ("fluoroscopy",)


def review_dose(
    values: DoseValues,
    *,
    technique: str = "vertebroplasty",
    guidance: Sequence[str] | None = None,
    reference_levels: Sequence[Threshold] = REFERENCE_LEVELS,
) -> DoseReview:
    """Compare a procedure's dose with the substantial radiation dose level (rule dose.substantial-radiation-dose)
    and with the reference levels of its technique and guidance (rule dose.reference-level).

    ``guidance`` is how the needle was guided (``fluoroscopy``, ``ct`` or both); when not given it is read from the
    quantities recorded. A threshold is exceeded only when strictly above its limit; a quantity not recorded is
    never exceeded but is listed as not compared, so a missing dose is visible rather than read as a low one.
    """
    guided = tuple(g for g in GUIDANCES if g in (guidance or guidance_of(values)))
    follow_up = tuple(_compare(t, values) for t in SUBSTANTIAL_DOSE)
    reference = tuple(
        _compare(t, values)
        for t in reference_levels
        if (t.technique is None or t.technique == technique) and t.guidance in guided
    )
    return DoseReview(
        follow_up=follow_up,
        reference=reference,
        recorded=not values.empty,
        technique=technique,
        guidance=guided or ("fluoroscopy",),
    )


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
