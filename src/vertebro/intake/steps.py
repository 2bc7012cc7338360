"""The intake questionnaire as a few short steps: which questions each step asks, which are shown, and where to resume.

A question is shown only when it applies (decision 0036): the blood thinners one by one only when the
patient says they take one, why they take aspirin only when aspirin is ticked, pregnancy only where the
pregnancy screen applies (``clinical.preparation.could_be_pregnant``: by default women aged 12-50, or as
recorded), the overnight companion only when sedation is wished. An answer to a question that no longer
applies is dropped (a "no" to blood thinners drops the ticked ones), so it can neither contradict nor leak
into the case's facts. Everything here is pure: the web layer renders and stores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from vertebro.intake.answers import Checked, Raw, check_intake
from vertebro.intake.questionnaires import FunctionQuestionnaires

REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Step:
    """One page of the intake: its address, its heading and the questions it can ask."""

    slug: str
    title: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()


PAIN = Step("pain", "Your pain", ("pain_now", "pain_where", "pain_started", "pain_course"), ("pain_now", "pain_course"))
TREATMENT = Step(
    "treatment",
    "What you have tried",
    ("tried", "tried_weeks", "walk_with_painkillers", "painkiller_side_effects"),
)
MEDICINES = Step(
    "medicines",
    "Medicines and allergies",
    (
        "blood_thinners_none",
        "blood_thinners",
        "blood_thinner_other",
        "aspirin_why",
        "other_medicines",
        "allergy_cement",
        "allergy_contrast",
        "allergy_latex",
        "allergy_other",
    ),
    ("blood_thinners_none", "aspirin_why", "allergy_cement", "allergy_contrast", "allergy_latex"),
)
HEALTH = Step("health", "Other conditions", ("pregnant", "illnesses", "illness_other"))
DAILY = Step("daily", "Your daily life", ("odi", "rdq"))
DAY = Step("day", "Practical arrangements", ("sedation_wish", "escort", "escort_overnight"))
REVIEW_STEP = Step(REVIEW, "Check and send", ())


@dataclass(frozen=True, slots=True)
class Context:
    """What decides which questions apply, besides the answers: the pregnancy screen and the clinic's instruments."""

    pregnancy_asked: bool
    function: FunctionQuestionnaires


def steps(context: Context) -> tuple[Step, ...]:
    """Return the steps of this patient's intake, in order, ending with the review (daily life only where
    the clinic has the licensed questionnaires)."""
    middle = (DAILY,) if context.function.any else ()
    return (PAIN, TREATMENT, MEDICINES, HEALTH, *middle, DAY, REVIEW_STEP)


def step_named(slug: str, context: Context) -> Step | None:
    """Return the step with this address, or None when this patient's intake has no such step."""
    return next((s for s in steps(context) if s.slug == slug), None)


def _chosen(raw: Raw, name: str) -> list[str]:
    value = raw.get(name, [])
    return [value] if isinstance(value, str) and value else list(value) if isinstance(value, list) else []


def shown(name: str, raw: Raw, context: Context) -> bool:
    """Return whether the question ``name`` applies, given the answers so far."""
    thinners = raw.get("blood_thinners_none") == "some"
    if name in ("blood_thinners", "blood_thinner_other"):
        return thinners
    if name == "aspirin_why":
        return thinners and "aspirin" in _chosen(raw, "blood_thinners")
    if name == "pregnant":
        return context.pregnancy_asked
    if name == "escort_overnight":
        return raw.get("sedation_wish") == "yes"
    if name == "odi":
        return context.function.odi is not None
    if name == "rdq":
        return context.function.rdq is not None
    return True


def _names(name: str, context: Context) -> tuple[str, ...]:
    """The form fields behind one question (the Oswestry has one per section)."""
    if name == "odi" and context.function.odi is not None:
        return ("odi", *(item.id for item in context.function.odi.items))
    return (name,)


def visible(step: Step, raw: Raw, context: Context) -> tuple[str, ...]:
    """Return the questions of ``step`` that apply now, in order."""
    return tuple(name for name in step.fields if shown(name, raw, context))


def applicable(raw: Raw, context: Context) -> Raw:
    """Return the answers without those to questions that do not apply (they are dropped, not kept hidden)."""
    dropped = {
        field
        for step in steps(context)
        for name in step.fields
        if not shown(name, raw, context)
        for field in _names(name, context)
    }
    return {name: value for name, value in raw.items() if name not in dropped}


def merged(draft: Raw, posted: Raw, step: Step, context: Context) -> Raw:
    """Return the draft with one step's answers replaced by what was posted on that step.

    Only the step's own questions are taken from the form (a box left unticked on this page clears it; a
    question of another step is never touched), then answers that no longer apply are dropped.
    """
    own = {field for name in step.fields for field in _names(name, context)}
    raw: Raw = {k: v for k, v in draft.items() if k not in own}
    raw.update({k: v for k, v in posted.items() if k in own})
    return applicable(raw, context)


def step_problems(step: Step, raw: Raw, context: Context, checked: Checked) -> dict[str, str]:
    """Return the problems of one step: answers not valid and required questions (that apply) not answered."""
    asked = visible(step, raw, context)
    fields = {field for name in asked for field in _names(name, context)}
    problems = {name: message for name, message in checked.errors.items() if name in fields}
    for name in step.required:
        if name in asked and name not in problems and checked.answers.get(name) is None:
            problems[name] = "please answer this question"
    return dict(sorted(problems.items(), key=lambda item: _order(item[0], step, context)))


def _order(name: str, step: Step, context: Context) -> int:
    for index, question in enumerate(step.fields):
        if name in _names(question, context):
            return index
    return len(step.fields)


def check_step(step: Step, raw: Raw, context: Context, *, today: dt.date) -> dict[str, str]:
    """Check one step's answers (every problem at once); answers that do not apply are already dropped."""
    return step_problems(step, raw, context, check_intake(raw, context.function, today=today, sending=False))


def resume_at(done: Iterable[str], context: Context) -> Step:
    """Return the first step not yet completed (the review once every step is)."""
    finished = set(done)
    return next(s for s in steps(context) if s.slug not in finished or s.slug == REVIEW)


def step_of(name: str, context: Context) -> Step:
    """Return the step that asks the question behind a form field (for the review's "change" links)."""
    for step in steps(context):
        for question in step.fields:
            if name in _names(question, context):
                return step
    return PAIN
