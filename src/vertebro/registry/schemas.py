"""What the registry is asked (a cohort) and what it answers (figures with their n and method)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from vertebro.clinical.dose import DoseFigures
from vertebro.clinical.statistics import MeanEstimate, Proportion
from vertebro.clinical.verdicts import Category

CauseGroup = Literal["osteoporotic", "neoplastic", "other"]
AgeBand = Literal["<6w", "6w-3m", "older", "unknown"]
LevelsBand = Literal["1", "2", "3+"]
Technique = Literal["vertebroplasty", "kyphoplasty"]

CAUSE_GROUPS: tuple[CauseGroup, ...] = ("osteoporotic", "neoplastic", "other")
AGE_BANDS: tuple[AgeBand, ...] = ("<6w", "6w-3m", "older", "unknown")
AGE_BAND_LABELS = {
    "<6w": "under 6 weeks",
    "6w-3m": "6 weeks to 3 months",
    "older": "over 3 months",
    "unknown": "onset unknown",
}
LEVELS_BANDS: tuple[LevelsBand, ...] = ("1", "2", "3+")
TECHNIQUES: tuple[Technique, ...] = ("vertebroplasty", "kyphoplasty")
VERDICTS = tuple(c.value for c in Category)
VISITS = ("2w", "3m", "12m")
VISIT_LABELS = {"0": "baseline", "2w": "2 weeks", "3m": "3 months", "12m": "12 months"}
MEASURES = ("nrs", "odi", "rdq")
MEASURE_LABELS = {"nrs": "Pain (NRS 0-10)", "odi": "Disability (ODI 0-100)", "rdq": "Disability (RDQ 0-24)"}
MEASURE_SCALES = {"nrs": (0.0, 10.0), "odi": (0.0, 100.0), "rdq": (0.0, 24.0)}
"""Each score's scale (lowest, highest): intervals are kept inside it, changes inside ± its width."""
# Cause of each fracture (clinical.facts.Cause) -> the registry's group; a case is neoplastic if any
# fracture is, osteoporotic if any is (and none neoplastic), other otherwise.
NEOPLASTIC_CAUSES = ("myeloma", "metastasis", "hemangioma")
OSTEOPOROTIC_CAUSES = ("osteoporotic", "low_energy_trauma")


@dataclass(frozen=True, slots=True)
class Cohort:
    """Which treated cases a figure covers; empty tuples and None mean "all"."""

    procedure_from: dt.date | None = None
    procedure_to: dt.date | None = None
    causes: tuple[CauseGroup, ...] = ()
    age_bands: tuple[AgeBand, ...] = ()
    levels: tuple[LevelsBand, ...] = ()
    techniques: tuple[Technique, ...] = ()
    operators: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()

    def query(self) -> list[tuple[str, str]]:
        """Return the cohort as query parameters (for links to the patients behind a figure)."""
        pairs: list[tuple[str, str]] = []
        if self.procedure_from:
            pairs.append(("from", self.procedure_from.isoformat()))
        if self.procedure_to:
            pairs.append(("to", self.procedure_to.isoformat()))
        for name, values in (
            ("cause", self.causes),
            ("age", self.age_bands),
            ("levels", self.levels),
            ("technique", self.techniques),
            ("operator", self.operators),
            ("verdict", self.verdicts),
        ):
            pairs.extend((name, v) for v in values)
        return pairs

    def describe(self) -> str:
        """Return the cohort in words."""
        parts = []
        if self.procedure_from or self.procedure_to:
            parts.append(f"procedures {self.procedure_from or '…'} to {self.procedure_to or '…'}")
        for label, values in (
            ("cause", self.causes),
            ("fracture age", tuple(AGE_BAND_LABELS[a] for a in self.age_bands)),
            ("levels", self.levels),
            ("technique", self.techniques),
            ("operator", self.operators),
            ("verdict at decision", self.verdicts),
        ):
            if values:
                parts.append(f"{label}: {', '.join(v.replace('_', ' ') for v in values)}")
        return "; ".join(parts) or "every treated case"


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One measure at one visit: its mean with CI, and the mean change from baseline in paired cases."""

    visit: str
    level: MeanEstimate
    change: MeanEstimate | None
    responders: Proportion | None


@dataclass(frozen=True, slots=True)
class Course:
    """One instrument from baseline to 12 months."""

    measure: str
    label: str
    points: tuple[TimePoint, ...]


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A published rate or range to compare a registry figure with."""

    label: str
    low: float
    high: float
    source_id: str
    citation: str
    verified: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rate:
    """A registry rate with its CI, how it was computed, and the published figures beside it."""

    key: str
    label: str
    proportion: Proportion
    unit: str
    method: str
    benchmarks: tuple[Benchmark, ...] = ()


@dataclass(frozen=True, slots=True)
class FunnelPoint:
    """One operator on the funnel plot."""

    operator: str
    n: int
    events: int
    share: float
    outside: str  # "", "above 95 %", "above 99.8 %", "below 95 %", ...


@dataclass(frozen=True, slots=True)
class Funnel:
    """Complication rate by operator around the overall rate, with 95 % and 99.8 % control limits."""

    overall: Proportion
    points: tuple[FunnelPoint, ...]
    limits: tuple[tuple[int, float, float, float, float], ...]  # n, low 99.8, low 95, high 95, high 99.8


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a histogram."""

    key: str
    label: str
    n: int


@dataclass(frozen=True, slots=True)
class Completeness:
    """Follow-up questionnaires of one visit: due (window opened), done, overdue (window closed, not done)."""

    visit: str
    due: int
    done: int
    overdue: int
    share_done: Proportion


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """One overdue questionnaire (patient data: shown only to roles that may see patients)."""

    case_id: int
    patient_id: int
    identifier: str
    name: str | None
    visit: str
    due_until: dt.date


@dataclass(frozen=True, slots=True)
class PatientLine:
    """One patient behind a figure."""

    case_id: int
    patient_id: int
    identifier: str
    name: str | None
    procedure_on: dt.date
    technique: str
    operator: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Every figure of the outcomes dashboard for one cohort."""

    cohort: Cohort
    today: dt.date
    procedures: int
    courses: tuple[Course, ...]
    rates: tuple[Rate, ...]
    funnel: Funnel
    wait: MeanEstimate
    wait_buckets: tuple[Bucket, ...]
    age_buckets: tuple[Bucket, ...]
    completeness: tuple[Completeness, ...]
    operators: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class DoseRow:
    """One group's dose figures (the service, an operator or a number of levels): one per quantity of its table."""

    dimension: str  # "service", "operator" or "levels"
    group: str
    figures: tuple[DoseFigures, ...]


@dataclass(frozen=True, slots=True)
class DoseTable:
    """Dose figures of one technique under one guidance, as radiation protection sets local reference levels: the
    median and 75th percentile of each quantity, with the number of procedures behind each figure (rule
    dose.reference-level)."""

    technique: str
    guidance: str  # "fluoroscopy" or "ct"
    quantities: tuple[str, ...]
    procedures: int
    rows: tuple[DoseRow, ...]

    @property
    def service(self) -> DoseRow:
        """The row of every procedure of the table: its 75th percentile is the local reference level."""
        return self.rows[0]
