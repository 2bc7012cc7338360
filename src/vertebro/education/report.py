"""The radiologist's structured procedure report, as a typed value.

The report is built from the signed procedure record (technique, levels, date, operator and dose come from it,
never from the recommendation) as a :class:`ProcedureReport` value and rendered by
:func:`vertebro.education.render.procedure_report_html`.
Leak types follow the classification used in the 3,175-patient series (cortical: paravertebral,
intradiscal, into the spinal canal; basivertebral vein; segmental vein) [leak-pattern-2019].
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.dose import DoseReview, DoseValues, review_dose
from vertebro.clinical.levels import level_error, level_index
from vertebro.errors import InvalidInput

MAX_CEMENT_ML_PER_LEVEL = 20.0


class Approach(StrEnum):
    """How the needle(s) reached the vertebral body."""

    UNIPEDICULAR = "unipedicular"
    BIPEDICULAR = "bipedicular"


class Guidance(StrEnum):
    """The imaging that guided the needle."""

    FLUOROSCOPY = "fluoroscopy"
    CT = "CT"
    CT_FLUOROSCOPY = "CT and fluoroscopy"


# The guidance of the report as the dose review's guidances (clinical.dose.GUIDANCES).
GUIDANCE_KINDS: dict[Guidance, tuple[str, ...]] = {
    Guidance.FLUOROSCOPY: ("fluoroscopy",),
    Guidance.CT: ("ct",),
    Guidance.CT_FLUOROSCOPY: ("fluoroscopy", "ct"),
}


class Leak(StrEnum):
    """Where cement was seen outside the vertebral body."""

    PARAVERTEBRAL = "paravertebral (soft tissue)"
    INTRADISCAL = "intradiscal"
    SPINAL_CANAL = "spinal canal (epidural or foraminal)"
    BASIVERTEBRAL_VEIN = "basivertebral vein"
    SEGMENTAL_VEIN = "segmental vein"


class Treatment(StrEnum):
    """The augmentation performed."""

    VERTEBROPLASTY = "vertebroplasty"
    KYPHOPLASTY = "kyphoplasty"


@dataclass(frozen=True, slots=True)
class TreatedLevel:
    """One treated vertebra: access, cement and any leak."""

    level: str
    approach: Approach
    cement_ml: float
    leaks: tuple[Leak, ...] = ()
    leak_symptomatic: bool = False
    biopsy: bool = False

    def __post_init__(self) -> None:
        problem = level_error(self.level)
        if problem is not None:
            raise InvalidInput(problem, field="levels.level")
        if not 0 < self.cement_ml <= MAX_CEMENT_ML_PER_LEVEL:
            raise InvalidInput(
                f"{self.level}: cement volume must be above 0 and at most {MAX_CEMENT_ML_PER_LEVEL:g} mL",
                field="levels.cement_ml",
            )
        if self.leak_symptomatic and not self.leaks:
            raise InvalidInput(f"{self.level}: a symptomatic leak needs its location", field="levels.leaks")
        if len(set(self.leaks)) != len(self.leaks):
            raise InvalidInput(f"{self.level}: a leak location is listed twice", field="levels.leaks")


@dataclass(frozen=True, slots=True)
class Dose:
    """Radiation dose of the procedure, as the operator recorded it [sir-cirse-dose-2009;
    acr-va-practice-parameter-2017]: fluoroscopy time, dose-area product or reference air kerma, and the CT
    dose indices when CT guided the needle."""

    fluoroscopy_minutes: float | None = None
    dap_gy_cm2: float | None = None
    air_kerma_mgy: float | None = None
    ctdivol_mgy: float | None = None
    dlp_mgy_cm: float | None = None

    @property
    def lines(self) -> tuple[tuple[str, str], ...]:
        """(name, value with unit) for every recorded quantity."""
        shown = (
            ("Fluoroscopy time", self.fluoroscopy_minutes, "min"),
            ("Dose-area product", self.dap_gy_cm2, "Gy·cm²"),
            ("Reference air kerma", self.air_kerma_mgy, "mGy"),
            ("CTDIvol", self.ctdivol_mgy, "mGy"),
            ("DLP", self.dlp_mgy_cm, "mGy·cm"),
        )
        return tuple((name, f"{value:g} {unit}") for name, value, unit in shown if value is not None)

    @property
    def follow_up(self) -> tuple[str, ...]:
        """The substantial-radiation-dose thresholds exceeded (rule dose.substantial-radiation-dose): the patient
        is told and followed up for skin effects. Empty when none is."""
        review = review_dose(DoseValues(**dataclasses.asdict(self)))
        return tuple(c.text for c in review.follow_up if c.exceeded)

    def reference_review(self, technique: str, guidance: Guidance) -> DoseReview:
        """The dose against the diagnostic reference levels of the technique and guidance (rule
        dose.reference-level): each level with its country, year and confirmation, the guidances with none."""
        return review_dose(
            DoseValues(**dataclasses.asdict(self)), technique=technique, guidance=GUIDANCE_KINDS[guidance]
        )


@dataclass(frozen=True, slots=True)
class ProcedureReport:
    """A structured vertebral augmentation report; final once ``signed_at`` is set."""

    patient_name: str
    patient_identifier: str
    birth_date: dt.date | None
    performed_on: dt.date
    treatment: Treatment
    indication: str
    guidance: Guidance
    anaesthesia: str
    cement_product: str
    levels: tuple[TreatedLevel, ...]
    operator: str
    cement_lot: str | None = None
    complications: tuple[str, ...] = ()
    comment: str | None = None
    signed_at: dt.datetime | None = None
    dose: Dose | None = None
    date_change_reason: str | None = None

    def __post_init__(self) -> None:
        if not self.levels:
            raise InvalidInput("a report needs at least one treated level", field="levels")
        codes = [t.level for t in self.levels]
        if len(set(codes)) != len(codes):
            raise InvalidInput("a level is listed twice", field="levels")
        for name, value in (
            ("patient_name", self.patient_name),
            ("patient_identifier", self.patient_identifier),
            ("indication", self.indication),
            ("anaesthesia", self.anaesthesia),
            ("cement_product", self.cement_product),
            ("operator", self.operator),
        ):
            if not value.strip():
                raise InvalidInput("must not be blank", field=name)
        if self.signed_at is not None:
            if self.signed_at.tzinfo is None:
                raise InvalidInput("the signature time needs a time zone", field="signed_at")
            if self.signed_at.date() < self.performed_on:
                raise InvalidInput("a report cannot be signed before the procedure", field="signed_at")

    @property
    def signed(self) -> bool:
        """True when the operator has signed the report."""
        return self.signed_at is not None

    @property
    def dose_reference(self) -> DoseReview | None:
        """The recorded dose against the reference levels of this treatment and guidance (rule
        dose.reference-level); None when no dose was recorded."""
        if self.dose is None or not self.dose.lines:
            return None
        return self.dose.reference_review(self.treatment.value, self.guidance)

    @property
    def levels_in_order(self) -> tuple[TreatedLevel, ...]:
        """The treated levels from the top of the spine down."""
        return tuple(sorted(self.levels, key=lambda t: level_index(t.level)))

    @property
    def total_cement_ml(self) -> float:
        """Cement injected over all levels, in mL."""
        return round(sum(t.cement_ml for t in self.levels), 1)

    @property
    def any_leak(self) -> bool:
        """True when cement was seen outside a vertebral body at any level."""
        return any(t.leaks for t in self.levels)

    @property
    def any_symptomatic_leak(self) -> bool:
        """True when any leak caused symptoms."""
        return any(t.leak_symptomatic for t in self.levels)
