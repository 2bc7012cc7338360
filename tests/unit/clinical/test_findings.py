"""Findings derived once per case: fracture age, imaging acuity, target levels, morphometry, disease."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, base_case, make_case
from vertebro.clinical.findings import (
    AgeBand,
    Disease,
    age_band,
    case_findings,
    fracture_finding,
    imaging_acute,
)
from vertebro.clinical.morphometry import HeightReference, Morphology


def _fracture(level: str, **changes: Any) -> dict[str, Any]:
    fracture: dict[str, Any] = dict(base_case()["fractures"][0], level=level)
    fracture.update(changes)
    return fracture


# --- acuity by age ------------------------------------------------------------------------------


@pytest.mark.rule("acuity.age_bands")
@pytest.mark.parametrize(
    ("weeks", "band"),
    [
        (0.0, AgeBand.ACUTE),
        (5.9, AgeBand.ACUTE),
        (6.0, AgeBand.SUBACUTE),
        (8.0, AgeBand.SUBACUTE),
        (13.0, AgeBand.SUBACUTE),
        (13.1, AgeBand.CHRONIC),
        (14.0, AgeBand.CHRONIC),
        (52.0, AgeBand.CHRONIC),
    ],
)
def test_fracture_age_bands(weeks: float, band: AgeBand) -> None:
    """European RAND: "time since fracture < 6 weeks / ≥ 6 weeks–≤ 3 months / > 3 months"; harmonised:
    "acute < 6 wk", "subacute 6 wk–3 mo", "chronic > 3 mo"."""
    assert age_band(weeks) is band


@pytest.mark.rule("acuity.age_bands")
def test_fracture_age_band_unknown_without_onset() -> None:
    """Harmonised thresholds: "store onset date + imaging acuity separately" — no onset, no age band."""
    assert age_band(None) is None
    finding = assessed(fracture={"onset_weeks": None}).fractures[0]
    assert finding.age_band is None
    assert finding.imaging_acute is True


@pytest.mark.rule("acuity.age_bands")
def test_the_assessment_reports_the_age_band_per_fracture() -> None:
    """European RAND: "time since fracture < 6 weeks / ≥ 6 weeks–≤ 3 months / > 3 months"."""
    assert assessed().fractures[0].age_band is AgeBand.ACUTE
    assert assessed(fracture={"onset_weeks": 10}).fractures[0].age_band is AgeBand.SUBACUTE
    assert assessed(fracture={"onset_weeks": 30}).fractures[0].age_band is AgeBand.CHRONIC


# --- acuity by imaging --------------------------------------------------------------------------


@pytest.mark.rule("acuity.imaging")
@pytest.mark.parametrize(
    ("signs", "acute"),
    [
        ({"mri_edema": True}, True),
        ({"mri_edema": None, "intravertebral_cleft": True}, True),
        ({"mri_edema": None, "bone_scan_uptake": True}, True),
        ({"mri_edema": False, "bone_scan_uptake": True}, True),
        ({"mri_edema": False, "intravertebral_cleft": True}, True),
        ({"mri_edema": False}, False),
        ({"mri_edema": None, "bone_scan_uptake": False}, False),
        ({"mri_edema": False, "bone_scan_uptake": False, "intravertebral_cleft": False}, False),
        ({"mri_edema": None}, None),
        ({"mri_edema": None, "intravertebral_cleft": False}, None),
    ],
)
def test_imaging_acuity(signs: dict[str, Any], acute: bool | None) -> None:
    """NICE TA279 "recent, unhealed" read as: "treat ‘unhealed’ as imaging evidence of acuity (MRI marrow oedema /
    bone-scan uptake), not a day count"; "MRI STIR/T2 oedema (or intravertebral cleft); bone scan / SPECT-CT if
    MRI contraindicated"."""
    fracture = make_case(fracture=signs).fractures[0]
    assert imaging_acute(fracture) is acute


@pytest.mark.rule("acuity.imaging")
def test_an_old_fracture_with_oedema_is_still_unhealed() -> None:
    """NICE TA279: "treat ‘unhealed’ as imaging evidence of acuity (MRI marrow oedema / bone-scan uptake), not a
    day count"."""
    finding = assessed(fracture={"onset_weeks": 40, "mri_edema": True}).fractures[0]
    assert finding.age_band is AgeBand.CHRONIC
    assert finding.imaging_acute is True


# --- target levels ------------------------------------------------------------------------------


@pytest.mark.rule("levels.targets")
def test_only_unhealed_levels_are_targets() -> None:
    """NICE TA279: "severe ongoing pain after a recent, unhealed vertebral fracture"; LCD: "Acute or subacute VCF
    documented by imaging"."""
    findings = case_findings(
        make_case({"fractures": [_fracture("L1"), _fracture("T8", mri_edema=False, onset_weeks=60)]})
    )
    assert findings.target_levels == ("L1",)
    assert [f.level for f in findings.healed] == ["T8"]
    assert findings.unimaged == ()
    assert findings.acuity_pending is False


@pytest.mark.rule("levels.targets")
def test_unimaged_levels_are_candidates_pending_imaging() -> None:
    """LCD: "Acute or subacute VCF documented by imaging"; NICE "unhealed" = "oedema/uptake present" — levels not
    yet imaged are candidates pending imaging."""
    findings = case_findings(make_case(fracture={"mri_edema": None}))
    assert findings.target_levels == ("L1",)
    assert [f.level for f in findings.unimaged] == ["L1"]
    assert findings.acuity_pending is True


@pytest.mark.rule("levels.targets")
def test_an_unimaged_level_is_not_treated_alongside_an_unhealed_one() -> None:
    """NICE TA279: "recent, unhealed vertebral fracture" — only imaging-proven unhealed levels are treated."""
    findings = case_findings(make_case({"fractures": [_fracture("L1"), _fracture("L3", mri_edema=None)]}))
    assert findings.target_levels == ("L1",)
    assert [f.level for f in findings.unimaged] == ["L3"]
    assert findings.acuity_pending is False


@pytest.mark.rule("levels.targets")
def test_healed_levels_are_never_targets() -> None:
    """NICE TA279: "recent, unhealed vertebral fracture"; "unhealed" = "oedema/uptake present"."""
    findings = case_findings(make_case(fracture={"mri_edema": False}))
    assert findings.targets == ()
    assert [f.level for f in findings.healed] == ["L1"]
    assert findings.acuity_pending is False


@pytest.mark.rule("levels.targets")
def test_targets_are_in_spinal_order() -> None:
    """LCD: "Acute or subacute VCF documented by imaging" — each unhealed level, listed from the top down."""
    findings = case_findings(
        make_case({"fractures": [_fracture("L2"), _fracture("T11"), _fracture("L1"), _fracture("T12")]})
    )
    assert findings.target_levels == ("T11", "T12", "L1", "L2")
    assert [f.level for f in findings.fractures] == ["T11", "T12", "L1", "L2"]


# --- morphometry from the facts -----------------------------------------------------------------


def test_measured_heights_replace_the_reported_percentage() -> None:
    finding = fracture_finding(
        make_case(
            fracture={
                "height_loss_percent": 30.0,
                "heights_mm": {"anterior": 18.0, "middle": 24.0, "posterior": 26.0},
                "reference_heights_mm": {
                    "above": {"anterior": 30.0, "middle": 30.0, "posterior": 30.0},
                    "below": {"anterior": 30.0, "middle": 30.0, "posterior": 30.0},
                },
            }
        ).fractures[0]
    )
    m = finding.morphometry
    assert m is not None
    assert m.reference is HeightReference.ADJACENT_MEAN
    assert m.height_loss_percent == 40.0
    assert m.morphology is Morphology.WEDGE
    assert m.wedge_ratio == pytest.approx(0.692)
    assert m.crush_ratio_above == pytest.approx(0.867)
    assert finding.height_loss_percent == 40.0
    assert finding.height_loss_discrepancy == 10.0


def test_a_reported_percentage_alone_is_used_as_reported() -> None:
    finding = fracture_finding(make_case(fracture={"height_loss_percent": 42.0}).fractures[0])
    assert finding.morphometry is not None
    assert finding.morphometry.reference is HeightReference.REPORTED
    assert finding.morphometry.genant_grade == 3
    assert finding.height_loss_discrepancy is None


def test_no_morphometry_without_heights_or_percentage() -> None:
    finding = fracture_finding(make_case(fracture={"height_loss_percent": None}).fractures[0])
    assert finding.morphometry is None
    assert finding.height_loss_percent is None


# --- disease ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "disease"),
    [
        ("osteoporotic", Disease.FRAGILITY),
        ("low_energy_trauma", Disease.FRAGILITY),
        ("myeloma", Disease.NEOPLASTIC),
        ("metastasis", Disease.NEOPLASTIC),
        ("hemangioma", Disease.HEMANGIOMA),
        ("high_energy_trauma", Disease.HIGH_ENERGY_TRAUMA),
        ("unknown", Disease.UNKNOWN),
    ],
)
def test_disease_from_the_cause(cause: str, disease: Disease) -> None:
    assert case_findings(make_case(fracture={"cause": cause})).disease is disease


def test_a_neoplastic_level_makes_the_case_neoplastic() -> None:
    findings = case_findings(make_case({"fractures": [_fracture("L1"), _fracture("T10", cause="metastasis")]}))
    assert findings.disease is Disease.NEOPLASTIC
