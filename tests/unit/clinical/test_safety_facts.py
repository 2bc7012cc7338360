"""Unknown is a value: a safety fact that is not recorded is missing, never "no".

The property tests generate cases from the case model itself (every field drawn by hypothesis), not from
the product's own synthetic generator, so a gap in that generator cannot hide a gap in the rules.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import AS_OF, assessed, base_case, category, make_case
from vertebro.clinical import Case, assess
from vertebro.clinical.assessment import Assessment
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.preparation import could_be_pregnant
from vertebro.clinical.profiles import INDICATION_PROFILES
from vertebro.clinical.recommendation import AUGMENTATION, Treatment
from vertebro.clinical.safety_facts import unrecorded
from vertebro.clinical.verdicts import FAVOURABILITY, Category
from vertebro.pathway.checklist import Confirmations, missing_items

RECORD_FIRST = "recommendation.record_safety_facts"

SIMPLE_FACTS: dict[str, dict[str, Any]] = {
    "red_flags.fever": {"red_flags": {"fever": None}},
    "red_flags.active_infection": {"red_flags": {"active_infection": None}},
    "red_flags.cancer_history": {"red_flags": {"cancer_history": None}},
    "neurological_deficit": {"neurological_deficit": None},
    "coagulopathy_uncorrectable": {"coagulopathy_uncorrectable": None},
    "patient.hospitalized": {"patient": {"hospitalized": None}},
    "allergies": {"allergies": None},
    "medications": {"medications": None},
}


def _paths(a: Assessment) -> set[str]:
    return {g.path for g in a.unrecorded}


def test_the_complete_base_case_records_every_safety_fact() -> None:
    """The builders' complete case records each safety fact explicitly, so tests start from a known case."""
    a = assessed()
    assert a.unrecorded == ()
    assert category(a, "acr") == "appropriate"


@pytest.mark.rule("general.safety_facts_recorded")
@pytest.mark.rule("recommendation.record_safety_facts")
@pytest.mark.parametrize("path", sorted(SIMPLE_FACTS))
def test_a_safety_fact_not_recorded_is_missing_caps_every_profile_and_stops_augmentation(path: str) -> None:
    """CMS LCD: "Absolute: ... active infection"; ACR 2018 variant 3: "contraindication to VA (pregnancy,
    infection, coagulation disorder)": a fact that can contraindicate augmentation must be recorded, because
    "not recorded" is not "absent". Until it is, every profile is at best uncertain, it is listed as missing,
    and the next step is to record it."""
    a = assessed(SIMPLE_FACTS[path])
    assert path in _paths(a)
    label = next(g.label for g in a.unrecorded if g.path == path)
    for profile in INDICATION_PROFILES:
        assert FAVOURABILITY[a.profiles[profile].category] <= FAVOURABILITY[Category.UNCERTAIN], profile
        assert label in a.profiles[profile].missing, profile
    assert a.recommendation.treatment is Treatment.RECORD_SAFETY_FACTS
    assert a.recommendation.treatment not in AUGMENTATION
    assert any(r.id == RECORD_FIRST and label in detail for r, detail in a.recommendation.why)


@pytest.mark.rule("general.safety_facts_recorded")
def test_booking_is_refused_naming_the_missing_fact() -> None:
    """A case is not booked while a safety fact is not recorded; the refusal names it."""
    case = make_case({"red_flags": {"fever": None}, "medications": None})
    a = assess(case, DEFAULT_POLICY, AS_OF)
    items = missing_items(case, a, Confirmations())
    refusal = next(i for i in items if i.startswith("safety facts not recorded"))
    assert "fever" in refusal
    assert "medication list" in refusal


@pytest.mark.rule("general.safety_facts_recorded")
def test_the_bleeding_profile_needs_the_medication_list_and_coagulopathy_only() -> None:
    """ASRA 2018 judges the antithrombotic plan: an unreviewed medication list is missing there; pregnancy is not
    its question (the indication profiles and the checklist hold the case)."""
    a = assessed({"medications": None})
    assert a.profiles["asra-2018"].category is Category.UNCERTAIN
    assert any("medication list" in m for m in a.profiles["asra-2018"].missing)
    b = assessed({"red_flags": {"fever": None}})
    assert b.profiles["asra-2018"].category is Category.APPROPRIATE


@pytest.mark.rule("general.safety_facts_recorded")
def test_an_empty_list_means_reviewed_none_and_absent_means_not_reviewed() -> None:
    """An empty medication or allergy list is a review with nothing found; a missing one was never reviewed."""
    assert "medications" not in _paths(assessed({"medications": []}))
    assert "allergies" not in _paths(assessed({"allergies": []}))
    data = base_case()
    del data["medications"], data["allergies"]
    case = Case.model_validate_json(json.dumps(data))
    assert {"medications", "allergies"} <= {g.path for g in unrecorded(case, DEFAULT_POLICY)}


@pytest.mark.rule("general.pregnancy_status_recorded")
@pytest.mark.parametrize(
    ("sex", "age", "override", "needed"),
    [
        ("female", 34, None, True),
        ("female", 12, None, True),
        ("female", 50, None, True),
        ("female", 51, None, False),
        ("female", 74, None, False),
        ("male", 34, None, False),
        ("other", 30, True, True),
        ("female", 30, False, False),
    ],
)
def test_pregnancy_status_is_needed_only_where_a_pregnancy_test_is(
    sex: str, age: int, override: bool | None, needed: bool
) -> None:
    """ACR-SPR practice parameter: "pregnancy test for people of child-bearing potential before fluoroscopy"
    (about 12-50 years); ACR 2018 V3 lists "pregnancy" as a contraindication to VA. A man, or a woman outside that age, needs no
    recorded pregnancy status; a recorded could-be-pregnant overrides the age/sex screen."""
    a = assessed({"patient": {"sex": sex, "age": age, "pregnant": None, "could_be_pregnant": override}})
    assert ("patient.pregnant" in _paths(a)) is needed
    if needed:
        assert category(a, "acr") != "appropriate"
        assert "pregnancy status (yes or no)" in a.profiles["nice-ta279"].missing
    else:  # the unrecorded status changes nothing: the same verdicts as with "not pregnant" recorded
        recorded = assessed({"patient": {"sex": sex, "age": age, "pregnant": False, "could_be_pregnant": override}})
        assert {p: v.category for p, v in a.profiles.items()} == {p: v.category for p, v in recorded.profiles.items()}


@pytest.mark.rule("general.safety_facts_recorded")
def test_an_unimaged_level_is_listed_per_level() -> None:
    """LCD: "acute or subacute fracture documented by imaging" - for each level, MRI oedema or bone-scan uptake."""
    two = [{**base_case()["fractures"][0], "level": lv} for lv in ("T12", "L1")]
    two[0]["mri_edema"] = None
    a = assessed({"fractures": two})
    assert "fractures.T12.imaging" in _paths(a)
    assert "fractures.L1.imaging" not in _paths(a)


# --- properties over the case model --------------------------------------------------------------------------

_LEVELS = [f"T{n}" for n in range(5, 13)] + [f"L{n}" for n in range(1, 6)]
_MAYBE = st.none() | st.booleans()


@st.composite
def complete_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A case drawn field by field from the case model, with every safety fact recorded yes or no."""
    sex = draw(st.sampled_from(["female", "male", "other"]))
    age = draw(st.integers(min_value=18, max_value=100))
    pregnant = draw(st.booleans()) if sex == "female" else False
    levels = draw(st.lists(st.sampled_from(_LEVELS), min_size=1, max_size=3, unique=True))
    cause = draw(st.sampled_from(["osteoporotic", "low_energy_trauma", "myeloma", "metastasis", "unknown"]))
    fractures = [
        {
            "level": level,
            "cause": cause,
            "onset_weeks": draw(st.none() | st.floats(min_value=0, max_value=80)),
            "mri_edema": draw(st.booleans()),
            "bone_scan_uptake": draw(_MAYBE),
            "height_loss_percent": draw(st.none() | st.floats(min_value=0, max_value=70)),
            "kyphotic_deformity": draw(_MAYBE),
            "retropulsion": draw(_MAYBE),
            "canal_compromise": draw(_MAYBE),
            "posterior_wall_intact": draw(_MAYBE),
            "unstable": draw(_MAYBE),
        }
        for level in levels
    ]
    allergies = draw(st.lists(st.sampled_from(["latex", "penicillin", "acrylic", "X-ray dye", "NKDA"]), max_size=2))
    medications = draw(
        st.lists(st.sampled_from(["paracetamol", "aspirin", "apixaban", "warfarin"]), max_size=2, unique=True)
    )
    return {
        "patient": {
            "age": age,
            "sex": sex,
            "pregnant": pregnant,
            "hospitalized": draw(st.booleans()),
        },
        "fractures": fractures,
        "pain": {
            "nrs": draw(st.integers(min_value=0, max_value=10)),
            "trend": draw(st.none() | st.sampled_from(["worsening", "stable", "improving"])),
            "concordant_with_fracture": draw(_MAYBE),
        },
        "function": {"rdq": draw(st.none() | st.integers(min_value=0, max_value=24))},
        "conservative_care": {"weeks": 6.0, "optimal": draw(_MAYBE)},
        "red_flags": {
            "fever": draw(st.booleans()),
            "active_infection": draw(st.booleans()),
            "cancer_history": draw(st.booleans()),
        },
        "neurological_deficit": draw(st.booleans()),
        "pulmonary_dysfunction": draw(_MAYBE),
        "labs": {"inr": draw(st.floats(min_value=0.8, max_value=3.0)), "platelets": 200.0},
        "coagulopathy_uncorrectable": draw(st.booleans()),
        "allergies": allergies,
        "medications": [{"name": m, "purpose": "therapeutic"} for m in medications],
        "sedation_planned": draw(_MAYBE),
        "procedure_date": draw(st.none() | st.just((AS_OF + dt.timedelta(days=21)).isoformat())),
        "bone_health": {"bmd_referral_documented": draw(_MAYBE)},
    }


Setter = Callable[[dict[str, Any], Any], None]


def _set(*path: str) -> Setter:
    def put(data: dict[str, Any], value: Any) -> None:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return put


def _acuity(index: int) -> Setter:
    def put(data: dict[str, Any], value: Any) -> None:
        """None: not imaged; True: unhealed on MRI; False: healed (no oedema, no uptake, no cleft)."""
        fracture = data["fractures"][index % len(data["fractures"])]
        fracture["mri_edema"] = value
        fracture["bone_scan_uptake"] = None if value is None else (None if value else False)
        fracture["intravertebral_cleft"] = None if value is None else (None if value else False)

    return put


# name, setter, recorded values to compare with (None = keep the case's own value)
FACTS: list[tuple[str, Setter, list[Any]]] = [
    ("patient.pregnant", _set("patient", "pregnant"), [True, False]),
    ("patient.hospitalized", _set("patient", "hospitalized"), [True, False]),
    ("red_flags.fever", _set("red_flags", "fever"), [True, False]),
    ("red_flags.active_infection", _set("red_flags", "active_infection"), [True, False]),
    ("red_flags.cancer_history", _set("red_flags", "cancer_history"), [True, False]),
    ("neurological_deficit", _set("neurological_deficit"), [True, False]),
    ("coagulopathy_uncorrectable", _set("coagulopathy_uncorrectable"), [True, False]),
    ("allergies", _set("allergies"), [[], ["latex"], ["acrylic"], ["X-ray dye"]]),
    ("medications", _set("medications"), [[], [{"name": "apixaban", "purpose": "therapeutic"}]]),
    ("fractures.0.imaging", _acuity(0), [True, False]),
    ("fractures.1.imaging", _acuity(1), [True, False]),
]


def _assess(data: dict[str, Any]) -> Assessment | None:
    try:
        case = Case.model_validate_json(json.dumps(data))
    except ValueError:
        return None  # e.g. a pregnant man: not a case
    return assess(case, DEFAULT_POLICY, AS_OF)


@pytest.mark.rule("general.safety_facts_recorded")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=complete_cases(), fact=st.sampled_from(FACTS))
def test_not_recorded_is_never_more_favourable_and_always_missing(
    data: dict[str, Any], fact: tuple[str, Setter, list[Any]]
) -> None:
    """Property over the case model: for any complete case and any safety fact, making that fact "not
    recorded" never rates augmentation better than any recorded answer would, never better than uncertain,
    always lists the fact as missing (every indication profile, and the checklist that guards booking), and the
    recommendation is never an augmentation."""
    name, put, values = fact
    unknown = copy.deepcopy(data)
    put(unknown, None)
    gap = _assess(unknown)
    assert gap is not None
    recorded = []
    for value in values:
        known = copy.deepcopy(data)
        put(known, value)
        result = _assess(known)
        if result is not None:
            recorded.append(result)
    assert recorded
    case = Case.model_validate_json(json.dumps(unknown))
    required = name != "patient.pregnant" or could_be_pregnant(case, DEFAULT_POLICY)
    paths = _paths(gap)
    if name.startswith("fractures."):
        level = unknown["fractures"][int(name.split(".")[1]) % len(unknown["fractures"])]["level"]
        name = f"fractures.{level}.imaging"
    assert (name in paths) is required
    for profile in INDICATION_PROFILES:
        best = max(FAVOURABILITY[r.profiles[profile].category] for r in recorded)
        got = FAVOURABILITY[gap.profiles[profile].category]
        assert got <= best, (profile, name)
        if required:
            assert got <= FAVOURABILITY[Category.UNCERTAIN], (profile, name)
            label = next(g.label for g in gap.unrecorded if g.path == name)
            assert label in gap.profiles[profile].missing, (profile, name)
    if required:
        assert gap.recommendation.treatment not in AUGMENTATION
        assert any(i.startswith("safety facts not recorded") for i in missing_items(case, gap, Confirmations()))


@pytest.mark.rule("acr.v2_osteoporotic")
def test_acr_does_not_claim_no_red_flags_while_one_is_not_recorded() -> None:
    """ACR 2018 variant 2 applies "without red flags": a red flag not recorded is not an absent red flag."""
    a = assessed({"red_flags": {"fever": None}})
    v2 = [r for r in a.profiles["acr"].reasons if r.rule.id == "acr.v2_osteoporotic"]
    assert [r.detail for r in v2] == ["osteoporotic (fragility) fracture; red flags not all recorded"]
    assert all(r.effect.value == "note" for r in v2)
