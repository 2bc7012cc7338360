"""NICE TA279 profile: recommendation 1.1 and the multidisciplinary decision (reference §1.1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, category, rule_ids
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.verdicts import Effect

NICE = "nice-ta279"
OUT_OF_SCOPE = "Outside the scope of TA279 (osteoporotic fractures only)"


def effects(changes: dict[str, Any] | None, fracture: dict[str, Any] | None, rule_id: str) -> set[Effect]:
    """Return the effects with which the NICE profile applied ``rule_id`` to the changed base case."""
    verdict = assessed(changes, fracture).profiles[NICE]
    return {r.effect for r in verdict.reasons if r.rule.id == rule_id}


@pytest.mark.rule("nice.severe_ongoing_pain")
@pytest.mark.rule("nice.recent_unhealed")
@pytest.mark.rule("nice.optimal_pain_management")
@pytest.mark.rule("nice.level_confirmed")
def test_all_four_criteria_met_is_a_recommended_option() -> None:
    """TA279 1.1: recommended "only in people: 1. who have severe ongoing pain after a recent, unhealed vertebral
    fracture despite optimal pain management, AND 2. in whom the pain has been confirmed to be at the level of
    the fracture by physical examination and imaging"."""
    a = assessed()
    assert category(a, NICE) == "appropriate"
    assert a.profiles[NICE].label == "Recommended option (TA279 1.1 criteria met)"
    for rule_id in (
        "nice.severe_ongoing_pain",
        "nice.recent_unhealed",
        "nice.optimal_pain_management",
        "nice.level_confirmed",
    ):
        assert effects(None, None, rule_id) == {Effect.SUPPORTS}, rule_id


@pytest.mark.rule("nice.severe_ongoing_pain")
@pytest.mark.parametrize(
    ("nrs", "expected"),
    [(3, "not_appropriate"), (6, "not_appropriate"), (7, "appropriate"), (10, "appropriate")],
)
def test_severe_pain_boundary_at_default_nrs_7(nrs: int, expected: str) -> None:
    """TA279 1.1: "severe ongoing pain"; "No numeric pain threshold ... in the final recommendation" - vertebro
    reads "severe" as NRS ≥ 7 by default (configurable)."""
    a = assessed({"pain": {"nrs": nrs}})
    assert category(a, NICE) == expected
    expected_effect = Effect.SUPPORTS if nrs >= 7 else Effect.AGAINST
    assert effects({"pain": {"nrs": nrs}}, None, "nice.severe_ongoing_pain") == {expected_effect}


@pytest.mark.rule("nice.severe_ongoing_pain")
@pytest.mark.parametrize(("nrs", "expected"), [(7, "not_appropriate"), (8, "appropriate")])
def test_severe_pain_threshold_is_configurable(nrs: int, expected: str) -> None:
    """TA279: "severe ongoing pain" is undefined ("Pain | ... NICE "severe" (undefined) | profile-specific"), so
    the threshold is a clinic policy."""
    policy = ClinicPolicy(nice_severe_pain_nrs=8)
    a = assessed({"pain": {"nrs": nrs}}, policy=policy)
    assert category(a, NICE) == expected


@pytest.mark.rule("nice.recent_unhealed")
@pytest.mark.parametrize(
    "fracture",
    [
        {"mri_edema": True},
        {"mri_edema": None, "bone_scan_uptake": True},
        {"mri_edema": None, "intravertebral_cleft": True},
    ],
    ids=["oedema", "uptake", "cleft"],
)
def test_unhealed_is_read_from_imaging(fracture: dict[str, Any]) -> None:
    """TA279: "recent, unhealed"; "Software: treat "unhealed" as imaging evidence of acuity (MRI marrow oedema /
    bone-scan uptake), not a day count"."""
    a = assessed(fracture=fracture)
    assert category(a, NICE) == "appropriate"
    assert effects(None, fracture, "nice.recent_unhealed") == {Effect.SUPPORTS}


@pytest.mark.rule("nice.recent_unhealed")
@pytest.mark.parametrize("onset_weeks", [5, 7, 26])
def test_unhealed_is_not_a_day_count(onset_weeks: int) -> None:
    """TA279: the Nov-2012 draft said "recent vertebral fracture (within 6 weeks)"; "the final text replaced this
    with "recent, unhealed"" - an oedematous fracture older than 6 weeks still qualifies."""
    a = assessed(fracture={"onset_weeks": onset_weeks})
    assert category(a, NICE) == "appropriate"


@pytest.mark.rule("nice.recent_unhealed")
def test_unhealed_not_yet_imaged_is_missing_data() -> None:
    """TA279: "recent, unhealed" - "treat "unhealed" as imaging evidence of acuity"; without imaging of acuity
    the criterion is not yet established."""
    a = assessed(fracture={"mri_edema": None})
    verdict = a.profiles[NICE]
    assert category(a, NICE) == "uncertain"
    assert verdict.label == "TA279 criteria not yet established"
    assert effects(None, {"mri_edema": None}, "nice.recent_unhealed") == {Effect.MISSING}
    assert any("unhealed" in m for m in verdict.missing)


@pytest.mark.rule("nice.recent_unhealed")
def test_healed_on_imaging_is_not_recommended() -> None:
    """TA279 1.1: "severe ongoing pain after a recent, unhealed vertebral fracture" - a fracture without oedema
    on MRI has healed: not recommended."""
    a = assessed(fracture={"mri_edema": False})
    assert category(a, NICE) == "not_appropriate"
    assert "scope.all_healed" in rule_ids(a, NICE)
    assert "nice.recent_unhealed" not in {r.rule.id for r in a.profiles[NICE].reasons if r.effect is Effect.SUPPORTS}


@pytest.mark.rule("nice.optimal_pain_management")
@pytest.mark.parametrize(
    ("optimal", "expected", "effect"),
    [
        (True, "appropriate", Effect.SUPPORTS),
        (False, "not_appropriate", Effect.AGAINST),
        (None, "uncertain", Effect.MISSING),
    ],
)
def test_despite_optimal_pain_management(optimal: bool | None, expected: str, effect: Effect) -> None:
    """TA279 1.1: "severe ongoing pain after a recent, unhealed vertebral fracture despite optimal pain
    management"."""
    changes = {"conservative_care": {"optimal": optimal}}
    a = assessed(changes)
    assert category(a, NICE) == expected
    assert effects(changes, None, "nice.optimal_pain_management") == {effect}


@pytest.mark.rule("nice.level_confirmed")
def test_level_not_yet_confirmed_is_missing_data() -> None:
    """TA279 1.1: "in whom the pain has been confirmed to be at the level of the fracture by physical examination
    and imaging"."""
    changes = {"pain": {"concordant_with_fracture": None}}
    a = assessed(changes)
    assert category(a, NICE) == "uncertain"
    assert effects(changes, None, "nice.level_confirmed") == {Effect.MISSING}
    assert a.profiles[NICE].missing


@pytest.mark.rule("nice.level_confirmed")
def test_pain_not_at_the_fracture_level_is_never_recommended() -> None:
    """TA279 1.1: recommended "only in people ... in whom the pain has been confirmed to be at the level of the
    fracture"; pain recorded as not from the fracture falls under the general screen ("pain not due to the
    VCF" is an absolute contraindication)."""
    a = assessed({"pain": {"concordant_with_fracture": False}})
    assert category(a, NICE) == "contraindicated"
    assert "general.pain_not_from_fracture" in rule_ids(a, NICE)


@pytest.mark.rule("nice.mdt")
@pytest.mark.parametrize("nrs", [4, 8])
def test_multidisciplinary_team_decision_is_always_noted(nrs: int) -> None:
    """TA279 §2.3: "earlier IPG12 (VP) and IPG166 (BKP) require decision after specialist multidisciplinary team
    discussion"."""
    changes = {"pain": {"nrs": nrs}}
    assert effects(changes, None, "nice.mdt") == {Effect.NOTE}


@pytest.mark.rule("nice.scope_osteoporotic")
@pytest.mark.parametrize("cause", ["myeloma", "metastasis", "hemangioma", "unknown"])
def test_non_osteoporotic_fracture_is_outside_scope(cause: str) -> None:
    """TA279: "Scope: osteoporotic VCF only (not malignant, not traumatic in normal bone)"."""
    a = assessed(fracture={"cause": cause})
    assert category(a, NICE) == "uncertain"
    assert a.profiles[NICE].label == OUT_OF_SCOPE
    assert "nice.scope_osteoporotic" in rule_ids(a, NICE)


@pytest.mark.rule("nice.scope_osteoporotic")
@pytest.mark.parametrize("cause", ["osteoporotic", "low_energy_trauma"])
def test_fragility_fractures_are_in_scope(cause: str) -> None:
    """TA279 covers "osteoporotic vertebral compression fractures" (fragility fractures, low-energy trauma)."""
    a = assessed(fracture={"cause": cause})
    assert category(a, NICE) == "appropriate"
    assert "nice.scope_osteoporotic" not in rule_ids(a, NICE)


@pytest.mark.rule("nice.scope_osteoporotic")
def test_traumatic_fracture_in_normal_bone_is_not_recommended() -> None:
    """TA279: "Scope: osteoporotic VCF only (not malignant, not traumatic in normal bone)"; Hirsch 2018 "excluded:
    high-velocity trauma"."""
    a = assessed(fracture={"cause": "high_energy_trauma"})
    assert category(a, NICE) == "not_appropriate"
    assert {"nice.scope_osteoporotic", "scope.high_energy_trauma"} <= rule_ids(a, NICE)
