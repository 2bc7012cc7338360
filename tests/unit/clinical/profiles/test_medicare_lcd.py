"""Medicare LCD profile (L33569 family): coverage criteria and contraindications (reference §0, §1.6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, base_case, category, rule_ids
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.verdicts import Effect

LCD = "medicare-lcd"
OUT_OF_SCOPE = "Not addressed by the LCD (covered indications: osteoporotic VCF, osteolytic metastasis, myeloma)"
NO_KYPHOSIS = {"kyphotic_deformity": False}


def effects(changes: dict[str, Any] | None, fracture: dict[str, Any] | None, rule_id: str) -> set[Effect]:
    """Return the effects with which the LCD profile applied ``rule_id`` to the changed base case."""
    verdict = assessed(changes, fracture).profiles[LCD]
    return {r.effect for r in verdict.reasons if r.rule.id == rule_id}


@pytest.mark.rule("lcd.imaging_acute")
@pytest.mark.parametrize(
    "fracture",
    [{"mri_edema": True}, {"mri_edema": None, "bone_scan_uptake": True}],
    ids=["mri", "bone-scan"],
)
def test_acute_fracture_documented_by_imaging(fracture: dict[str, Any]) -> None:
    """LCD: "Acute or subacute VCF documented by imaging (L34976: MRI or bone scan / SPECT-CT ...)"."""
    a = assessed(fracture=fracture)
    assert category(a, LCD) == "appropriate"
    assert a.profiles[LCD].label == "Meets LCD coverage criteria"
    assert effects(None, fracture, "lcd.imaging_acute") == {Effect.SUPPORTS}


@pytest.mark.rule("lcd.imaging_acute")
def test_acuity_not_imaged_is_missing_documentation() -> None:
    """LCD: "Acute or subacute VCF documented by imaging"; "Documentation: pain scores, NSM record, imaging with
    measurements ..."."""
    a = assessed(fracture={"mri_edema": None})
    assert category(a, LCD) == "uncertain"
    assert effects(None, {"mri_edema": None}, "lcd.imaging_acute") == {Effect.MISSING}


@pytest.mark.rule("lcd.imaging_acute")
def test_healed_fracture_is_not_covered() -> None:
    """LCD: covered only with an "Acute or subacute VCF documented by imaging"; no oedema means healed."""
    a = assessed(fracture={"mri_edema": False})
    assert category(a, LCD) == "not_appropriate"
    assert "scope.all_healed" in rule_ids(a, LCD)


@pytest.mark.rule("lcd.pain_hospitalized")
@pytest.mark.parametrize(("nrs", "expected"), [(7, "not_appropriate"), (8, "appropriate"), (10, "appropriate")])
def test_hospitalized_pain_threshold_8(nrs: int, expected: str) -> None:
    """LCD: "Pain threshold, Medicare LCD | hospitalized NRS/VAS ≥ 8"."""
    changes = {"patient": {"hospitalized": True}, "pain": {"nrs": nrs}}
    a = assessed(changes)
    assert category(a, LCD) == expected
    assert effects(changes, None, "lcd.pain_hospitalized") == {Effect.SUPPORTS if nrs >= 8 else Effect.AGAINST}
    assert "lcd.pain_outpatient" not in rule_ids(a, LCD)


@pytest.mark.rule("lcd.pain_hospitalized")
def test_hospitalized_needs_neither_nsm_nor_add_ons() -> None:
    """LCD: "hospitalized NRS/VAS ≥ 8; non-hospitalized ≥ 5 despite optimal non-surgical management (NSM)"; the
    add-ons apply to "(non-hospitalized, pain not worsening)"."""
    changes = {
        "patient": {"hospitalized": True},
        "conservative_care": {"optimal": None},
        "function": {"rdq": 5},
    }
    fracture = {"kyphotic_deformity": False, "height_loss_percent": 10.0}
    a = assessed(changes, fracture)
    assert category(a, LCD) == "appropriate"
    assert "lcd.worsening_or_two_addons" not in rule_ids(a, LCD)


@pytest.mark.rule("lcd.pain_outpatient")
@pytest.mark.parametrize(("nrs", "expected"), [(4, "not_appropriate"), (5, "appropriate"), (7, "appropriate")])
def test_outpatient_pain_threshold_5(nrs: int, expected: str) -> None:
    """LCD: "non-hospitalized NRS/VAS ≥ 5 despite optimal NSM"."""
    changes = {"pain": {"nrs": nrs}}
    a = assessed(changes)
    assert category(a, LCD) == expected
    assert effects(changes, None, "lcd.pain_outpatient") == {Effect.SUPPORTS if nrs >= 5 else Effect.AGAINST}


@pytest.mark.rule("lcd.pain_outpatient")
@pytest.mark.parametrize(
    ("optimal", "expected", "effect"),
    [(False, "not_appropriate", Effect.AGAINST), (None, "uncertain", Effect.MISSING)],
)
def test_outpatient_pain_must_persist_despite_optimal_nsm(optimal: bool | None, expected: str, effect: Effect) -> None:
    """LCD: "non-hospitalized ≥ 5 despite optimal non-surgical management (NSM)"."""
    changes = {"conservative_care": {"optimal": optimal}}
    a = assessed(changes)
    assert category(a, LCD) == expected
    assert effect in effects(changes, None, "lcd.pain_outpatient")


@pytest.mark.rule("lcd.worsening_or_two_addons")
def test_worsening_pain_needs_no_add_ons() -> None:
    """LCD: "And either worsening pain, or persistent NRS/VAS ≥ 5 plus ≥ 2 of" the add-ons."""
    changes = {"pain": {"trend": "worsening"}, "function": {"rdq": 5}}
    fracture = {"kyphotic_deformity": False, "height_loss_percent": 10.0}
    a = assessed(changes, fracture)
    assert category(a, LCD) == "appropriate"
    assert effects(changes, fracture, "lcd.worsening_or_two_addons") == {Effect.SUPPORTS}


@pytest.mark.rule("lcd.worsening_or_two_addons")
@pytest.mark.parametrize(("height_loss", "expected"), [(25.0, "not_appropriate"), (25.1, "appropriate")])
def test_height_loss_add_on_is_strictly_over_25_percent(height_loss: float, expected: str) -> None:
    """LCD: "≥ 2 of: vertebral height loss > 25 %; kyphotic deformity; RDQ > 17" (here RDQ 19 is the other)."""
    fracture = {"kyphotic_deformity": False, "height_loss_percent": height_loss}
    a = assessed(fracture=fracture)
    assert category(a, LCD) == expected


@pytest.mark.rule("lcd.worsening_or_two_addons")
@pytest.mark.parametrize(("rdq", "expected"), [(17, "not_appropriate"), (18, "appropriate")])
def test_rdq_add_on_is_strictly_over_17(rdq: int, expected: str) -> None:
    """LCD: "≥ 2 of: vertebral height loss > 25 %; kyphotic deformity; RDQ > 17 (severe functional impact)" (here
    height loss 30 % is the other)."""
    a = assessed({"function": {"rdq": rdq}}, NO_KYPHOSIS)
    assert category(a, LCD) == expected


@pytest.mark.rule("lcd.worsening_or_two_addons")
@pytest.mark.parametrize(("trend", "expected"), [("stable", "appropriate"), ("improving", "uncertain")])
def test_kyphosis_and_height_loss_are_two_add_ons(trend: str, expected: str) -> None:
    """LCD: "persistent NRS/VAS ≥ 5 plus ≥ 2 of: vertebral height loss > 25 %; kyphotic deformity; RDQ > 17"
    (improving pain meets the add-ons but falls under the general screen: CIRSE "patient improving on medical
    therapy")."""
    changes = {"pain": {"trend": trend}, "function": {"rdq": 10}}
    a = assessed(changes)
    assert category(a, LCD) == expected
    assert effects(changes, None, "lcd.worsening_or_two_addons") == {Effect.SUPPORTS}


@pytest.mark.rule("lcd.worsening_or_two_addons")
def test_one_add_on_without_worsening_is_not_covered() -> None:
    """LCD: "either worsening pain, or persistent NRS/VAS ≥ 5 plus ≥ 2 of" the add-ons; only kyphosis present."""
    changes = {"function": {"rdq": 12}}
    fracture = {"height_loss_percent": 20.0}
    a = assessed(changes, fracture)
    assert category(a, LCD) == "not_appropriate"
    assert effects(changes, fracture, "lcd.worsening_or_two_addons") == {Effect.AGAINST}


@pytest.mark.rule("lcd.worsening_or_two_addons")
@pytest.mark.parametrize(
    ("changes", "fracture", "expected"),
    [
        ({"function": {"rdq": None}}, NO_KYPHOSIS, "uncertain"),
        ({"function": {"rdq": None}}, {"kyphotic_deformity": False, "height_loss_percent": 20.0}, "not_appropriate"),
        ({"pain": {"trend": None}, "function": {"rdq": 10}}, {"kyphotic_deformity": False}, "uncertain"),
    ],
    ids=["one-met-one-unknown", "none-met-one-unknown", "trend-unknown-one-met"],
)
def test_add_ons_not_recorded(changes: dict[str, Any], fracture: dict[str, Any], expected: str) -> None:
    """LCD: "either worsening pain, or persistent NRS/VAS ≥ 5 plus ≥ 2 of" the add-ons: unknown add-ons are
    missing documentation only when they could still make two (or the trend could be worsening)."""
    a = assessed(changes, fracture)
    assert category(a, LCD) == expected


@pytest.mark.rule("lcd.pain_primarily_from_fracture")
def test_pain_primarily_from_the_fracture() -> None:
    """LCD: "Pain is primarily due to the identified VCF"."""
    assert effects(None, None, "lcd.pain_primarily_from_fracture") == {Effect.SUPPORTS}
    changes = {"pain": {"concordant_with_fracture": None}}
    a = assessed(changes)
    assert category(a, LCD) == "uncertain"
    assert effects(changes, None, "lcd.pain_primarily_from_fracture") == {Effect.MISSING}


@pytest.mark.rule("lcd.bmd_referral")
@pytest.mark.parametrize(
    ("documented", "expected", "effect"),
    [(True, "appropriate", Effect.SUPPORTS), (None, "uncertain", Effect.MISSING), (False, "uncertain", Effect.MISSING)],
)
def test_bmd_referral_documented(documented: bool | None, expected: str, effect: Effect) -> None:
    """LCD: "Continuum of care: referral for BMD evaluation + osteoporosis education/treatment documented"."""
    changes = {"bone_health": {"bmd_referral_documented": documented}}
    a = assessed(changes)
    assert category(a, LCD) == expected
    assert effects(changes, None, "lcd.bmd_referral") == {effect}


@pytest.mark.rule("lcd.malignant")
@pytest.mark.parametrize("cause", ["myeloma", "metastasis"])
def test_osteolytic_metastasis_and_myeloma_are_covered(cause: str) -> None:
    """LCD: "Malignant: several LCDs (L38737, L38201, L34976, L38213) also cover osteolytic metastasis or myeloma
    with intractable pain unresponsive to medical therapy" (the osteoporotic add-ons do not apply)."""
    changes = {"function": {"rdq": 5}}
    fracture = {"cause": cause, "kyphotic_deformity": False, "height_loss_percent": 10.0}
    a = assessed(changes, fracture)
    assert category(a, LCD) == "appropriate"
    assert effects(changes, fracture, "lcd.malignant") == {Effect.NOTE}
    assert "lcd.worsening_or_two_addons" not in rule_ids(a, LCD)


@pytest.mark.rule("lcd.malignant")
def test_malignant_pain_must_be_unresponsive_to_medical_therapy() -> None:
    """LCD: cover "osteolytic metastasis or myeloma with intractable pain unresponsive to medical therapy"."""
    a = assessed({"conservative_care": {"optimal": False}}, {"cause": "metastasis"})
    assert category(a, LCD) == "not_appropriate"


@pytest.mark.rule("lcd.malignant")
def test_haemangioma_is_not_addressed_by_the_lcd() -> None:
    """LCD "Covered (PVP or PKP)" for osteoporotic VCF; "also cover osteolytic metastasis or myeloma" - a
    haemangioma is neither."""
    a = assessed(fracture={"cause": "hemangioma"})
    assert category(a, LCD) == "uncertain"
    assert a.profiles[LCD].label == OUT_OF_SCOPE
    assert "lcd.malignant" in rule_ids(a, LCD)


@pytest.mark.rule("lcd.cause_established")
def test_unestablished_cause_leaves_criteria_unmet() -> None:
    """LCD: "Percutaneous Vertebral Augmentation (PVA) for (Osteoporotic) Vertebral Compression Fracture"; "Pain
    is primarily due to the identified VCF" - the cause must be identified."""
    a = assessed(fracture={"cause": "unknown"})
    assert category(a, LCD) == "uncertain"
    assert effects(None, {"cause": "unknown"}, "lcd.cause_established") == {Effect.CAUTION}


@pytest.mark.rule("lcd.pregnancy")
def test_pregnancy_is_absolute_in_most_lcds() -> None:
    """LCD: "absolute: pain not due to the VCF, active infection (osteomyelitis/discitis/site), pregnancy*" and
    "L38213 lists pregnancy as relative" - "CONFLICT between LCDs"; vertebro applies the stricter reading."""
    changes = {"patient": {"pregnant": True}}
    a = assessed(changes)
    assert category(a, LCD) == "contraindicated"
    assert a.profiles[LCD].label == "LCD absolute contraindication"
    assert effects(changes, None, "lcd.pregnancy") == {Effect.CONTRAINDICATION}


@pytest.mark.rule("lcd.absolute_contraindications")
@pytest.mark.parametrize(
    "changes",
    [
        {"red_flags": {"active_infection": True}},
        {"pain": {"concordant_with_fracture": False}},
        {"pain": {"nrs": 0}},
    ],
    ids=["active-infection", "pain-not-from-fracture", "painless"],
)
def test_absolute_contraindications(changes: dict[str, Any]) -> None:
    """LCD: "Absolute contraindications: pain not primarily from the VCF; active infection (osteomyelitis,
    discitis, surgical-site)"."""
    a = assessed(changes)
    assert category(a, LCD) == "contraindicated"
    assert effects(changes, None, "lcd.absolute_contraindications") == {Effect.CONTRAINDICATION}


@pytest.mark.rule("lcd.relative_contraindications")
@pytest.mark.parametrize(
    ("changes", "fracture"),
    [
        ({"allergies": ["PMMA bone cement"]}, None),
        ({"allergies": ["iodinated contrast"]}, None),
        ({"coagulopathy_uncorrectable": True}, None),
        (None, {"unstable": True}),
        ({"neurological_deficit": True}, None),
        (None, {"retropulsion": True}),
        (None, {"canal_compromise": True}),
    ],
    ids=["cement-allergy", "contrast-allergy", "coagulopathy", "instability", "neuro-deficit", "retropulsion", "canal"],
)
def test_relative_contraindications(changes: dict[str, Any] | None, fracture: dict[str, Any] | None) -> None:
    """LCD: "Relative: allergy to bone cement or opacification/contrast agents; uncorrected coagulopathy; spinal
    instability; myelopathy / neurologic deficit; fracture retropulsion / canal compromise; > 3 vertebral levels
    per procedure"."""
    a = assessed(changes, fracture)
    assert category(a, LCD) == "uncertain"
    assert effects(changes, fracture, "lcd.relative_contraindications") == {Effect.CAUTION}


@pytest.mark.rule("lcd.relative_contraindications")
@pytest.mark.parametrize(("count", "cautioned"), [(3, False), (4, True)])
def test_more_than_3_levels_per_procedure_is_staged(count: int, cautioned: bool) -> None:
    """LCD relative contraindication: "> 3 vertebral levels per procedure"; vertebro stages the levels into
    sessions of at most 3, so the coverage verdict stands and the caution is recorded."""
    levels = ["T8", "T9", "T11", "L1"][:count]
    fractures = [{**base_case()["fractures"][0], "level": level} for level in levels]
    changes = {"fractures": fractures}
    a = assessed(changes)
    assert category(a, LCD) == "appropriate"
    assert "lcd.relative_contraindications" not in rule_ids(a, LCD)
    assert ("general.too_many_levels" in rule_ids(a, LCD)) is cautioned
    assert all(len(s) <= 3 for s in a.recommendation.sessions)


@pytest.mark.rule("lcd.relative_contraindications")
def test_more_than_3_levels_in_one_procedure_stays_relative_whatever_the_clinic_policy() -> None:
    """LCD: "Relative: ... > 3 vertebral levels per procedure" - the LCD's limit is 3; a clinic that allows 4 levels
    per session puts 4 levels in one procedure, which the LCD profile must still weigh as a relative
    contraindication."""
    fractures = [{**base_case()["fractures"][0], "level": level} for level in ("T8", "T9", "T11", "L1")]
    a = assessed({"fractures": fractures}, policy=ClinicPolicy(max_levels_per_session=4))
    assert a.recommendation.mdt_review is True
    assert category(a, LCD) == "uncertain"
    assert "lcd.relative_contraindications" in rule_ids(a, LCD)
