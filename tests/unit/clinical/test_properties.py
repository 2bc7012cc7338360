"""Property tests over synthetic cases: safety properties that must hold for every case."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import AS_OF
from vertebro.clinical import Case, assess
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.verdicts import FAVOURABILITY
from vertebro.synthetic import case_data

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _case(data: dict[str, Any]) -> Case:
    return Case.model_validate_json(json.dumps(data))


def _add_infection(d: dict[str, Any]) -> None:
    d["red_flags"]["active_infection"] = True


def _add_pregnancy(d: dict[str, Any]) -> None:
    d["patient"].update(sex="female", age=34, pregnant=True)


def _add_coagulopathy(d: dict[str, Any]) -> None:
    d["coagulopathy_uncorrectable"] = True


def _add_cement_allergy(d: dict[str, Any]) -> None:
    d["allergies"] = [*d["allergies"], "bone cement (PMMA)"]


def _add_contrast_allergy(d: dict[str, Any]) -> None:
    d["allergies"] = [*d["allergies"], "iodinated contrast"]


def _add_neuro(d: dict[str, Any]) -> None:
    d["neurological_deficit"] = True


def _add_to_fractures(key: str, value: bool) -> Any:
    def add(d: dict[str, Any]) -> None:
        for f in d["fractures"]:
            f[key] = value

    return add


def _add_pain_elsewhere(d: dict[str, Any]) -> None:
    d["pain"]["concordant_with_fracture"] = False


def _add_improving(d: dict[str, Any]) -> None:
    d["pain"]["trend"] = "improving"


CONTRAINDICATIONS = [
    _add_infection,
    _add_pregnancy,
    _add_coagulopathy,
    _add_cement_allergy,
    _add_contrast_allergy,
    _add_neuro,
    _add_to_fractures("retropulsion", True),
    _add_to_fractures("canal_compromise", True),
    _add_to_fractures("unstable", True),
    _add_to_fractures("posterior_wall_intact", False),
    _add_pain_elsewhere,
    _add_improving,
]


@settings(max_examples=300, deadline=None)
@given(seed=seeds, which=st.sampled_from(CONTRAINDICATIONS))
def test_adding_a_contraindication_never_makes_a_verdict_more_favourable(seed: int, which: Any) -> None:
    data = case_data(random.Random(seed), AS_OF)
    before = assess(_case(data), as_of=AS_OF)
    worse = copy.deepcopy(data)
    which(worse)
    after = assess(_case(worse), as_of=AS_OF)
    for profile, verdict in before.profiles.items():
        assert FAVOURABILITY[after.profiles[profile].category] <= FAVOURABILITY[verdict.category], profile


@settings(max_examples=300, deadline=None)
@given(seed=seeds)
def test_holds_never_end_after_the_procedure_date(seed: int) -> None:
    data = case_data(random.Random(seed), AS_OF)
    assessment = assess(_case(data), as_of=AS_OF)
    start = assessment.preparation.procedure_start
    for hold in assessment.preparation.medication_holds:
        if hold.action in (HoldAction.CHECK, HoldAction.CONTINUE) or start is None:
            continue
        if hold.outstanding:  # a decision or a fact still to record: never a date
            assert (hold.last_dose_on, hold.last_dose_by, hold.restart_from) == (None, None, None)
            continue
        if hold.last_dose_on is not None:
            assert hold.last_dose_on < start.date()
        if hold.last_dose_by is not None:
            assert hold.last_dose_by < start
        assert hold.hold_complete_by is not None
        assert hold.hold_complete_by <= start
        assert hold.restart_from is not None
        assert hold.restart_from > start


@settings(max_examples=200, deadline=None)
@given(seed=seeds)
def test_every_reason_cites_a_rule_and_every_verdict_is_labelled(seed: int) -> None:
    assessment = assess(_case(case_data(random.Random(seed), AS_OF)), as_of=AS_OF)
    for verdict in assessment.profiles.values():
        assert verdict.label
        for reason in verdict.reasons:
            assert reason.rule.sources
    assert all(len(s) <= 3 for s in assessment.recommendation.sessions)


def test_assessment_is_deterministic() -> None:
    data = case_data(random.Random(7), AS_OF)
    one = assess(_case(data), as_of=AS_OF)
    two = assess(_case(data), as_of=AS_OF)
    assert one == two
    assert one.as_of == AS_OF
    assert isinstance(one.as_of, dt.date)
