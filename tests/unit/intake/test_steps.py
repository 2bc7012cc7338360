"""The intake's steps (decision 0036): which questions apply, what a step's post changes, where to resume."""

from __future__ import annotations

from vertebro.intake import steps as flow
from vertebro.intake.answers import Raw
from vertebro.intake.questionnaires import FunctionQuestionnaires

NONE = FunctionQuestionnaires(odi=None, rdq=None)
WOMAN_OF_40 = flow.Context(pregnancy_asked=True, function=NONE)
WOMAN_OF_80 = flow.Context(pregnancy_asked=False, function=NONE)


def test_without_licensed_questionnaires_there_is_no_daily_life_step() -> None:
    assert [s.slug for s in flow.steps(WOMAN_OF_80)] == ["pain", "treatment", "medicines", "health", "day", "review"]


def test_blood_thinner_details_apply_only_after_yes_and_aspirin_only_when_ticked() -> None:
    step = flow.MEDICINES
    assert "blood_thinners" not in flow.visible(step, {"blood_thinners_none": "none"}, WOMAN_OF_80)
    some: Raw = {"blood_thinners_none": "some", "blood_thinners": ["warfarin"]}
    assert "blood_thinners" in flow.visible(step, some, WOMAN_OF_80)
    assert "aspirin_why" not in flow.visible(step, some, WOMAN_OF_80)
    assert "aspirin_why" in flow.visible(step, {**some, "blood_thinners": ["aspirin"]}, WOMAN_OF_80)


def test_the_pregnancy_question_follows_the_screen() -> None:
    assert "pregnant" in flow.visible(flow.HEALTH, {}, WOMAN_OF_40)
    assert "pregnant" not in flow.visible(flow.HEALTH, {}, WOMAN_OF_80)
    assert "pregnant" not in flow.applicable({"pregnant": "yes"}, WOMAN_OF_80)


def test_a_step_post_replaces_only_that_steps_answers_and_drops_what_no_longer_applies() -> None:
    draft: Raw = {
        "pain_now": "8",
        "blood_thinners_none": "some",
        "blood_thinners": ["aspirin"],
        "aspirin_why": "not_sure",
        "allergy_latex": "no",
    }
    posted: Raw = {"blood_thinners_none": "none", "allergy_latex": "yes", "pain_now": "1", "blood_thinners": []}
    raw = flow.merged(draft, posted, flow.MEDICINES, WOMAN_OF_80)
    assert raw["pain_now"] == "8"  # another step's answer is never touched by this step's form
    assert raw["allergy_latex"] == "yes"
    assert "blood_thinners" not in raw
    assert "aspirin_why" not in raw


def test_resume_at_the_first_step_not_done() -> None:
    assert flow.resume_at([], WOMAN_OF_80).slug == "pain"
    assert flow.resume_at(["pain", "medicines"], WOMAN_OF_80).slug == "treatment"
    assert flow.resume_at(["pain", "treatment", "medicines", "health", "day"], WOMAN_OF_80).slug == "review"
