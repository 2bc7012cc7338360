"""The portal questionnaires as forms: plain-word problems per field, and what the answers mean for the case."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from vertebro.intake.answers import check_follow_up, check_intake, intake_patch, raw_form
from vertebro.intake.questionnaires import DEMO_DIR, FunctionQuestionnaires, load_questionnaires

TODAY = dt.date(2026, 11, 22)
NONE = FunctionQuestionnaires(None, None)
FACTS = {"fractures": [{"level": "L1", "cause": "unknown"}], "medications": [{"name": "Warfarin"}], "allergies": []}


def _complete(**changes: str | list[str]) -> dict[str, str | list[str]]:
    raw: dict[str, str | list[str]] = {
        "pain_now": "7",
        "pain_course": "worsening",
        "blood_thinners_none": "none",
        "allergy_cement": "no",
        "allergy_contrast": "no",
        "allergy_latex": "no",
    }
    raw.update(changes)
    return raw


def test_a_complete_intake_has_no_problems() -> None:
    assert check_intake(_complete(), NONE, today=TODAY, sending=True).ok


def test_sending_needs_the_questions_the_plan_depends_on() -> None:
    checked = check_intake({"pain_now": "5"}, NONE, today=TODAY, sending=True)
    assert set(checked.errors) == {
        "pain_course",
        "blood_thinners_none",
        "allergy_cement",
        "allergy_contrast",
        "allergy_latex",
    }
    assert check_intake({"pain_now": "5"}, NONE, today=TODAY, sending=False).ok


def test_problems_are_in_plain_words() -> None:
    checked = check_intake(
        _complete(pain_now="11", tried_weeks="six", pain_started="2027-01-01"), NONE, today=TODAY, sending=True
    )
    assert checked.errors["pain_now"] == "your pain must be from 0 to 10; you wrote 11"
    assert "whole number" in checked.errors["tried_weeks"]
    assert "in the future" in checked.errors["pain_started"]


def test_a_blood_thinner_ticked_and_none_declared_is_questioned() -> None:
    checked = check_intake(_complete(blood_thinners=["apixaban"]), NONE, today=TODAY, sending=True)
    assert "also said you take none" in checked.errors["blood_thinners_none"]


def test_aspirin_needs_its_reason_because_it_decides_the_hold() -> None:
    raw = _complete(blood_thinners_none="some", blood_thinners=["aspirin"])
    assert "why you take aspirin" in check_intake(raw, NONE, today=TODAY, sending=True).errors["aspirin_why"]
    raw["aspirin_why"] = "secondary_prevention"
    checked = check_intake(raw, NONE, today=TODAY, sending=True)
    patch = intake_patch(checked.answers, FACTS, today=TODAY)
    assert {"name": "aspirin", "purpose": "secondary_prevention"} in patch["medications"]
    assert {"name": "Warfarin"} in patch["medications"]  # what staff recorded is kept


def test_unsure_answers_stay_not_recorded() -> None:
    raw = _complete(allergy_cement="not_sure", walk_with_painkillers="not_sure", pregnant="")
    patch = intake_patch(check_intake(raw, NONE, today=TODAY, sending=True).answers, FACTS, today=TODAY)
    assert "allergies" not in patch
    assert "non_ambulatory_despite_analgesia" not in patch.get("conservative_care", {})
    assert "patient" not in patch


def test_answers_map_to_the_clinical_facts() -> None:
    raw = _complete(
        pain_started="2026-10-25",
        tried_weeks="4",
        walk_with_painkillers="no",
        allergy_contrast="yes",
        allergy_latex="yes",
        illnesses=["cancer", "lungs"],
        pregnant="could_be",
    )
    patch = intake_patch(check_intake(raw, NONE, today=TODAY, sending=True).answers, FACTS, today=TODAY)
    assert patch["pain"] == {"nrs": 7, "trend": "worsening"}
    assert patch["fractures"] == [{"level": "L1", "onset_weeks": 4.0}]
    assert patch["conservative_care"] == {"weeks": 4.0, "non_ambulatory_despite_analgesia": True}
    assert patch["allergies"] == ["contrast dye (x-ray contrast)", "latex"]
    # A ticked illness is recorded; an unticked box is not a "no": infection and fever stay not recorded.
    assert patch["red_flags"] == {"cancer_history": True}
    assert patch["pulmonary_dysfunction"] is True
    # "I could be" pregnant is not a "no": the status stays not recorded and a test is needed.
    assert patch["patient"] == {"pregnant": None, "could_be_pregnant": True}


def test_a_definite_pregnancy_answer_is_recorded() -> None:
    for answer, expected in (("yes", True), ("no", False)):
        patch = intake_patch(
            check_intake(_complete(pregnant=answer), NONE, today=TODAY, sending=True).answers, FACTS, today=TODAY
        )
        assert patch["patient"]["pregnant"] is expected


def test_function_scores_come_from_the_loaded_items() -> None:
    function = load_questionnaires(DEMO_DIR)
    raw = _complete(**{f"odi-{i}": "2" for i in range(1, 9)}, rdq=["rdq-1", "rdq-5", "rdq-24"])
    checked = check_intake(raw, function, today=TODAY, sending=True)
    assert checked.ok
    assert checked.answers["odi_percent"] == 40.0  # 16 of 40 with two sections unanswered
    assert checked.answers["rdq"] == 3
    too_few = check_intake(_complete(**{f"odi-{i}": "2" for i in range(1, 7)}), function, today=TODAY, sending=True)
    assert "at least 8 of the 10 sections" in too_few.errors["odi"]


def test_drafts_keep_text_and_ticks_but_not_the_form_machinery() -> None:
    raw = raw_form(
        {"csrf_token": "x", "pain_now": "seven", "tried": "brace", "save": "1"}, {"tried": ["brace", "rest"]}
    )
    assert raw["pain_now"] == "seven"
    assert raw["tried"] == ["brace", "rest"]
    assert "csrf_token" not in raw
    assert "save" not in raw


@given(st.text(max_size=6))
def test_any_typed_pain_is_either_a_score_or_a_problem(text: str) -> None:
    checked = check_follow_up({"pain_now": text}, NONE, sending=True)
    value = checked.answers["pain_now"]
    assert (value is None) == ("pain_now" in checked.errors)
    if value is not None:
        assert 0 <= value <= 10
