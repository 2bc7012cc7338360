"""Findings derived from the facts once, before any profile looks at them.

Per fracture: acuity by age and by imaging, morphometry and Genant grade. Per case: which levels are
candidates for treatment and what kind of disease the case is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical import morphometry
from vertebro.clinical.facts import Case, Fracture
from vertebro.clinical.levels import level_index
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
    "imaged are candidates pending imaging; healed levels are not treated.",
    "nice-ta279",
    "cms-lcd-pva",
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

    @property
    def target_levels(self) -> tuple[str, ...]:
        """Candidate levels in spinal order."""
        return tuple(f.level for f in self.targets)


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


def fracture_finding(fracture: Fracture) -> FractureFinding:
    """Return the derived findings of one fracture."""
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
    return FractureFinding(
        fracture=fracture,
        age_band=age_band(fracture.onset_weeks),
        imaging_acute=imaging_acute(fracture),
        morphometry=measured,
        height_loss_discrepancy=discrepancy,
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


def case_findings(case: Case) -> CaseFindings:
    """Return the findings of a case: per-fracture findings and the candidate levels (levels.targets)."""
    findings = tuple(fracture_finding(f) for f in sorted(case.fractures, key=lambda f: level_index(f.level)))
    unhealed = tuple(f for f in findings if f.imaging_acute is True)
    pending = tuple(f for f in findings if f.imaging_acute is None)
    healed = tuple(f for f in findings if f.imaging_acute is False)
    targets = unhealed if unhealed else pending
    return CaseFindings(
        fractures=findings,
        targets=targets,
        unimaged=pending,
        healed=healed,
        acuity_pending=bool(pending) and not unhealed,
        disease=_disease(targets if targets else findings),
    )
