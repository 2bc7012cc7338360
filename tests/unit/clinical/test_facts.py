"""The facts of a case are strict: wrong types, unknown fields and impossible values are rejected."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.clinical.builders import PROCEDURE_DATE, base_case, case_data, make_case
from vertebro.clinical import Case
from vertebro.clinical.facts import OLDEST_AGE, Patient, age_on, birth_date_in_range


def _errors(changes: dict[str, Any] | None = None, fracture: dict[str, Any] | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        make_case(changes, fracture)
    return caught.value


def test_the_base_case_is_valid() -> None:
    case = make_case()
    assert case.pain.nrs == 8
    assert case.procedure_date == PROCEDURE_DATE
    assert case.fractures[0].level == "L1"


@pytest.mark.parametrize("value", [False, True])
def test_a_boolean_is_not_a_pain_score(value: bool) -> None:
    error = _errors({"pain": {"nrs": value}})
    assert [e["loc"] for e in error.errors()] == [("pain", "nrs")]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"pain": {"nrs": "7"}}, ("pain", "nrs")),
        ({"patient": {"age": "74"}}, ("patient", "age")),
        ({"function": {"rdq": "19"}}, ("function", "rdq")),
        ({"labs": {"inr": "1.1"}}, ("labs", "inr")),
        ({"room_temperature_c": "21"}, ("room_temperature_c",)),
    ],
)
def test_a_string_is_not_a_number(changes: dict[str, Any], loc: tuple[str, ...]) -> None:
    error = _errors(changes)
    assert [e["loc"] for e in error.errors()] == [loc]


def test_a_string_is_not_a_percentage() -> None:
    error = _errors(fracture={"height_loss_percent": "30"})
    assert [e["loc"] for e in error.errors()] == [("fractures", 0, "height_loss_percent")]


def test_a_fractional_age_is_not_an_integer() -> None:
    error = _errors({"patient": {"age": 74.5}})
    assert [e["loc"] for e in error.errors()] == [("patient", "age")]


def test_a_number_is_not_a_flag() -> None:
    error = _errors({"neurological_deficit": 0})
    assert [e["loc"] for e in error.errors()] == [("neurological_deficit",)]


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"sedaton_planned": True}, ("sedaton_planned",)),
        ({"pain": {"severity": "high"}}, ("pain", "severity")),
        ({"patient": {"weight_kg": 60}}, ("patient", "weight_kg")),
        ({"labs": {"hb": 120}}, ("labs", "hb")),
    ],
)
def test_unknown_fields_are_rejected(changes: dict[str, Any], loc: tuple[str, ...]) -> None:
    error = _errors(changes)
    assert [(e["loc"], e["type"]) for e in error.errors()] == [(loc, "extra_forbidden")]


def test_an_unknown_fracture_field_is_rejected() -> None:
    error = _errors(fracture={"oedema": True})
    assert [(e["loc"], e["type"]) for e in error.errors()] == [(("fractures", 0, "oedema"), "extra_forbidden")]


@pytest.mark.parametrize(
    ("level", "words"),
    [
        ("L6", "'L6' does not exist: the lumbar spine has 5 vertebrae"),
        ("C8", "'C8' does not exist: the cervical spine has 7 vertebrae"),
        ("S6", "'S6' does not exist: the sacral spine has 5 vertebrae"),
        ("X1", "'X1' is not a vertebral level; write it like 'T12' or 'L1'"),
        ("T13", "'T13' is not a vertebral level"),
        ("l1", "'l1' is not a vertebral level"),
        ("L0", "'L0' is not a vertebral level"),
        ("", "'' is not a vertebral level"),
    ],
)
def test_impossible_levels_are_rejected_with_a_clear_message(level: str, words: str) -> None:
    error = _errors(fracture={"level": level})
    [only] = error.errors()
    assert only["loc"] == ("fractures", 0, "level")
    assert words in only["msg"]


@pytest.mark.parametrize("level", ["C1", "C7", "T1", "T12", "L5", "S1"])
def test_real_levels_are_accepted(level: str) -> None:
    assert make_case(fracture={"level": level}).fractures[0].level == level


def test_a_level_listed_twice_is_rejected() -> None:
    data = case_data()
    data["fractures"].append(dict(data["fractures"][0]))
    with pytest.raises(ValidationError, match="level L1 is listed twice"):
        Case.model_validate_json(json.dumps(data))


def test_two_different_levels_are_accepted() -> None:
    data = case_data()
    data["fractures"].append(dict(data["fractures"][0], level="T12"))
    case = Case.model_validate_json(json.dumps(data))
    assert [f.level for f in case.fractures_in_spinal_order()] == ["T12", "L1"]


def test_reference_heights_without_the_fractured_vertebras_heights_are_rejected() -> None:
    error = _errors(fracture={"reference_heights_mm": {"above": {"anterior": 30, "middle": 30, "posterior": 30}}})
    [only] = error.errors()
    assert only["loc"] == ("fractures", 0)
    assert "reference_heights_mm: give heights_mm of the fractured vertebra as well" in only["msg"]


def test_reference_heights_with_the_fractured_vertebras_heights_are_accepted() -> None:
    case = make_case(
        fracture={
            "heights_mm": {"anterior": 20, "middle": 26, "posterior": 28},
            "reference_heights_mm": {"below": {"anterior": 30, "middle": 30, "posterior": 30}},
        }
    )
    ref = case.fractures[0].reference_heights_mm
    assert ref is not None
    assert ref.above is None
    assert ref.below is not None


def test_an_unknown_cement_product_is_rejected() -> None:
    error = _errors({"cement_product": "Kyphon HV-R"})
    [only] = error.errors()
    assert only["loc"] == ("cement_product",)
    assert "unknown cement product 'Kyphon HV-R'" in only["msg"]
    assert "reference-vp-pmma" in only["msg"]


def test_the_known_cement_product_is_accepted() -> None:
    assert make_case({"cement_product": "reference-vp-pmma"}).cement_product == "reference-vp-pmma"


def test_a_pregnant_man_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"patient\.pregnant: true is inconsistent with patient\.sex 'male'"):
        make_case({"patient": {"sex": "male", "pregnant": True}})


@pytest.mark.parametrize(("sex", "pregnant"), [("female", True), ("male", False), ("other", True)])
def test_consistent_pregnancy_facts_are_accepted(sex: str, pregnant: bool) -> None:
    case = make_case({"patient": {"sex": sex, "pregnant": pregnant}})
    assert case.patient.pregnant is pregnant


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"pain": {"nrs": 11}}, ("pain", "nrs")),
        ({"pain": {"nrs": -1}}, ("pain", "nrs")),
        ({"function": {"rdq": 25}}, ("function", "rdq")),
        ({"function": {"odi_percent": 100.5}}, ("function", "odi_percent")),
        ({"patient": {"age": 121}}, ("patient", "age")),
        ({"patient": {"sex": "f"}}, ("patient", "sex")),
        ({"room_temperature_c": 14.9}, ("room_temperature_c",)),
        ({"room_temperature_c": 30.1}, ("room_temperature_c",)),
        ({"labs": {"inr": 0}}, ("labs", "inr")),
        ({"medications": [{"name": "aspirin", "purpose": "headache"}]}, ("medications", 0, "purpose")),
        ({"medications": [{"name": "heparin", "route": "im"}]}, ("medications", 0, "route")),
        ({"medications": [{"name": ""}]}, ("medications", 0, "name")),
        ({"fractures": []}, ("fractures",)),
    ],
)
def test_values_outside_their_range_are_rejected(changes: dict[str, Any], loc: tuple[Any, ...]) -> None:
    error = _errors(changes)
    assert [e["loc"] for e in error.errors()] == [loc]


def test_a_height_loss_of_100_percent_is_rejected() -> None:
    error = _errors(fracture={"height_loss_percent": 100.0})
    assert [e["loc"] for e in error.errors()] == [("fractures", 0, "height_loss_percent")]


def test_an_unknown_cause_value_is_rejected() -> None:
    error = _errors(fracture={"cause": "osteoporosis"})
    assert [e["loc"] for e in error.errors()] == [("fractures", 0, "cause")]


def test_absent_facts_mean_not_recorded() -> None:
    data = base_case()
    for key in ("labs", "medications", "allergies", "sedation_planned", "procedure_date", "bone_health"):
        del data[key]
    case = Case.model_validate_json(json.dumps(data))
    assert case.labs.inr is None
    assert case.medications is None  # not reviewed; [] would mean "reviewed: takes none"
    assert case.allergies is None
    assert case.sedation_planned is None
    assert case.procedure_date is None
    assert case.bone_health.bmd_referral_documented is None


def test_a_case_is_immutable() -> None:
    case = make_case()
    with pytest.raises(ValidationError, match="frozen"):
        case.pain.nrs = 2  # type: ignore[misc]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2000, 12, 31)), st.integers(0, 120))
def test_the_age_is_one_more_from_each_birthday(born: dt.date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # born on 29 February, and that year has none: the birthday is 1 March
        birthday = dt.date(born.year + years, 3, 1)
    assert age_on(born, birthday) == years
    assert age_on(born, birthday - dt.timedelta(days=1)) == years - 1


def test_someone_born_on_29_february_is_a_year_older_on_1_march_in_other_years() -> None:
    born = dt.date(1948, 2, 29)
    assert (age_on(born, dt.date(2026, 2, 28)), age_on(born, dt.date(2026, 3, 1))) == (77, 78)
    assert age_on(born, dt.date(2028, 2, 29)) == 80


@given(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2100, 12, 31)), st.dates())
def test_a_birth_date_is_taken_exactly_when_its_age_is_one_the_rules_take(born: dt.date, day: dt.date) -> None:
    """Patient.age: ``Field(ge=0, le=120)``; a form takes a date of birth only when the rules take its age."""
    taken = birth_date_in_range(born, day)
    assert taken == (born <= day and 0 <= age_on(born, day) <= OLDEST_AGE)
    if taken:
        Patient.model_validate({"age": age_on(born, day), "sex": "female"})  # the age derived from it is accepted


def test_the_last_day_before_the_121st_birthday_is_taken_and_the_birthday_is_not() -> None:
    day = dt.date(2026, 12, 6)
    assert birth_date_in_range(dt.date(1905, 12, 7), day)  # 120 years and 364 days old
    assert not birth_date_in_range(dt.date(1905, 12, 6), day)  # 121 today
    assert birth_date_in_range(day, day)  # born today
    assert not birth_date_in_range(day + dt.timedelta(days=1), day)  # not born yet
