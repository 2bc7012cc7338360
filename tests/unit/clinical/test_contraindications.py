"""The general contraindication screen every profile inherits, and the scope rules shared by every profile.

NICE TA279 lists no contraindications of its own, so it shows the general screen unaltered; the other
profiles apply their own severity where they list a contraindication (reference §1.3, §1.6, §2.3).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, base_case, category, make_case, rule_ids
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.contraindications import Contra, present
from vertebro.clinical.findings import case_findings
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.verdicts import Effect

NICE = "nice-ta279"
ACR = "acr"
LCD = "medicare-lcd"
NASS = "nass-auc"
INDICATION_PROFILES = (ACR, NICE, LCD, NASS)


def found(changes: dict[str, Any] | None = None, fracture: dict[str, Any] | None = None) -> dict[Contra, str]:
    """Return the contraindications present in the changed base case."""
    case = make_case(changes, fracture)
    return present(case, case_findings(case), DEFAULT_POLICY)


def effects(changes: dict[str, Any] | None, fracture: dict[str, Any] | None, profile: str, rule_id: str) -> set[Effect]:
    """Return the effects with which ``profile`` applied ``rule_id`` to the changed base case."""
    verdict = assessed(changes, fracture).profiles[profile]
    return {r.effect for r in verdict.reasons if r.rule.id == rule_id}


def fractures_at(*levels: str) -> list[dict[str, Any]]:
    """Return copies of the base fracture at the given levels."""
    return [{**base_case()["fractures"][0], "level": level} for level in levels]


def test_base_case_carries_no_contraindication() -> None:
    """CIRSE/LCD contraindication lists: "pain not due to the VCF, active infection ..., pregnancy" - none of them
    in the base case."""
    assert found() == {}


# --- absolute --------------------------------------------------------------------------------------------------


@pytest.mark.rule("general.pain_not_from_fracture")
@pytest.mark.parametrize(
    "changes",
    [{"pain": {"concordant_with_fracture": False}}, {"pain": {"nrs": 0}}],
    ids=["not-concordant", "painless"],
)
def test_pain_not_from_the_fracture_is_absolute(changes: dict[str, Any]) -> None:
    """LCD: "absolute: pain not due to the VCF"; CIRSE: "Absolute contraindications: asymptomatic fracture"."""
    assert Contra.PAIN_NOT_FROM_FRACTURE in found(changes)
    a = assessed(changes)
    for profile in (NICE, NASS):
        assert category(a, profile) == "contraindicated", profile
        assert effects(changes, None, profile, "general.pain_not_from_fracture") == {Effect.CONTRAINDICATION}


@pytest.mark.rule("general.pain_not_from_fracture")
@pytest.mark.parametrize(("nrs", "present_"), [(0, True), (1, False)])
def test_painless_fracture_boundary(nrs: int, present_: bool) -> None:
    """CIRSE: "Absolute contraindications: asymptomatic fracture" - NRS 0 only."""
    assert (Contra.PAIN_NOT_FROM_FRACTURE in found({"pain": {"nrs": nrs}})) is present_


@pytest.mark.rule("general.active_infection")
@pytest.mark.parametrize("profile", INDICATION_PROFILES)
def test_active_infection_is_contraindicated_in_every_profile(profile: str) -> None:
    """LCD: "Absolute contraindications: ... active infection (osteomyelitis, discitis, surgical-site)"; CIRSE:
    "active local or systemic infection (osteomyelitis, discitis, sepsis)"; Hirsch: "absolute = active infection
    at surgical site; untreated blood-borne infection"."""
    a = assessed({"red_flags": {"active_infection": True}})
    assert category(a, profile) == "contraindicated"


@pytest.mark.rule("general.active_infection")
def test_active_infection_general_rule_where_the_profile_lists_none() -> None:
    """CIRSE: "Absolute contraindications: ... active local or systemic infection (osteomyelitis, discitis,
    sepsis)"."""
    changes = {"red_flags": {"active_infection": True}}
    for profile in (NICE, NASS):
        assert effects(changes, None, profile, "general.active_infection") == {Effect.CONTRAINDICATION}


@pytest.mark.rule("general.pregnancy")
@pytest.mark.parametrize("profile", INDICATION_PROFILES)
def test_pregnancy_is_contraindicated_in_every_profile(profile: str) -> None:
    """ACR 2018 V3 "(fitness, pregnancy, infection, coagulation disorder…)"; LCD "Absolute contraindications: ...
    pregnancy"; "ACR 2018 V3 lists pregnancy as a contraindication to VA"."""
    a = assessed({"patient": {"pregnant": True}})
    assert category(a, profile) == "contraindicated"
    if profile in (NICE, NASS):
        assert "general.pregnancy" in rule_ids(a, profile)


@pytest.mark.rule("general.pregnancy")
@pytest.mark.parametrize("pregnant", [False, None])
def test_not_pregnant_or_not_recorded_is_no_contraindication(pregnant: bool | None) -> None:
    """LCD "Absolute contraindications: ... pregnancy" applies to a pregnancy that is present."""
    assert Contra.PREGNANCY not in found({"patient": {"pregnant": pregnant}})


@pytest.mark.rule("general.uncorrectable_coagulopathy")
def test_uncorrectable_coagulopathy_is_absolute_in_the_general_screen() -> None:
    """CIRSE: "Absolute contraindications: ... uncorrectable coagulopathy"; the LCDs list "uncorrected
    coagulopathy" as relative."""
    changes = {"coagulopathy_uncorrectable": True}
    a = assessed(changes)
    for profile in (NICE, NASS):
        assert category(a, profile) == "contraindicated", profile
        assert effects(changes, None, profile, "general.uncorrectable_coagulopathy") == {Effect.CONTRAINDICATION}
    assert category(a, ACR) == "contraindicated"
    assert category(a, LCD) == "uncertain"


@pytest.mark.rule("general.cement_allergy")
@pytest.mark.parametrize(
    "allergy",
    ["PMMA", "bone cement", "Methyl methacrylate", "polymethylmethacrylate", "Barium sulfate"],
)
def test_cement_or_opacifier_allergy_is_absolute_in_the_general_screen(allergy: str) -> None:
    """CIRSE: "Absolute contraindications: ... allergy to cement/opacifier"; "Kyphon HV-R cement contains ~30 %
    barium sulfate as opacifier"."""
    changes = {"allergies": [allergy]}
    assert Contra.CEMENT_ALLERGY in found(changes)
    a = assessed(changes)
    for profile in (ACR, NICE):
        assert category(a, profile) == "contraindicated", profile
        assert effects(changes, None, profile, "general.cement_allergy") == {Effect.CONTRAINDICATION}
    assert category(a, LCD) == "uncertain"


# --- relative --------------------------------------------------------------------------------------------------


@pytest.mark.rule("general.contrast_allergy")
@pytest.mark.parametrize("allergy", ["iodinated contrast", "Iodine", "iohexol"])
def test_contrast_allergy_is_relative_only_where_the_lcd_lists_it(allergy: str) -> None:
    """LCD: "Relative: allergy to bone cement or opacification/contrast agents" - only the LCD lists it; ACR,
    NICE and NASS do not, so there it is noted and prepared for (premedication or no iodinated contrast)."""
    changes = {"allergies": [allergy]}
    assert Contra.CONTRAST_ALLERGY in found(changes)
    assert Contra.CEMENT_ALLERGY not in found(changes)
    a = assessed(changes)
    for profile in (ACR, NICE):
        assert category(a, profile) == "appropriate", profile
        assert effects(changes, None, profile, "general.contrast_allergy") == {Effect.NOTE}
    assert effects(changes, None, LCD, "lcd.relative_contraindications") == {Effect.CAUTION}
    assert any(i.kind == "allergy" and "premedication" in i.instruction for i in a.preparation.items)


@pytest.mark.rule("general.contrast_allergy")
@pytest.mark.rule("general.cement_allergy")
def test_unrelated_allergy_is_no_contraindication() -> None:
    """LCD: "allergy to bone cement or opacification/contrast agents" - a penicillin allergy is neither."""
    changes = {"allergies": ["penicillin"]}
    assert found(changes) == {}
    assert category(assessed(changes), NICE) == "appropriate"


@pytest.mark.rule("general.neurological_deficit")
def test_neurological_deficit_is_relative() -> None:
    """LCD: "Relative: ... myelopathy / neurologic deficit"; "Neuro deficit / canal compromise / instability →
    surgical referral"."""
    changes = {"neurological_deficit": True}
    a = assessed(changes)
    assert category(a, NICE) == "uncertain"
    assert effects(changes, None, NICE, "general.neurological_deficit") == {Effect.CAUTION}


@pytest.mark.rule("general.retropulsion")
def test_retropulsion_is_relative() -> None:
    """LCD: "Relative: ... fracture retropulsion / canal compromise"; CIRSE: "Relative: ... retropulsed fragment";
    "Posterior-wall disruption without neuro deficit is not an absolute CI in BKP series"."""
    fracture = {"retropulsion": True}
    a = assessed(fracture=fracture)
    for profile in (ACR, NICE):
        assert category(a, profile) == "uncertain", profile
        assert effects(None, fracture, profile, "general.retropulsion") == {Effect.CAUTION}


@pytest.mark.rule("general.canal_compromise")
def test_canal_compromise_is_relative() -> None:
    """LCD: "Relative: ... fracture retropulsion / canal compromise"; CIRSE: "retropulsed fragment/epidural tumour
    with canal compromise"."""
    fracture = {"canal_compromise": True}
    a = assessed(fracture=fracture)
    assert category(a, NICE) == "uncertain"
    assert effects(None, fracture, NICE, "general.canal_compromise") == {Effect.CAUTION}


@pytest.mark.rule("general.instability")
def test_instability_is_relative() -> None:
    """LCD: "Relative: ... spinal instability"."""
    fracture = {"unstable": True}
    a = assessed(fracture=fracture)
    assert category(a, NICE) == "uncertain"
    assert effects(None, fracture, NICE, "general.instability") == {Effect.CAUTION}


@pytest.mark.rule("general.posterior_wall_defect")
@pytest.mark.parametrize(("intact", "expected"), [(False, "uncertain"), (True, "appropriate"), (None, "appropriate")])
def test_posterior_wall_defect_is_relative(intact: bool | None, expected: str) -> None:
    """CIRSE: "Relative: radicular pain dominating; retropulsed fragment/epidural tumour with canal compromise;
    posterior-wall defect"."""
    fracture = {"posterior_wall_intact": intact}
    a = assessed(fracture=fracture)
    for profile in (ACR, NICE, LCD):
        assert category(a, profile) == expected, profile
    assert (Contra.POSTERIOR_WALL_DEFECT in found(fracture=fracture)) is (intact is False)


@pytest.mark.rule("general.vertebra_plana")
@pytest.mark.parametrize(("height_loss", "plana"), [(40.0, False), (69.9, False), (70.1, True), (85.0, True)])
def test_vertebra_plana_is_relative(height_loss: float, plana: bool) -> None:
    """Reference §2.3: "Collapse > 70 % is cited as a relative contraindication (technical feasibility)"; CIRSE:
    "Relative: ... severe collapse (vertebra plana)"."""
    fracture = {"height_loss_percent": height_loss}
    a = assessed(fracture=fracture)
    for profile in (ACR, NICE, LCD):
        assert category(a, profile) == ("uncertain" if plana else "appropriate"), profile
    assert ("general.vertebra_plana" in rule_ids(a, NICE)) is plana


@pytest.mark.rule("general.too_many_levels")
@pytest.mark.parametrize(("levels", "cautioned"), [(("T12", "L1", "L2"), False), (("T11", "T12", "L1", "L2"), True)])
def test_more_than_3_levels_is_staged_not_refused(levels: tuple[str, ...], cautioned: bool) -> None:
    """LCD: "> 3 levels per procedure" is relative; "Levels per session | LCD: > 3 = relative CI; eviCore ≤ 2;
    PCE risk higher with ≥ 3 (OR 2.41) | warn > 3"."""
    changes = {"fractures": fractures_at(*levels)}
    a = assessed(changes)
    assert (Contra.STAGED_LEVELS in found(changes)) is cautioned
    assert Contra.TOO_MANY_LEVELS not in found(changes)
    for profile in (ACR, NICE):
        assert category(a, profile) == "appropriate", profile
        assert effects(changes, None, profile, "general.too_many_levels") == ({Effect.NOTE} if cautioned else set())
    assert [len(s) for s in a.recommendation.sessions] == ([3, 1] if cautioned else [3])


@pytest.mark.rule("general.too_many_levels")
def test_healed_levels_do_not_count_towards_the_level_limit() -> None:
    """LCD: "> 3 vertebral levels per procedure" - only unhealed levels are treated in a procedure."""
    fractures = fractures_at("T10", "T11", "T12", "L1")
    fractures[0] = {**fractures[0], "mri_edema": False}
    assert Contra.TOO_MANY_LEVELS not in found({"fractures": fractures})


@pytest.mark.rule("general.improving")
def test_improving_on_medical_therapy_is_not_a_routine_candidate() -> None:
    """CIRSE: "patient improving on medical therapy"; ACR 2022: "most VCFs improve over 2–12 weeks"."""
    changes = {"pain": {"trend": "improving"}}
    a = assessed(changes)
    for profile in (ACR, NICE, LCD):
        assert category(a, profile) == "uncertain", profile
    assert effects(changes, None, NICE, "general.improving") == {Effect.CAUTION}


# --- scope -----------------------------------------------------------------------------------------------------


@pytest.mark.rule("scope.high_energy_trauma")
@pytest.mark.parametrize("profile", INDICATION_PROFILES)
def test_high_velocity_trauma_is_outside_the_fragility_pathways(profile: str) -> None:
    """Hirsch 2018: "excluded: high-velocity trauma, suspected malignant non-fragility fracture, age < 18"; TA279
    "Scope: osteoporotic VCF only (not malignant, not traumatic in normal bone)"."""
    fracture = {"cause": "high_energy_trauma"}
    a = assessed(fracture=fracture)
    assert category(a, profile) == "not_appropriate"
    assert effects(None, fracture, profile, "scope.high_energy_trauma") == {Effect.AGAINST}


@pytest.mark.rule("scope.age_under_18")
@pytest.mark.parametrize("age", [17, 18])
def test_patients_under_18_are_outside_the_evidence_base(age: int) -> None:
    """Hirsch 2018 pathway: "excludes high-velocity trauma, suspected malignant fracture, age < 18". At 18 the
    age rule no longer applies, but a low-energy fracture at 18 is still atypical (redflag.young_low_energy)."""
    changes = {"patient": {"age": age, "pregnant": False}}
    a = assessed(changes)
    for profile in (ACR, NICE, LCD):
        assert category(a, profile) == "uncertain", profile
    assert ("scope.age_under_18" in rule_ids(a, NICE)) is (age < 18)
    assert "redflag.young_low_energy" in rule_ids(a, NICE)


@pytest.mark.rule("scope.all_healed")
@pytest.mark.parametrize(
    "fracture",
    [{"mri_edema": False}, {"mri_edema": None, "bone_scan_uptake": False}],
    ids=["no-oedema", "no-uptake"],
)
def test_every_fracture_healed_leaves_nothing_to_treat(fracture: dict[str, Any]) -> None:
    """TA279: "treat "unhealed" as imaging evidence of acuity (MRI marrow oedema / bone-scan uptake)"; LCD: "Acute
    or subacute VCF documented by imaging"."""
    a = assessed(fracture=fracture)
    for profile in (NICE, LCD):
        assert category(a, profile) == "not_appropriate", profile
        assert effects(None, fracture, profile, "scope.all_healed") == {Effect.AGAINST}
    assert a.findings.target_levels == ()


@pytest.mark.rule("scope.all_healed")
def test_one_unhealed_level_is_enough() -> None:
    """TA279: "severe ongoing pain after a recent, unhealed vertebral fracture" - the unhealed level is treated,
    the healed one is not."""
    fractures = fractures_at("T12", "L1")
    fractures[0] = {**fractures[0], "mri_edema": False}
    a = assessed({"fractures": fractures})
    for profile in (NICE, LCD):
        assert category(a, profile) == "appropriate", profile
        assert "scope.all_healed" not in rule_ids(a, profile)
    assert a.recommendation.levels == ("L1",)


@pytest.mark.rule("general.too_many_levels")
def test_more_than_3_levels_in_one_session_is_relative_whatever_the_clinic_policy() -> None:
    """LCD: "Relative: ... > 3 vertebral levels per procedure"; "PCE risk higher with ≥ 3 (OR 2.41)" - when a
    clinic's policy puts 4 levels in one session, nothing is staged and the relative contraindication applies."""
    a = assessed({"fractures": fractures_at("T8", "T9", "T11", "L1")}, policy=ClinicPolicy(max_levels_per_session=4))
    assert a.recommendation.mdt_review is True
    for profile in (ACR, NICE):
        assert category(a, profile) == "uncertain", profile
        assert "general.too_many_levels" in rule_ids(a, profile)
