"""The facts of a case: strict, immutable inputs to every clinical rule.

Strict mode means a value must already have the right type: ``false`` is not a pain score and
``"7"`` is not a number. Unknown fields are rejected, so a misspelt fact is never silently ignored.
``None`` (or an absent field) always means *not recorded*, which the rules report as missing data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from vertebro.clinical.levels import level_error, level_index
from vertebro.clinical.morphometry import implausible_heights
from vertebro.clinical.procedure import PRODUCTS


class Fact(BaseModel):
    """Base of every case model: strict types, immutable, no unknown fields."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


Cause = Literal[
    "osteoporotic",
    "low_energy_trauma",
    "myeloma",
    "metastasis",
    "hemangioma",
    "high_energy_trauma",
    "unknown",
]
Sex = Literal["female", "male", "other"]
PainTrend = Literal["worsening", "stable", "improving"]
MedicationPurpose = Literal[
    "primary_prevention",
    "secondary_prevention",
    "prophylactic",
    "therapeutic",
    "pain",
    "other",
]
Route = Literal["oral", "iv", "sc"]

Millimetres = Annotated[float, Field(gt=0, le=200)]
Percent = Annotated[float, Field(ge=0, lt=100)]


def age_on(born: dt.date, day: dt.date) -> int:
    """Return the age in whole years on ``day`` of someone born on ``born`` (one more from each birthday on).

    The ``age`` the rules read (:class:`Patient`) is derived this way from the date of birth, wherever a date of
    birth is given: the referral form, the portal's request, an imported FHIR record, the registry's age groups.
    """
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


OLDEST_AGE = 120  # years: the oldest age the rules take (Patient.age), so the oldest date of birth a form takes


def birth_date_in_range(born: dt.date, day: dt.date) -> bool:
    """Return whether a date of birth can be taken on ``day``: not after it, and at most :data:`OLDEST_AGE` whole
    years before it (the bound of :attr:`Patient.age`, so every date a form takes gives an age the rules accept).

    One rule for the staff referral form and the patient's request (they differed: 120 years against 120 x 365
    days, which refused patients in the last weeks before their 121st birthday on the portal only).
    """
    return born <= day and age_on(born, day) <= OLDEST_AGE


class Patient(Fact):
    """Who the patient is, as far as the rules need to know."""

    identifier: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    birth_date: dt.date | None = None
    age: int = Field(ge=0, le=OLDEST_AGE, description="Age in years.")
    sex: Sex
    pregnant: bool | None = None
    could_be_pregnant: bool | None = Field(
        default=None,
        description="Overrides the age/sex screen for a pregnancy test when set.",
    )
    hospitalized: bool | None = Field(
        default=None,
        description="In hospital now (an inpatient); not recorded until staff say yes or no.",
    )


class Heights(Fact):
    """Anterior, middle and posterior heights of a vertebral body in millimetres."""

    anterior: Millimetres
    middle: Millimetres
    posterior: Millimetres

    @model_validator(mode="after")
    def _plausible(self) -> Heights:
        problem = implausible_heights(self.anterior, self.middle, self.posterior)
        if problem is not None:
            field, message = problem
            raise ValueError(f"{field}: {message}")
        return self


class AdjacentHeights(Fact):
    """Heights of the nearest normal vertebrae above and below, used as the reference."""

    above: Heights | None = None
    below: Heights | None = None


class Fracture(Fact):
    """One fractured vertebra and what imaging shows about it."""

    level: str
    cause: Cause
    onset_weeks: Annotated[float, Field(ge=0, le=1040)] | None = None
    mri_edema: bool | None = None
    bone_scan_uptake: bool | None = None
    intravertebral_cleft: bool | None = None
    imaging_date: dt.date | None = None
    heights_mm: Heights | None = None
    reference_heights_mm: AdjacentHeights | None = None
    height_loss_percent: Percent | None = None
    kyphotic_deformity: bool | None = None
    height_loss_progressing: bool | None = None
    retropulsion: bool | None = None
    canal_compromise: bool | None = None
    posterior_wall_intact: bool | None = None
    unstable: bool | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        problem = level_error(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _reference_needs_heights(self) -> Fracture:
        if self.reference_heights_mm is not None and self.heights_mm is None:
            raise ValueError("reference_heights_mm: give heights_mm of the fractured vertebra as well")
        return self


class Pain(Fact):
    """Pain on the 0-10 numeric rating scale, its course and where it comes from."""

    nrs: int = Field(ge=0, le=10)
    trend: PainTrend | None = None
    concordant_with_fracture: bool | None = None


class Function(Fact):
    """Disability scores: Roland-Morris (0-24) and Oswestry (0-100 %)."""

    rdq: int | None = Field(default=None, ge=0, le=24)
    odi_percent: Annotated[float, Field(ge=0, le=100)] | None = None


class ConservativeCare(Fact):
    """Non-surgical management tried so far."""

    weeks: Annotated[float, Field(ge=0, le=1040)] | None = None
    optimal: bool | None = None
    non_ambulatory_despite_analgesia: bool | None = None
    analgesic_side_effects: bool | None = None


class RedFlags(Fact):
    """Findings that point away from a simple fragility fracture."""

    active_infection: bool | None = None
    fever: bool | None = None
    cancer_history: bool | None = None


class Labs(Fact):
    """Pre-procedure laboratory values."""

    inr: Annotated[float, Field(gt=0, le=15)] | None = None
    platelets: Annotated[float, Field(ge=0, le=2000, description="x 10^9/L")] | None = None
    creatinine_clearance_ml_min: Annotated[float, Field(ge=0, le=300)] | None = None
    taken_on: dt.date | None = None


class PrescriberDecision(Fact):
    """What the prescriber agreed for one medicine before the procedure, as a clinician recorded it.

    ``hold``: held as the table plans; ``continue``: not held; ``bridge``: held, with the prescriber's
    bridging plan (ASRA 2018 / ACCP). ``stop_days_before`` is an interval the prescriber set where the
    table gives none (e.g. a factor Xa inhibitor with creatinine clearance below 30 mL/min); it never
    shortens the table's interval.
    """

    decision: Literal["hold", "continue", "bridge"]
    agreed_on: dt.date
    recorded_by: str = Field(min_length=1, max_length=100)
    stop_days_before: int | None = Field(default=None, ge=1, le=14)
    note: str | None = Field(default=None, min_length=1, max_length=500)


class Medication(Fact):
    """One current medication; ``purpose`` matters for aspirin, the heparins and the P2Y12 inhibitors.

    ``thrombotic_risk`` is the risk of a clot while an anticoagulant is stopped (high: e.g. a mechanical
    heart valve, a venous clot in the last 3 months); ``prescriber_decision`` is the recorded decision
    with the prescriber that secondary-prevention antiplatelets and high-risk anticoagulation need.
    """

    name: str = Field(min_length=1, max_length=100)
    purpose: MedicationPurpose | None = None
    route: Route | None = None
    thrombotic_risk: Literal["high", "moderate", "low"] | None = None
    prescriber_decision: PrescriberDecision | None = None


class CodedAllergy(Fact):
    """An allergy as a coded entry (e.g. a SNOMED CT substance), with the words the record shows."""

    code: str = Field(min_length=1, max_length=64)
    system: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=100)


AllergyText = Annotated[str, Field(min_length=1, max_length=100)]
AllergyEntry = AllergyText | CodedAllergy


class BoneHealth(Fact):
    """Continuum-of-care documentation the Medicare LCDs ask for."""

    bmd_referral_documented: bool | None = None


class Case(Fact):
    """Everything known about one patient's vertebral compression fracture(s)."""

    patient: Patient
    level_unknown: bool = Field(
        default=False,
        description=(
            "The fractured level is not known yet (a patient asked for an appointment without the scan report): "
            "only then may `fractures` be empty; staff find the level in the imaging report."
        ),
    )
    fractures: list[Fracture] = Field(max_length=24)
    pain: Pain
    function: Function = Function()
    conservative_care: ConservativeCare = ConservativeCare()
    red_flags: RedFlags = RedFlags()
    neurological_deficit: bool | None = None
    pulmonary_dysfunction: bool | None = None
    labs: Labs = Labs()
    coagulopathy_uncorrectable: bool | None = None
    allergies: list[AllergyEntry] | None = Field(
        default=None,
        max_length=50,
        description=(
            "Recorded allergies (text or coded); [] or 'no known allergy' = reviewed: none; absent = not reviewed."
        ),
    )
    medications: list[Medication] | None = Field(
        default=None,
        max_length=50,
        description="Current medications; [] = reviewed: takes none; absent = not reviewed.",
    )
    sedation_planned: bool | None = None
    procedure_date: dt.date | None = None
    procedure_time: dt.time | None = None
    procedure_minutes: Annotated[int, Field(ge=1, le=24 * 60)] | None = Field(
        default=None,
        description=(
            "How long the procedure took, from the signed record's start to its end (minutes); absent = not done "
            "yet: the plan counts the planned room time."
        ),
    )
    room_temperature_c: Annotated[float, Field(ge=15, le=30)] | None = None
    cement_product: str | None = None
    bone_health: BoneHealth = BoneHealth()

    @field_validator("cement_product")
    @classmethod
    def _known_product(cls, value: str | None) -> str | None:
        if value is not None and value not in PRODUCTS:
            raise ValueError(f"unknown cement product {value!r}; known: {', '.join(sorted(PRODUCTS))}")
        return value

    @field_validator("fractures")
    @classmethod
    def _a_level_or_marked_unknown(cls, value: list[Fracture], info: ValidationInfo) -> list[Fracture]:
        if not value and not info.data.get("level_unknown"):
            raise ValueError("List should have at least 1 item (the fractured level; set level_unknown when not known)")
        return value

    @model_validator(mode="after")
    def _levels_unique(self) -> Case:
        seen: set[str] = set()
        for fracture in self.fractures:
            if fracture.level in seen:
                raise ValueError(f"fractures: level {fracture.level} is listed twice")
            seen.add(fracture.level)
        return self

    @model_validator(mode="after")
    def _pregnancy_consistent(self) -> Case:
        if self.patient.pregnant and self.patient.sex == "male":
            raise ValueError("patient.pregnant: true is inconsistent with patient.sex 'male'")
        return self

    def fractures_in_spinal_order(self) -> list[Fracture]:
        """Return the fractures ordered from the top of the spine down."""
        return sorted(self.fractures, key=lambda f: level_index(f.level))
