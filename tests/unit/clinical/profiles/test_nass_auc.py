"""NASS Appropriate Use Criteria profile: osteoporotic and neoplastic vertebral fractures (reference §1.7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.clinical.builders import assessed, base_case, category, rule_ids
from vertebro.clinical.verdicts import Effect

NASS = "nass-auc"
TABLE_NOT_HELD = "Uncertain (NASS AUC scenario table not held: verify the scenario)"
OUT_OF_SCOPE = "Outside the NASS AUC (osteoporotic and neoplastic fractures only)"
METASTASIS = {"cause": "metastasis"}


def effects(changes: dict[str, Any] | None, fracture: dict[str, Any] | None, rule_id: str) -> set[Effect]:
    """Return the effects with which the NASS profile applied ``rule_id`` to the changed base case."""
    verdict = assessed(changes, fracture).profiles[NASS]
    return {r.effect for r in verdict.reasons if r.rule.id == rule_id}


# --- osteoporotic AUC ---------------------------------------------------------------------------------------


@pytest.mark.rule("nass.osteoporotic_scenarios")
@pytest.mark.parametrize("nrs", [7, 10])
def test_osteoporotic_scenario_table_not_held_is_uncertain(nrs: int) -> None:
    """NASS osteoporotic AUC: "144 scenarios; cement augmentation appropriate in 7 (4.9 %), uncertain 51 (35.4 %),
    rarely appropriate 86 (59.7 %). Key modifiers: duration, pain, physical function, stenosis"."""
    changes = {"pain": {"nrs": nrs}}
    a = assessed(changes)
    assert category(a, NASS) == "uncertain"
    assert a.profiles[NASS].label == TABLE_NOT_HELD
    assert effects(changes, None, "nass.osteoporotic_scenarios") == {Effect.NOTE}


@pytest.mark.rule("nass.osteoporotic_chronic_low_pain")
@pytest.mark.parametrize(
    ("onset_weeks", "nrs", "expected"),
    [
        (14, 6, "not_appropriate"),
        (14, 7, "uncertain"),
        (13, 6, "uncertain"),
        (52, 3, "not_appropriate"),
        (4, 3, "uncertain"),
    ],
)
def test_chronic_fracture_with_vas_6_or_less_is_rarely_appropriate(onset_weeks: int, nrs: int, expected: str) -> None:
    """NASS osteoporotic AUC: "Chronic fracture with VAS ≤ 6 → rarely appropriate (100 %)"; chronic is "> 3 mo"
    (European RAND: "< 6 weeks / ≥ 6 weeks–≤ 3 months / > 3 months")."""
    changes = {"pain": {"nrs": nrs}}
    fracture = {"onset_weeks": onset_weeks}
    a = assessed(changes, fracture)
    assert category(a, NASS) == expected
    applied = effects(changes, fracture, "nass.osteoporotic_chronic_low_pain")
    assert applied == ({Effect.AGAINST} if expected == "not_appropriate" else set())
    if expected == "not_appropriate":
        assert a.profiles[NASS].label == "Rarely appropriate (NASS AUC)"


@pytest.mark.rule("nass.osteoporotic_stenosis_neuro")
@pytest.mark.parametrize(
    ("neuro", "canal", "expected"),
    [(True, True, "not_appropriate"), (True, False, "uncertain"), (False, True, "uncertain")],
)
def test_stenosis_with_neurological_change_points_to_surgery(neuro: bool, canal: bool, expected: str) -> None:
    """NASS osteoporotic AUC: "Surgery: stenosis + neurologic change → appropriate (87 % probability)"."""
    changes = {"neurological_deficit": neuro}
    fracture = {"canal_compromise": canal}
    a = assessed(changes, fracture)
    assert category(a, NASS) == expected
    assert ("nass.osteoporotic_stenosis_neuro" in rule_ids(a, NASS)) is (neuro and canal)


# --- neoplastic AUC -----------------------------------------------------------------------------------------


@pytest.mark.rule("nass.neoplastic_criteria")
@pytest.mark.parametrize("cause", ["metastasis", "myeloma"])
def test_neoplastic_all_criteria_met_is_appropriate(cause: str) -> None:
    """NASS neoplastic AUC: "cement augmentation appropriate when no stenosis/neurologic change, stable fracture,
    < 80 % height loss, intact posterior wall, VAS > 6 (88 % probability)"."""
    a = assessed(fracture={"cause": cause})
    assert category(a, NASS) == "appropriate"
    assert a.profiles[NASS].label == "Appropriate (NASS AUC)"
    assert Effect.SUPPORTS in effects(None, {"cause": cause}, "nass.neoplastic_criteria")


@pytest.mark.rule("nass.neoplastic_criteria")
@pytest.mark.parametrize(("nrs", "expected"), [(6, "uncertain"), (7, "appropriate")])
def test_neoplastic_pain_must_exceed_vas_6(nrs: int, expected: str) -> None:
    """NASS neoplastic AUC: cement augmentation appropriate with "VAS > 6"."""
    a = assessed({"pain": {"nrs": nrs}}, METASTASIS)
    assert category(a, NASS) == expected


@pytest.mark.rule("nass.neoplastic_criteria")
@pytest.mark.parametrize(
    ("height_loss", "expected"),
    [(40.0, "appropriate"), (75.0, "appropriate"), (79.9, "appropriate"), (80.0, "uncertain"), (95.0, "uncertain")],
)
def test_neoplastic_height_loss_must_be_under_80_percent(height_loss: float, expected: str) -> None:
    """NASS neoplastic AUC: cement augmentation appropriate with "< 80 % height loss"; reference §2.3: "NASS
    neoplastic AUC favours augmentation only with < 80 % height loss"."""
    a = assessed(fracture={**METASTASIS, "height_loss_percent": height_loss})
    assert category(a, NASS) == expected


@pytest.mark.rule("nass.neoplastic_criteria")
@pytest.mark.parametrize(
    ("changes", "fracture", "keywords"),
    [
        (None, {"posterior_wall_intact": None}, ("posterior wall",)),
        (None, {"unstable": None}, ("stability",)),
        ({"neurological_deficit": None}, None, ("neurological",)),
        (None, {"height_loss_percent": None}, ("height loss",)),
        (None, {"canal_compromise": None}, ("stenosis", "canal")),
    ],
    ids=["posterior-wall", "stability", "neuro-exam", "height-loss", "stenosis"],
)
def test_neoplastic_criteria_not_recorded_are_missing(
    changes: dict[str, Any] | None, fracture: dict[str, Any] | None, keywords: tuple[str, ...]
) -> None:
    """NASS neoplastic AUC: appropriate only when "no stenosis/neurologic change, stable fracture, < 80 % height
    loss, intact posterior wall, VAS > 6" - each criterion must be known to hold, so an unrecorded one is
    missing data."""
    a = assessed(changes, {**METASTASIS, **(fracture or {})})
    verdict = a.profiles[NASS]
    assert category(a, NASS) == "uncertain"
    assert any(word in m for m in verdict.missing for word in keywords), verdict.missing


@pytest.mark.rule("nass.neoplastic_criteria")
def test_neoplastic_posterior_wall_defect_is_not_appropriate_for_cement() -> None:
    """NASS neoplastic AUC: cement augmentation appropriate with an "intact posterior wall"."""
    fracture = {**METASTASIS, "posterior_wall_intact": False}
    a = assessed(fracture=fracture)
    assert category(a, NASS) == "uncertain"
    assert Effect.CAUTION in effects(None, fracture, "nass.neoplastic_criteria")


@pytest.mark.rule("nass.neoplastic_surgery")
@pytest.mark.parametrize(
    ("changes", "fracture"),
    [
        ({"neurological_deficit": True}, None),
        (None, {"canal_compromise": True}),
        (None, {"unstable": True}),
    ],
    ids=["neuro-deficit", "stenosis", "instability"],
)
def test_neoplastic_deficit_stenosis_or_instability_point_to_surgery(
    changes: dict[str, Any] | None, fracture: dict[str, Any] | None
) -> None:
    """NASS neoplastic AUC: "surgery for neuro deficit, severe stenosis, instability"."""
    fr = {**METASTASIS, **(fracture or {})}
    a = assessed(changes, fr)
    assert category(a, NASS) == "not_appropriate"
    assert effects(changes, fr, "nass.neoplastic_surgery") == {Effect.CAUTION}
    assert a.recommendation.treatment.value == "surgical_referral"


@pytest.mark.rule("nass.neoplastic_radiation")
@pytest.mark.parametrize(
    ("changes", "fracture"),
    [(None, None), ({"pain": {"nrs": 4}}, None), ({"neurological_deficit": True}, None)],
    ids=["appropriate", "uncertain", "surgical"],
)
def test_neoplastic_radiation_is_always_considered(
    changes: dict[str, Any] | None, fracture: dict[str, Any] | None
) -> None:
    """NASS neoplastic AUC: "radiation always considered (all radiosensitive scenarios appropriate)"."""
    fr = {**METASTASIS, **(fracture or {})}
    assert effects(changes, fr, "nass.neoplastic_radiation") == {Effect.NOTE}


@pytest.mark.rule("nass.neoplastic_radiation")
def test_osteoporotic_fracture_has_no_radiation_note() -> None:
    """NASS neoplastic AUC: "radiation always considered" - for neoplastic fractures, not osteoporotic ones."""
    assert "nass.neoplastic_radiation" not in rule_ids(assessed(), NASS)


# --- scope --------------------------------------------------------------------------------------------------


@pytest.mark.rule("nass.scope")
@pytest.mark.parametrize("cause", ["hemangioma", "unknown"])
def test_other_fractures_are_outside_the_auc(cause: str) -> None:
    """NASS: "Appropriate Use Criteria, osteoporotic VCF" and "NASS AUC, neoplastic VCF" - other fractures are
    outside both."""
    fracture = {"cause": cause}
    a = assessed(fracture=fracture)
    assert category(a, NASS) == "uncertain"
    assert a.profiles[NASS].label == OUT_OF_SCOPE
    assert effects(None, fracture, "nass.scope") == {Effect.NOTE}


@pytest.mark.rule("nass.scope")
def test_high_energy_trauma_is_outside_the_auc_and_not_appropriate() -> None:
    """NASS AUC cover "osteoporotic VCF" and "neoplastic VCF"; Hirsch 2018 "excluded: high-velocity trauma"."""
    a = assessed(fracture={"cause": "high_energy_trauma"})
    assert category(a, NASS) == "not_appropriate"
    assert {"nass.scope", "scope.high_energy_trauma"} <= rule_ids(a, NASS)


@pytest.mark.rule("nass.neoplastic_criteria")
def test_a_known_height_loss_at_one_level_does_not_stand_for_an_unknown_one_at_another() -> None:
    """NASS neoplastic AUC: appropriate with "< 80 % height loss" - of every level treated. An osteoporotic L1
    with 30 % loss beside a metastatic T8 whose loss is not recorded leaves T8's loss missing (hazard H121)."""
    t8 = {**base_case()["fractures"][0], "level": "T8", "cause": "metastasis", "height_loss_percent": None}
    a = assessed({"fractures": [base_case()["fractures"][0], t8]})
    verdict = a.profiles[NASS]
    assert category(a, NASS) == "uncertain"
    assert "percent height loss at T8" in verdict.missing
