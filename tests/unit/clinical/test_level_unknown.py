"""A fracture level the patient does not know stays unknown: listed as missing, never guessed (decision 0036)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tests.unit.clinical.builders import AS_OF, base_case
from vertebro.clinical import Case, assess
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.profiles import INDICATION_PROFILES
from vertebro.clinical.recommendation import AUGMENTATION, Treatment
from vertebro.clinical.verdicts import FAVOURABILITY, Category
from vertebro.pathway.checklist import Confirmations, missing_items

LABEL = "fractured level (from the imaging report; the patient did not know it)"


def _without_level(**changes: object) -> Case:
    data = base_case()
    data["fractures"] = []
    data.update(changes)
    return Case.model_validate_json(json.dumps(data))


def test_a_case_without_a_level_is_refused_unless_the_level_is_marked_unknown() -> None:
    with pytest.raises(ValidationError) as error:
        _without_level()
    assert [e["loc"] for e in error.value.errors()] == [("fractures",)]
    assert "at least 1 item" in str(error.value)
    assert _without_level(level_unknown=True).fractures == []


@pytest.mark.rule("general.fracture_level_recorded")
def test_an_unknown_level_is_missing_caps_every_profile_and_stops_preparation() -> None:
    """Local policy (decision 0036): "The fractured level is taken from the imaging report, never guessed": a
    case whose level is not known lists it as missing, is at best uncertain in every profile, and is neither
    prepared nor booked until staff record the level."""
    case = _without_level(level_unknown=True)
    a = assess(case, DEFAULT_POLICY, AS_OF)
    assert [g.path for g in a.unrecorded][:1] == ["fractures"]
    for profile in INDICATION_PROFILES:
        assert FAVOURABILITY[a.profiles[profile].category] <= FAVOURABILITY[Category.UNCERTAIN], profile
        assert LABEL in a.profiles[profile].missing, profile
    assert a.recommendation.treatment is Treatment.RECORD_SAFETY_FACTS
    assert a.recommendation.treatment not in AUGMENTATION
    assert a.recommendation.levels == ()
    missing = " ".join(missing_items(case, a, Confirmations()))
    assert "fractured level" in missing


@pytest.mark.rule("general.fracture_level_recorded")
def test_once_the_level_is_recorded_it_is_no_longer_missing() -> None:
    """Local policy: "while it is not known ... it is listed as missing"; once recorded, it is not."""
    data = base_case()
    data["level_unknown"] = True
    a = assess(Case.model_validate_json(json.dumps(data)), DEFAULT_POLICY, AS_OF)
    assert "fractures" not in [g.path for g in a.unrecorded]
