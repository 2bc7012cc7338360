"""Findings derived from the facts once, before any profile looks at them.

Per fracture: acuity by age and by imaging (only imaging recent enough counts), morphometry and Genant
grade. Per case: which levels are candidates for treatment, which lie outside the treatable range,
which still need imaging, and what kind of disease the case is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical import morphometry
from vertebro.clinical.facts import Case, Fracture
from vertebro.clinical.levels import level_index, region, within
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.clinical.rules import rule

R_AGE_BANDS = rule(
    "acuity.age_bands",
    "Fracture age: acute < 6 weeks, subacute 6 weeks to 3 months, chronic > 3 months.",
    "european-rand-2013",
)
R_IMAGING_ACUITY = rule(
    "acuity.imaging",
    "An unhealed (acute or subacute) fracture is shown by MRI marrow oedema (or an intravertebral "
    "cleft) or by uptake on bone scan / SPECT-CT; its absence on imaging means the fracture has healed.",
    "nice-ta279",
    "cms-lcd-pva",
)
R_TARGET_LEVELS = rule(
    "levels.targets",
    "Only fractures that imaging shows to be unhealed are treated; levels whose acuity has not been "
    "imaged are candidates pending imaging (and, beside an unhealed level, are listed as needing MRI "
    "before they can be treated); healed levels are not treated.",
    "nice-ta279",
    "cms-lcd-pva",
)
R_IMAGING_CURRENT = rule(
    "acuity.imaging_current",
    "Imaging shows a fracture unhealed only if it was taken within the clinic's imaging limit before the "
    "decision (default 6 months, the imaging window of eviCore CMM-607); older imaging showing oedema or "
    "uptake no longer counts and the level needs new imaging. Older imaging showing a healed fracture "
    "still counts.",
    "evicore-cmm607",
    "local-policy",
)
R_LEVEL_SCOPE = rule(
    "levels.scope",
    "Vertebral augmentation for compression fracture is assessed at T1-L5 (LCD L34976 covers T1-L5; the "
    "randomised trials enrolled thoracic and lumbar fractures, VERTOS II at T5 or lower). Cervical and "
    "sacral levels are outside every profile: they are recorded but referred to a spine surgeon or "
    "specialist (a sacral insufficiency fracture is treated by sacroplasty, a different procedure).",
    "cms-lcd-pva",
    "cochrane-2018",
)
R_SECONDARY_CAUSE = rule(
    "redflag.young_low_energy",
    "A low-energy (fragility) fracture in a premenopausal woman or a man under 50 is atypical: "
    "investigate a secondary cause (malignancy such as myeloma or metastasis, endocrine or metabolic "
    "bone disease, glucocorticoids or other bone-toxic drugs) before treating it as osteoporotic; "
    "vertebro uses age under 50 for both (configurable). ACR 2018 variant 2 applies only without red "
    "flags.",
    "herath-2022",
    "secondary-osteoporosis-2009",
    "acr-vcf-2018",
)

ACUTE_WEEKS = 6.0
SUBACUTE_MAX_WEEKS = 13.0  # 3 months


class AgeBand(StrEnum):
    """Fracture age band (European RAND/UCLA panel)."""

    ACUTE = "acute"
    SUBACUTE = "subacute"
    CHRONIC = "chronic"


class Disease(StrEnum):
    """What kind of fracture the case is about, from the causes of its candidate levels."""

    FRAGILITY = "fragility"
    NEOPLASTIC = "neoplastic"
    HEMANGIOMA = "hemangioma"
    HIGH_ENERGY_TRAUMA = "high_energy_trauma"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FractureFinding:
    """What the rules derive from one fracture."""

    fracture: Fracture
    age_band: AgeBand | None
    imaging_acute: bool | None
    morphometry: morphometry.Morphometry | None
    height_loss_discrepancy: float | None
    imaging_stale: bool = False

    @property
    def level(self) -> str:
        """The vertebral level, e.g. 'L1'."""
        return self.fracture.level

    @property
    def height_loss_percent(self) -> float | None:
        """Percent height loss, measured or reported, when known."""
        return None if self.morphometry is None else self.morphometry.height_loss_percent


@dataclass(frozen=True, slots=True)
class CaseFindings:
    """The derived findings of a whole case."""

    fractures: tuple[FractureFinding, ...]
    targets: tuple[FractureFinding, ...]
    unimaged: tuple[FractureFinding, ...]
    healed: tuple[FractureFinding, ...]
    acuity_pending: bool
    disease: Disease
    out_of_scope: tuple[FractureFinding, ...] = ()

    @property
    def target_levels(self) -> tuple[str, ...]:
        """Candidate levels in spinal order."""
        return tuple(f.level for f in self.targets)

    @property
    def awaiting_imaging(self) -> tuple[FractureFinding, ...]:
        """In-range levels whose acuity is not (currently) imaged while another level is treated (levels.targets)."""
        return tuple(f for f in self.unimaged if f not in self.targets)

    @property
    def stale(self) -> tuple[FractureFinding, ...]:
        """Levels whose imaging showed them unhealed but is too old to count now (acuity.imaging_current)."""
        return tuple(f for f in self.fractures if f.imaging_stale)


def age_band(onset_weeks: float | None) -> AgeBand | None:
    """Return the fracture age band for weeks since onset (rule acuity.age_bands)."""
    if onset_weeks is None:
        return None
    if onset_weeks < ACUTE_WEEKS:
        return AgeBand.ACUTE
    if onset_weeks <= SUBACUTE_MAX_WEEKS:
        return AgeBand.SUBACUTE
    return AgeBand.CHRONIC


def imaging_acute(fracture: Fracture) -> bool | None:
    """Return whether imaging shows the fracture unhealed, or None when not imaged (acuity.imaging)."""
    signs = (
        fracture.mri_edema,
        fracture.intravertebral_cleft,
        fracture.bone_scan_uptake,
    )
    if any(sign is True for sign in signs):
        return True
    if fracture.mri_edema is False or fracture.bone_scan_uptake is False:
        return False
    return None


def imaging_is_current(fracture: Fracture, as_of: dt.date, max_age_days: int) -> bool:
    """Return False when the fracture's imaging is dated and older than ``max_age_days`` on ``as_of``.

    Undated imaging is not judged here: the preparation plan asks for its date (acuity.imaging_current).
    """
    taken = fracture.imaging_date
    return taken is None or (as_of - taken).days <= max_age_days


def fracture_finding(
    fracture: Fracture, as_of: dt.date | None = None, policy: ClinicPolicy = DEFAULT_POLICY
) -> FractureFinding:
    """Return the derived findings of one fracture; positive imaging older than the policy's limit on
    ``as_of`` no longer shows the fracture unhealed (acuity.imaging_current)."""
    measured: morphometry.Morphometry | None = None
    discrepancy: float | None = None
    if fracture.heights_mm is not None:
        h = fracture.heights_mm
        ref = fracture.reference_heights_mm
        above = below = None
        if ref is not None:
            if ref.above is not None:
                above = morphometry.Heights(ref.above.anterior, ref.above.middle, ref.above.posterior)
            if ref.below is not None:
                below = morphometry.Heights(ref.below.anterior, ref.below.middle, ref.below.posterior)
        measured = morphometry.measure(morphometry.Heights(h.anterior, h.middle, h.posterior), above, below)
        if fracture.height_loss_percent is not None:
            discrepancy = round(abs(measured.height_loss_percent - fracture.height_loss_percent), 1)
    elif fracture.height_loss_percent is not None:
        measured = morphometry.reported(fracture.height_loss_percent)
    acute = imaging_acute(fracture)
    stale = acute is True and as_of is not None and not imaging_is_current(fracture, as_of, policy.imaging_max_age_days)
    return FractureFinding(
        fracture=fracture,
        age_band=age_band(fracture.onset_weeks),
        imaging_acute=None if stale else acute,
        morphometry=measured,
        height_loss_discrepancy=discrepancy,
        imaging_stale=stale,
    )


def _disease(targets: tuple[FractureFinding, ...]) -> Disease:
    causes = {f.fracture.cause for f in targets}
    if causes & {"myeloma", "metastasis"}:
        return Disease.NEOPLASTIC
    if "high_energy_trauma" in causes:
        return Disease.HIGH_ENERGY_TRAUMA
    if "unknown" in causes or not causes:
        return Disease.UNKNOWN
    if causes == {"hemangioma"}:
        return Disease.HEMANGIOMA
    if "hemangioma" in causes:
        return Disease.UNKNOWN
    return Disease.FRAGILITY


def in_treatable_range(level: str, policy: ClinicPolicy = DEFAULT_POLICY) -> bool:
    """Return True when a level lies in the policy's treatable range, T1-L5 by default (levels.scope)."""
    highest, lowest = policy.treatable_levels
    return within(level, highest, lowest)


def case_findings(case: Case, policy: ClinicPolicy = DEFAULT_POLICY, as_of: dt.date | None = None) -> CaseFindings:
    """Return the findings of a case: per-fracture findings and the candidate levels (levels.targets).

    Levels outside the treatable range are kept apart (levels.scope); with ``as_of``, positive imaging
    older than the policy's limit no longer counts (acuity.imaging_current).
    """
    ordered = sorted(case.fractures, key=lambda f: level_index(f.level))
    findings = tuple(fracture_finding(f, as_of, policy) for f in ordered)
    in_range = tuple(f for f in findings if in_treatable_range(f.level, policy))
    outside = tuple(f for f in findings if not in_treatable_range(f.level, policy))
    unhealed = tuple(f for f in in_range if f.imaging_acute is True)
    pending = tuple(f for f in in_range if f.imaging_acute is None)
    healed = tuple(f for f in in_range if f.imaging_acute is False)
    targets = unhealed if unhealed else pending
    return CaseFindings(
        fractures=findings,
        targets=targets,
        unimaged=pending,
        healed=healed,
        acuity_pending=bool(pending) and not unhealed,
        disease=_disease(unhealed + pending if targets else (in_range or findings)),
        out_of_scope=outside,
    )


def out_of_scope_text(findings: CaseFindings, policy: ClinicPolicy = DEFAULT_POLICY) -> str | None:
    """Return the out-of-range levels with their region, e.g. 'C5 (cervical), S1 (sacral)', or None (levels.scope)."""
    if not findings.out_of_scope:
        return None
    return ", ".join(f"{f.level} ({region(f.level)})" for f in findings.out_of_scope)


def secondary_cause_suspected(case: Case, findings: CaseFindings, policy: ClinicPolicy = DEFAULT_POLICY) -> str | None:
    """Return why a secondary cause must be sought, or None (redflag.young_low_energy).

    A low-energy fracture (osteoporotic or low-energy trauma) in a patient younger than the policy's age
    is atypical for a primary osteoporotic fragility fracture.
    """
    age = case.patient.age
    if age >= policy.secondary_cause_age_below:
        return None
    considered = findings.targets or findings.fractures
    levels = [f.level for f in considered if f.fracture.cause in ("osteoporotic", "low_energy_trauma")]
    if not levels:
        return None
    return (
        f"low-energy fracture at {', '.join(levels)} at age {age} (under {policy.secondary_cause_age_below}): "
        "investigate a secondary cause (malignancy such as myeloma or metastasis, endocrine or metabolic "
        "bone disease, glucocorticoids or other bone-toxic drugs)"
    )
