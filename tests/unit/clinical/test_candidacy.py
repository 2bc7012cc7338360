"""Candidacy rules of issue 12: pain bands per profile, the young low-energy red flag, fractures seen only on a
radiograph, healed levels for the NASS chronic rule, the treatable range of levels, the age of the imaging and
levels that still need an MRI. Each rule test quotes the source it checks; the properties are generated over the
case model itself (not over the product's synthetic generator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import AS_OF, assessed, base_case, category, rule_ids
from vertebro.clinical import Case, assess
from vertebro.clinical.findings import case_findings
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.profiles import INDICATION_PROFILES
from vertebro.clinical.verdicts import FAVOURABILITY, Category, Effect

ACR, NICE, LCD, NASS = "acr", "nice-ta279", "medicare-lcd", "nass-auc"


def _fracture(level: str, **changes: Any) -> dict[str, Any]:
    fracture: dict[str, Any] = dict(base_case()["fractures"][0], level=level)
    fracture.update(changes)
    return fracture


def _notes(assessment: Any, profile: str, rule_id: str) -> list[str]:
    return [r.detail for r in assessment.profiles[profile].reasons if r.rule.id == rule_id]


# --- pain bands, per profile ------------------------------------------------------------------------------------


@pytest.mark.rule("acr.mild_pain")
def test_pain_of_1_is_a_candidate_under_no_profile() -> None:
    """LCD: "non-hospitalized NRS/VAS ≥ 5 despite optimal NSM"; NICE TA279: "severe ongoing pain"; Serlin 1995:
    "ratings of 1-4 correspond to mild pain"; ACR 2022: "Asymptomatic osteoporotic VCF (incidental) → Medical
    management only"."""
    a = assessed({"pain": {"nrs": 1}})
    assert category(a, ACR) == "not_appropriate"
    assert category(a, NICE) == "not_appropriate"
    assert category(a, LCD) == "not_appropriate"
    assert category(a, NASS) == "uncertain"
    assert a.recommendation.treatment.value == "conservative_care"
    assert a.recommendation.sessions == ()


# --- a low-energy fracture in a young patient ---------------------------------------------------------------------


@pytest.mark.rule("redflag.young_low_energy")
@pytest.mark.parametrize("cause", ["osteoporotic", "low_energy_trauma"])
def test_a_19_year_old_with_a_low_energy_fracture_needs_a_secondary_cause_work_up(cause: str) -> None:
    """Herath 2022: osteoporosis "in premenopausal women and men younger than 50 years" ... "fractures ... occur in
    the setting of chronic disease, medications"; Best Pract Res Clin Rheumatol 2009: "Men and premenopausal women
    with unexplained osteoporosis or a history of fragility fracture should undergo investigation for secondary
    osteoporosis"; ACR 2018 V2 applies with 'no "red flags"'."""
    changes = {"patient": {"age": 19, "pregnant": False}}
    a = assessed(changes, {"cause": cause})
    for profile in INDICATION_PROFILES:
        assert category(a, profile) == "uncertain", profile
        details = _notes(a, profile, "redflag.young_low_energy")
        assert details, profile
        assert "malignancy" in details[0], profile
        assert "age 19" in details[0], profile
    assert "acr.v2_osteoporotic" not in rule_ids(a, ACR)  # V2 is "no red flags" only
    assert "acr.red_flags" in rule_ids(a, ACR)
    assert a.recommendation.treatment.value == "conservative_care"
    assert "secondary_cause_workup" in a.recommendation.also
    assert any(r.id == "redflag.young_low_energy" for r, _ in a.recommendation.why)


@pytest.mark.rule("redflag.young_low_energy")
@pytest.mark.parametrize(("age", "flagged"), [(49, True), (50, False), (74, False)])
def test_the_red_flag_age_is_under_50(age: int, flagged: bool) -> None:
    """Herath 2022: "younger adults (YAs: premenopausal women and men aged <50 years)"."""
    a = assessed({"patient": {"age": age, "pregnant": False}})
    assert ("redflag.young_low_energy" in rule_ids(a, NICE)) is flagged


@pytest.mark.rule("redflag.young_low_energy")
def test_high_energy_trauma_in_a_young_patient_is_not_a_fragility_red_flag() -> None:
    """Hirsch 2018 pathway: "excludes high-velocity trauma" — a different route (surgery), not a secondary-cause
    work-up of a "fragility fracture"."""
    a = assessed({"patient": {"age": 25}}, {"cause": "high_energy_trauma"})
    assert "redflag.young_low_energy" not in rule_ids(a, NICE)
    assert a.recommendation.treatment.value == "surgical_referral"


# --- a new fracture seen only on a radiograph ---------------------------------------------------------------------


@pytest.mark.rule("acr.v1_radiograph_only")
def test_radiograph_only_fracture_is_acr_variant_1_and_mri_comes_first() -> None:
    """ACR 2018 V1: "New symptomatic compression fracture identified on radiographs or CT. No known malignancy":
    augmentation "May Be Appropriate", "MRI spine area of interest without IV contrast Usually Appropriate"."""
    a = assessed(fracture={"mri_edema": None, "imaging_date": None})
    assert category(a, ACR) == "uncertain"
    assert a.profiles[ACR].label == "May be appropriate (ACR rating 4-6)"
    assert a.recommendation.treatment.value == "imaging_first"


@pytest.mark.rule("recommendation.imaging_first")
@pytest.mark.parametrize(
    "pain",
    [{"nrs": 0}, {"nrs": 2, "concordant_with_fracture": False}, {"nrs": 2}],
    ids=["painless", "pain-elsewhere", "mild"],
)
def test_an_incidental_fracture_leads_to_medical_management_not_imaging(pain: dict[str, Any]) -> None:
    """ACR 2022: "Asymptomatic osteoporotic VCF (incidental) → Medical management only: UA (VA not indicated)" —
    no MRI is needed to decide on an augmentation that is not indicated."""
    a = assessed({"pain": pain}, {"mri_edema": None})
    assert a.findings.acuity_pending
    assert a.recommendation.treatment.value == "conservative_care"


# --- NASS: a chronic, healed fracture with pain 6 or less ---------------------------------------------------------


@pytest.mark.rule("nass.osteoporotic_chronic_low_pain")
@pytest.mark.parametrize("onset", [20, None])
def test_nass_chronic_rule_sees_levels_that_imaging_shows_healed(onset: int | None) -> None:
    """NASS osteoporotic AUC: "Scenarios with a chronic fracture with VAS pain scale ≤ 6 were all rated as Rarely
    Appropriate (100% probability)"."""
    a = assessed({"pain": {"nrs": 5}}, {"mri_edema": False, "onset_weeks": onset})
    assert a.findings.targets == ()
    assert category(a, NASS) == "not_appropriate"
    assert a.profiles[NASS].label == "Rarely appropriate (NASS AUC)"
    assert any("L1" in d for d in _notes(a, NASS, "nass.osteoporotic_chronic_low_pain"))


@pytest.mark.rule("nass.osteoporotic_chronic_low_pain")
def test_nass_chronic_rule_does_not_judge_an_unhealed_level_by_a_healed_one() -> None:
    """NASS osteoporotic AUC: "chronic fracture with VAS pain scale ≤ 6" — the acute, unhealed L1 is the candidate;
    an old healed T8 beside it is not the fracture being rated."""
    fractures = [_fracture("L1"), _fracture("T8", mri_edema=False, onset_weeks=60)]
    a = assessed({"fractures": fractures, "pain": {"nrs": 6}})
    assert "nass.osteoporotic_chronic_low_pain" not in rule_ids(a, NASS)


# --- the treatable range of levels ----------------------------------------------------------------------------


@pytest.mark.rule("levels.scope")
@pytest.mark.parametrize(("level", "region"), [("C2", "cervical"), ("C5", "cervical"), ("S1", "sacral")])
def test_cervical_and_sacral_levels_are_referred_not_candidates(level: str, region: str) -> None:
    """LCD L34976 (summary): "acute or subacute osteoporotic VCFs (T1–L5)"; VERTOS II inclusion: "Vertebral
    compression fracture ... at T5 or lower"; eviCore CMM-607: "sacroplasty for sacral insufficiency" is a separate
    procedure."""
    a = assessed({"fractures": [_fracture(level)]})
    assert [f.level for f in a.findings.out_of_scope] == [level]
    assert a.findings.targets == ()
    for profile in INDICATION_PROFILES:
        assert category(a, profile) == "not_appropriate", profile
        details = _notes(a, profile, "levels.scope")
        assert details, profile
        assert f"{level} ({region})" in details[0], profile
        assert "spine surgeon" in details[0], profile
    assert a.profiles[LCD].label == "Does not meet LCD coverage criteria"
    assert a.recommendation.treatment.value == "surgical_referral"
    assert any(r.id == "recommendation.surgical_referral" and level in d for r, d in a.recommendation.why)
    assert a.recommendation.levels == ()


@pytest.mark.rule("levels.scope")
def test_an_out_of_range_level_beside_a_lumbar_one_is_referred_separately() -> None:
    """LCD L34976 (summary): "(T1–L5)" — the lumbar fracture is assessed; the cervical one is recorded and referred."""
    a = assessed({"fractures": [_fracture("L1"), _fracture("C5")]})
    assert a.findings.target_levels == ("L1",)
    assert category(a, LCD) == "appropriate"
    assert a.recommendation.levels == ("L1",)
    assert all("C5" not in s for s in a.recommendation.sessions)
    assert "specialist_referral" in a.recommendation.also


@pytest.mark.rule("levels.scope")
def test_a_clinic_can_narrow_the_range_to_t5_l5() -> None:
    """eviCore CMM-607 (summary): levels "T5–L5"; "Excluded ... cervical/T1–T4 levels"."""
    policy = dataclasses.replace(DEFAULT_POLICY, treatable_levels=("T5", "L5"))
    findings = case_findings(
        Case.model_validate_json(json.dumps({**base_case(), "fractures": [_fracture("T4")]})), policy
    )
    assert [f.level for f in findings.out_of_scope] == ["T4"]
    a = assessed({"fractures": [_fracture("T4")]}, policy=policy)
    assert [f.level for f in a.findings.out_of_scope] == ["T4"]
    assert category(a, NICE) == "not_appropriate"
    b = assessed({"fractures": [_fracture("T4")]})
    assert b.findings.target_levels == ("T4",)


# --- the age of the imaging ---------------------------------------------------------------------------------------


@pytest.mark.rule("acuity.imaging_current")
def test_a_9_month_old_mri_no_longer_shows_the_fracture_unhealed() -> None:
    """eviCore CMM-607 (summary): "documentation of imaging (≤6 months)"; NICE TA279: "recent, unhealed vertebral
    fracture" — oedema seen 9 months ago does not show the fracture unhealed today."""
    old = (AS_OF - dt.timedelta(days=270)).isoformat()
    a = assessed(fracture={"imaging_date": old, "onset_weeks": 40})
    assert [f.level for f in a.findings.stale] == ["L1"]
    assert a.findings.acuity_pending
    for profile in (NICE, LCD):
        assert category(a, profile) == "uncertain", profile
        assert any("MRI" in m or "bone scan" in m for m in a.profiles[profile].missing), profile
    assert any("new MRI needed" in d for d in _notes(a, NICE, "acuity.imaging_current"))
    assert a.recommendation.treatment.value == "imaging_first"


@pytest.mark.rule("acuity.imaging_current")
@pytest.mark.parametrize(("days", "stale"), [(180, False), (181, True)])
def test_the_imaging_limit_is_the_clinic_policy(days: int, stale: bool) -> None:
    """eviCore CMM-607 (summary): imaging "≤6 months" — the default limit is 180 days, configurable."""
    a = assessed(fracture={"imaging_date": (AS_OF - dt.timedelta(days=days)).isoformat()})
    assert bool(a.findings.stale) is stale


@pytest.mark.rule("acuity.imaging_current")
def test_old_imaging_that_shows_a_healed_fracture_still_counts() -> None:
    """NICE TA279: "recent, unhealed vertebral fracture" — a fracture seen healed stays healed; only old evidence
    of an unhealed fracture stops counting."""
    old = (AS_OF - dt.timedelta(days=400)).isoformat()
    a = assessed(fracture={"imaging_date": old, "mri_edema": False, "onset_weeks": 60})
    assert [f.level for f in a.findings.healed] == ["L1"]
    assert category(a, NICE) == "not_appropriate"


# --- a level with no MRI beside an unhealed one -------------------------------------------------------------------


@pytest.mark.rule("levels.targets")
def test_a_level_without_mri_is_listed_with_an_imaging_item() -> None:
    """LCD: "Acute or subacute VCF documented by imaging"; Hirsch: "MRI preferred" — L1 is treated, L2 needs an MRI
    before it can be treated, and the plan says so."""
    a = assessed({"fractures": [_fracture("L1"), _fracture("L2", mri_edema=None)]})
    assert a.findings.target_levels == ("L1",)
    assert [f.level for f in a.findings.awaiting_imaging] == ["L2"]
    for profile in INDICATION_PROFILES:
        assert "MRI needed at L2 before it can be treated" in _notes(a, profile, "levels.targets"), profile
    assert "imaging_of_untreated_levels" in a.recommendation.also
    items = [i.instruction for i in a.preparation.items if i.kind == "imaging"]
    assert "MRI needed at L2 before it can be treated" in items


# --- properties over the case model -------------------------------------------------------------------------------

LEVELS = ("C5", "T3", "T8", "T12", "L1", "L3", "S1")


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a case from the case model's own fields (pain, patient, one or two fractures, care, function)."""
    data = base_case()
    data["patient"].update(
        age=draw(st.integers(min_value=18, max_value=100)),
        hospitalized=draw(st.booleans()),
        pregnant=False,
    )
    data["pain"] = {
        "nrs": draw(st.integers(min_value=0, max_value=10)),
        "trend": draw(st.sampled_from([None, "worsening", "stable", "improving"])),
        "concordant_with_fracture": draw(st.sampled_from([None, True, False])),
    }
    data["function"] = {"rdq": draw(st.one_of(st.none(), st.integers(min_value=0, max_value=24)))}
    data["conservative_care"] = {"optimal": draw(st.sampled_from([None, True, False]))}
    levels = draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=2, unique=True))
    data["fractures"] = [
        _fracture(
            level,
            cause=draw(st.sampled_from(["osteoporotic", "low_energy_trauma", "metastasis", "unknown"])),
            onset_weeks=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=60))),
            mri_edema=draw(st.sampled_from([None, True, False])),
            imaging_date=(AS_OF - dt.timedelta(days=draw(st.integers(min_value=0, max_value=400)))).isoformat(),
            height_loss_percent=draw(st.sampled_from([None, 10.0, 30.0, 50.0])),
            kyphotic_deformity=draw(st.sampled_from([None, True, False])),
        )
        for level in levels
    ]
    return data


def _favourability(data: dict[str, Any]) -> dict[str, int]:
    a = assess(Case.model_validate_json(json.dumps(data)), as_of=AS_OF)
    return {p: FAVOURABILITY[a.profiles[p].category] for p in INDICATION_PROFILES}


@settings(max_examples=200, deadline=None)
@given(data=cases(), more=st.integers(min_value=1, max_value=10))
def test_raising_pain_never_lowers_a_verdict(data: dict[str, Any], more: int) -> None:
    before = _favourability(data)
    data["pain"]["nrs"] = min(10, data["pain"]["nrs"] + more)
    after = _favourability(data)
    for profile in INDICATION_PROFILES:
        assert after[profile] >= before[profile], profile


def _older(data: dict[str, Any], days: int) -> None:
    for fracture in data["fractures"]:
        taken = dt.date.fromisoformat(fracture["imaging_date"])
        fracture["imaging_date"] = (taken - dt.timedelta(days=days)).isoformat()


@settings(max_examples=200, deadline=None)
@given(data=cases(), older=st.integers(min_value=1, max_value=400))
def test_older_imaging_never_makes_a_verdict_more_favourable(data: dict[str, Any], older: int) -> None:
    data["fractures"] = data["fractures"][:1]
    before = _favourability(data)
    _older(data, older)
    after = _favourability(data)
    for profile in INDICATION_PROFILES:
        assert after[profile] <= before[profile], profile


def _osteoporotic_t3_beside_metastatic_t8() -> dict[str, Any]:
    """The case hypothesis found (CI, 2026-12-05): an osteoporotic T3 imaged 181 days before AS_OF with 10 % loss
    beside a metastatic T8 imaged on AS_OF whose height loss is not recorded."""
    data = base_case()
    t3 = {**data["fractures"][0], "level": "T3", "onset_weeks": None, "height_loss_percent": 10.0}
    t3["imaging_date"] = (AS_OF - dt.timedelta(days=181)).isoformat()
    t8 = {**t3, "level": "T8", "cause": "metastasis", "height_loss_percent": None, "imaging_date": AS_OF.isoformat()}
    data["fractures"] = [t3, t8]
    data["patient"].update(age=50, pregnant=False)
    return data


@settings(max_examples=200, deadline=None)
@given(data=cases(), older=st.integers(min_value=1, max_value=400))
@example(data=_osteoporotic_t3_beside_metastatic_t8(), older=181)
def test_older_imaging_never_makes_a_case_a_candidate(data: dict[str, Any], older: int) -> None:
    """With several levels, aged imaging turns unhealed levels into levels awaiting MRI, so the levels judged
    change; whatever the levels, a profile that did not call the case appropriate never does so afterwards."""
    before = _favourability(data)
    _older(data, older)
    after = _favourability(data)
    top = FAVOURABILITY[Category.APPROPRIATE]
    for profile in INDICATION_PROFILES:
        assert after[profile] < top or before[profile] == top, profile


@settings(max_examples=200, deadline=None)
@given(data=cases())
def test_an_out_of_range_level_is_never_planned(data: dict[str, Any]) -> None:
    a = assess(Case.model_validate_json(json.dumps(data)), as_of=AS_OF)
    outside = {f.level for f in a.findings.out_of_scope}
    assert outside == {f["level"] for f in data["fractures"]} & {"C5", "S1"}
    assert not outside & set(a.recommendation.levels)
    if not (a.findings.targets or a.findings.healed):
        for profile in INDICATION_PROFILES:
            assert a.profiles[profile].category.value in ("not_appropriate", "contraindicated"), profile
    assert all(r.effect is not Effect.SUPPORTS or r.rule.id != "levels.scope" for r in a.profiles[ACR].reasons)


@pytest.mark.rule("acuity.imaging_current")
def test_when_every_levels_imaging_is_too_old_no_profile_calls_the_case_appropriate() -> None:
    """ACR-ASNR-ASSR-SIR-SNIS: an acute or subacute fracture "confirmed by MRI (oedema)"; the clinic's policy
    counts MRI older than its limit as no longer showing it. When every level's MRI is too old, a current MRI
    is missing and what the old one showed (walls, stability) cannot make a profile favourable (hazard H121)."""
    data = _osteoporotic_t3_beside_metastatic_t8()
    for fracture in data["fractures"]:
        fracture["imaging_date"] = (AS_OF - dt.timedelta(days=DEFAULT_POLICY.imaging_max_age_days + 1)).isoformat()
        fracture["height_loss_percent"] = 10.0
    a = assess(Case.model_validate_json(json.dumps(data)), as_of=AS_OF)
    for profile in INDICATION_PROFILES:
        verdict = a.profiles[profile]
        assert verdict.category is not Category.APPROPRIATE, profile
        assert "current MRI at T3, T8" in verdict.missing, profile
