"""ACR Appropriateness Criteria profile: 2018 variants 1-3 refined by the 2022 update (reference §1.2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, base_case, category, rule_ids
from vertebro.clinical.verdicts import Effect

ACR = "acr"


def effects(changes: dict[str, Any] | None, fracture: dict[str, Any] | None, rule_id: str) -> set[Effect]:
    """Return the effects with which the ACR profile applied ``rule_id`` to the changed base case."""
    verdict = assessed(changes, fracture).profiles[ACR]
    return {r.effect for r in verdict.reasons if r.rule.id == rule_id}


@pytest.mark.rule("acr.v2_osteoporotic")
@pytest.mark.parametrize("cause", ["osteoporotic", "low_energy_trauma"])
def test_v2_osteoporotic_fracture_without_red_flags_is_usually_appropriate(cause: str) -> None:
    """ACR 2018 V2: "Osteoporotic fracture, with or without MRI oedema, no "red flags", with or without spinal
    deformity, worsening symptoms or pulmonary dysfunction" -> VA "UA" (usually appropriate)."""
    a = assessed(fracture={"cause": cause})
    assert category(a, ACR) == "appropriate"
    assert a.profiles[ACR].label == "Usually appropriate (ACR rating 7-9)"
    assert effects(None, {"cause": cause}, "acr.v2_osteoporotic") == {Effect.SUPPORTS}


@pytest.mark.rule("acr.v2_osteoporotic")
@pytest.mark.rule("general.safety_facts_recorded")
def test_v2_without_acuity_imaging_waits_for_the_imaging() -> None:
    """ACR 2018 V2 covers a fracture "with or without MRI oedema", but variant 1 asks for MRI when the fracture
    is new and not yet worked up: while no imaging shows the level's acuity, ACR is held at "may be appropriate"
    and the imaging is listed as missing."""
    a = assessed(fracture={"mri_edema": None})
    assert category(a, ACR) == "uncertain"
    assert "acr.v2_osteoporotic" in rule_ids(a, ACR)
    assert "acr.2022_oedema_or_cleft" not in rule_ids(a, ACR)
    assert any("acuity imaging of L1" in m for m in a.profiles[ACR].missing)


@pytest.mark.rule("acr.v2_osteoporotic")
@pytest.mark.parametrize(("kyphotic", "pulmonary"), [(False, False), (True, True)])
def test_v2_applies_with_or_without_deformity_or_pulmonary_dysfunction(kyphotic: bool, pulmonary: bool) -> None:
    """ACR 2018 V2: "with or without spinal deformity, worsening symptoms or pulmonary dysfunction" -> VA "UA"."""
    a = assessed({"pulmonary_dysfunction": pulmonary}, {"kyphotic_deformity": kyphotic})
    assert category(a, ACR) == "appropriate"


@pytest.mark.rule("acr.red_flags")
@pytest.mark.parametrize("flag", ["fever", "cancer_history"])
def test_red_flags_take_the_case_out_of_variant_2(flag: str) -> None:
    """ACR 2018 V2 applies only with 'no "red flags"'; with a red flag the cause is not established, which is
    V1 "New symptomatic compression fracture ... no known malignancy": VA "MBA" (may be appropriate)."""
    a = assessed({"red_flags": {flag: True}})
    assert category(a, ACR) == "uncertain"
    assert a.profiles[ACR].label == "May be appropriate (ACR rating 4-6)"
    ids = rule_ids(a, ACR)
    assert "acr.red_flags" in ids
    assert "acr.v2_osteoporotic" not in ids


@pytest.mark.rule("acr.red_flags")
def test_no_red_flags_recorded_false_keeps_variant_2() -> None:
    """ACR 2018 V2: 'no "red flags"' -> VA "UA"; red flags recorded as absent do not lower the rating."""
    a = assessed({"red_flags": {"fever": False, "cancer_history": False, "active_infection": False}})
    assert category(a, ACR) == "appropriate"
    assert "acr.red_flags" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.v1_unknown_cause")
def test_v1_cause_not_established_may_be_appropriate() -> None:
    """ACR 2018 V1: "New symptomatic compression fracture on radiograph/CT, no known malignancy" -> VA "MBA";
    "MRI w/o contrast UA"."""
    a = assessed(fracture={"cause": "unknown"})
    assert category(a, ACR) == "uncertain"
    assert "acr.v1_unknown_cause" in rule_ids(a, ACR)
    assert "acr.v2_osteoporotic" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.v3_contraindication")
@pytest.mark.parametrize(
    ("changes", "contra"),
    [
        ({"red_flags": {"active_infection": True}}, "infection"),
        ({"patient": {"pregnant": True}}, "pregnancy"),
        ({"coagulopathy_uncorrectable": True}, "coagulation disorder"),
    ],
)
def test_v3_contraindication_to_va(changes: dict[str, Any], contra: str) -> None:
    """ACR 2018 V3: "Painful osteoporotic fracture with MRI oedema + contraindication to VA or surgery (fitness,
    pregnancy, infection, coagulation disorder…)": VA "(not rated/contraindicated)", medical management UA."""
    a = assessed(changes)
    assert category(a, ACR) == "contraindicated", contra
    assert effects(changes, None, "acr.v3_contraindication") == {Effect.CONTRAINDICATION}


@pytest.mark.rule("acr.2022_oedema_or_cleft")
@pytest.mark.parametrize(
    "fracture",
    [
        {"mri_edema": True},
        {"mri_edema": None, "intravertebral_cleft": True},
        {"mri_edema": None, "bone_scan_uptake": True},
    ],
    ids=["oedema", "cleft", "uptake"],
)
def test_2022_oedema_or_cleft_usually_appropriate(fracture: dict[str, Any]) -> None:
    """ACR 2022: "Symptomatic osteoporotic VCF with bone marrow oedema or intravertebral cleft" -> "VA: UA"."""
    a = assessed(fracture=fracture)
    assert category(a, ACR) == "appropriate"
    assert effects(None, fracture, "acr.2022_oedema_or_cleft") == {Effect.SUPPORTS}


@pytest.mark.rule("acr.2022_no_oedema_conflict")
@pytest.mark.parametrize(
    "fracture",
    [{"mri_edema": False}, {"mri_edema": None, "bone_scan_uptake": False}],
    ids=["no-oedema", "no-uptake"],
)
def test_2022_without_oedema_reports_may_be_appropriate_and_the_conflict(fracture: dict[str, Any]) -> None:
    """Reference: "CONFLICT: ACR 2018 V2 rates VA UA "with or without oedema", whereas NICE ("unhealed") and the LCDs
    (imaging-documented acute/subacute fracture) require evidence of acuity" -> may be appropriate."""
    a = assessed(fracture=fracture)
    assert category(a, ACR) == "uncertain"
    assert effects(None, fracture, "acr.2022_no_oedema_conflict") == {Effect.CAUTION}
    assert "acr.2022_oedema_or_cleft" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.2022_worsening")
@pytest.mark.parametrize(
    ("changes", "fracture"),
    [
        ({"pain": {"trend": "worsening"}}, None),
        (None, {"height_loss_progressing": True}),
        ({"pulmonary_dysfunction": True}, None),
    ],
    ids=["worsening-pain", "progressive-deformity", "pulmonary-dysfunction"],
)
def test_2022_worsening_benign_fracture_usually_appropriate(
    changes: dict[str, Any] | None, fracture: dict[str, Any] | None
) -> None:
    """ACR 2022: "Benign VCF with worsening pain, progressive deformity, or pulmonary dysfunction despite
    conservative care" -> "VA: UA"."""
    a = assessed(changes, fracture)
    assert category(a, ACR) == "appropriate"
    assert effects(changes, fracture, "acr.2022_worsening") == {Effect.SUPPORTS}


@pytest.mark.rule("acr.2022_worsening")
def test_2022_worsening_not_claimed_when_stable() -> None:
    """ACR 2022: "worsening pain, progressive deformity, or pulmonary dysfunction" - none present, no reason."""
    a = assessed()
    assert "acr.2022_worsening" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.2022_asymptomatic")
@pytest.mark.parametrize(
    ("nrs", "expected"),
    [(0, "not_appropriate"), (1, "appropriate")],
)
def test_2022_asymptomatic_fracture_medical_management_only(nrs: int, expected: str) -> None:
    """ACR 2022: "Asymptomatic osteoporotic VCF (incidental) → Medical management only: UA (VA not indicated)"."""
    a = assessed({"pain": {"nrs": nrs}})
    assert category(a, ACR) == expected
    assert ("acr.2022_asymptomatic" in rule_ids(a, ACR)) is (nrs == 0)


@pytest.mark.rule("acr.2022_asymptomatic")
def test_2022_pain_not_from_the_fracture_is_not_an_indication() -> None:
    """ACR 2022: "Asymptomatic osteoporotic VCF (incidental) → Medical management only" - pain recorded as not
    coming from the fracture leaves the fracture asymptomatic: VA usually not appropriate."""
    a = assessed({"pain": {"concordant_with_fracture": False}})
    assert category(a, ACR) == "not_appropriate"
    assert a.profiles[ACR].label == "Usually not appropriate (ACR rating 1-3)"
    assert "acr.2022_asymptomatic" in rule_ids(a, ACR)


@pytest.mark.rule("acr.2022_pathological")
@pytest.mark.parametrize("cause", ["myeloma", "metastasis"])
def test_2022_pathological_fracture_radiation_oncology_va_not_captured(cause: str) -> None:
    """ACR 2022: "Pathological VCF with ongoing/increasing mechanical pain → Radiation-oncology consultation: UA
    (VA rating in that variant not captured)" -> may be appropriate."""
    a = assessed(fracture={"cause": cause})
    assert category(a, ACR) == "uncertain"
    assert "acr.2022_pathological" in rule_ids(a, ACR)
    assert "acr.v2_osteoporotic" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.outside_variants")
def test_haemangioma_is_outside_the_variants_held() -> None:
    """ACR variants held: "V1 ... no known malignancy", "V2 Osteoporotic fracture", "V3 Painful osteoporotic
    fracture", "V4–V6 (pathologic/malignant variants)"; a haemangioma is none of these -> may be appropriate."""
    a = assessed(fracture={"cause": "hemangioma"})
    assert category(a, ACR) == "uncertain"
    assert "acr.outside_variants" in rule_ids(a, ACR)


@pytest.mark.rule("acr.outside_variants")
@pytest.mark.rule("acr.v1_unknown_cause")
def test_haemangioma_with_an_osteoporotic_level_is_an_unestablished_cause() -> None:
    """ACR 2018 V1: "New symptomatic compression fracture on radiograph/CT, no known malignancy" -> "MBA" when a
    haemangioma and an osteoporotic level are both candidates (cause of the symptomatic fracture unclear)."""
    first = base_case()["fractures"][0]
    second = {**first, "level": "T12", "cause": "hemangioma"}
    a = assessed({"fractures": [first, second]})
    assert category(a, ACR) == "uncertain"
    assert "acr.v1_unknown_cause" in rule_ids(a, ACR)
    assert "acr.outside_variants" not in rule_ids(a, ACR)


@pytest.mark.rule("acr.neuro_surgical_consult")
@pytest.mark.parametrize(
    ("changes", "fracture"),
    [
        ({"neurological_deficit": True}, None),
        (None, {"canal_compromise": True}),
        (None, {"unstable": True}),
    ],
    ids=["neurological-deficit", "canal-compromise", "instability"],
)
def test_neurological_deficit_canal_compromise_or_instability_needs_surgical_consult(
    changes: dict[str, Any] | None, fracture: dict[str, Any] | None
) -> None:
    """ "Neuro deficit / canal compromise / instability → surgical referral (LCD relative CI; NASS AUC)"; ACR 2018
    rates "Surgical consult" "MBA" in V1 and V3 only - the ACR variants held do not rate VA here: may be
    appropriate."""
    a = assessed(changes, fracture)
    assert category(a, ACR) == "uncertain"
    assert effects(changes, fracture, "acr.neuro_surgical_consult") == {Effect.CAUTION}
    assert a.recommendation.treatment.value == "surgical_referral"
