"""The portal's questionnaires as forms: what is asked, how typed text is checked, and what it means for the case.

A draft keeps exactly what the patient typed (``raw``), so nothing is lost when an answer is not yet
valid and the form can be resumed on another device. Checking returns the typed answers and, per field,
a problem in plain words. The intake's answers become a patch of the case's facts (the clinical core's
inputs): pain and its course, treatments tried, medicines (blood thinners named one by one), allergies,
pregnancy, illnesses that change the plan, and the function scores.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertebro.clinical.levels import level_error
from vertebro.clinical.outcomes import odi_percent, rdq_score
from vertebro.intake.questionnaires import FunctionQuestionnaires

Raw = dict[str, str | list[str]]

WHERE = (
    ("neck", "Neck"),
    ("upper_back", "Upper back, between the shoulders"),
    ("middle_back", "Middle back, around the lowest ribs"),
    ("lower_back", "Lower back"),
    ("ribs", "Around the ribs or chest"),
    ("legs", "Down one or both legs"),
)
REQUEST_WHERE = (*WHERE[:4], ("not_sure", "I am not sure"))
COURSE = (("worsening", "Getting worse"), ("stable", "About the same"), ("improving", "Getting better"))
TRIED = (
    ("painkillers", "Painkillers"),
    ("brace", "A back brace"),
    ("physiotherapy", "Physiotherapy"),
    ("rest", "Rest"),
    ("other", "Something else"),
)
BLOOD_THINNERS = (
    ("warfarin", "Warfarin (Coumadin, Jantoven)"),
    ("acenocoumarol", "Acenocoumarol (Sintrom)"),
    ("apixaban", "Apixaban (Eliquis)"),
    ("rivaroxaban", "Rivaroxaban (Xarelto)"),
    ("dabigatran", "Dabigatran (Pradaxa)"),
    ("edoxaban", "Edoxaban (Lixiana, Savaysa)"),
    ("clopidogrel", "Clopidogrel (Plavix)"),
    ("prasugrel", "Prasugrel (Effient)"),
    ("ticagrelor", "Ticagrelor (Brilinta, Brilique)"),
    ("aspirin", "Aspirin"),
    ("enoxaparin", "Heparin injections, such as enoxaparin (Clexane, Lovenox)"),
)
ASPIRIN_WHY = (
    ("secondary_prevention", "After a heart attack, a stroke or a stent"),
    ("primary_prevention", "To prevent a first heart attack or stroke"),
    ("not_sure", "I am not sure"),
)
YES_NO_UNSURE = (("yes", "Yes"), ("no", "No"), ("not_sure", "I am not sure"))
PREGNANCY = (
    ("no", "No"),
    ("yes", "Yes"),
    ("could_be", "I could be"),
    ("not_applicable", "Does not apply to me"),
)
ILLNESSES = (
    ("cancer", "Cancer, now or in the past"),
    ("infection", "An infection now (for example of the bladder, chest or skin)"),
    ("fever", "A fever in the last few days"),
    ("lungs", "Lung or breathing problems, or breathless when lying flat"),
    ("bleeding", "A bleeding problem, or bruising easily"),
)
SEDATION = (
    ("yes", "Yes, I would like medicine to help me relax"),
    ("no", "No, local anaesthetic alone is fine"),
    ("not_sure", "I would like to talk about it"),
)
PORTAL_WORDS = dict(
    (*REQUEST_WHERE, *WHERE, *COURSE, *TRIED, *BLOOD_THINNERS, *ASPIRIN_WHY, *PREGNANCY, *ILLNESSES, *SEDATION)
)
"""How staff read the patient's coded answers (the same words the patient saw)."""
LABELS = {
    "pain_now": "Pain today",
    "pain_where": "Where you feel it",
    "pain_started": "When it started",
    "pain_course": "How it has changed",
    "tried": "Treatments tried",
    "tried_weeks": "Weeks of treatment",
    "walk_with_painkillers": "Walking with painkillers",
    "painkiller_side_effects": "Problems with painkillers",
    "blood_thinners_none": "Blood thinners",
    "blood_thinners": "Which blood thinners",
    "aspirin_why": "Why you take aspirin",
    "other_medicines": "Other medicines",
    "allergy_cement": "Bone cement allergy",
    "allergy_contrast": "Contrast dye allergy",
    "allergy_latex": "Latex allergy",
    "pregnant": "Pregnancy",
    "illnesses": "Illnesses",
    "sedation_wish": "Sedation",
    "escort": "An adult to take you home",
    "escort_overnight": "An adult to stay with you",
    "odi": "Oswestry",
    "rdq": "Roland-Morris",
    "blood_thinner_other": "Another blood thinner",
    "allergy_other": "Other allergy",
    "illness_other": "Other illnesses",
}
"""Short names of the questions, for the list of problems at the top of the form."""
MULTI = frozenset({"pain_where", "tried", "blood_thinners", "illnesses", "rdq"})
REQUIRED_ON_SEND = (
    "pain_now",
    "pain_course",
    "blood_thinners_none",
    "allergy_cement",
    "allergy_contrast",
    "allergy_latex",
)


DATE_HINT = "Choose the day in the calendar, or type the day, month and year."
"""The one hint every portal date control carries. It names no order of day and month: the browser's control
shows the order of the patient's own settings, and a hint naming another order would contradict it."""
DATE_PROBLEM = "this is not a whole date: choose the day in the calendar, or type the day, month and year"
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})")


def read_day(text: str) -> dt.date | None:
    """Return the date a portal date field sent, or None when it is not a real date.

    A browser's date control sends year-month-day whatever it shows; a browser without one sends what was
    typed, which the hint asks for as day/month/year (the clinic is in Europe: the day comes first).
    """
    value = text.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    day_first = _DAY_FIRST.fullmatch(value)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if day_first:
            return dt.date(int(day_first[3]), int(day_first[2]), int(day_first[1]))
    except ValueError:
        return None
    return None


def request_levels(text: str, unknown: bool) -> tuple[tuple[str, ...], str | None]:
    """Return the fractured levels a patient typed on the request form, or the problem in plain words.

    "I don't know" gives no level at all (never a guess): staff find it in the imaging report.
    """
    levels = [lv.strip().upper() for lv in text.replace(";", ",").replace(" and ", ",").split(",") if lv.strip()]
    if unknown and levels:
        return (), "you wrote a bone and also ticked 'I don't know': clear one of them"
    if unknown:
        return (), None
    if not levels:
        return (), "write the bone as on your scan report, for example L1, or tick 'I don't know'"
    if any(level_error(lv) for lv in levels) or len(set(levels)) != len(levels) or len(levels) > 6:
        return (), "write the bone as on your scan report, for example L1 or T12 (several: T12, L1)"
    return tuple(levels), None


@dataclass(frozen=True, slots=True)
class Checked:
    """The typed answers and, per field, what is wrong in plain words."""

    answers: dict[str, Any]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when no field has a problem."""
        return not self.errors


def raw_form(single: Mapping[str, str], lists: Mapping[str, list[str]]) -> Raw:
    """Return the submitted form as a draft: text fields as typed, ticked boxes as lists (no CSRF token)."""
    raw: Raw = {}
    for name, value in single.items():
        if name in ("csrf_token", "send", "save", "version"):
            continue
        raw[name] = [v for v in lists.get(name, []) if v] if name in MULTI else value[:4000]
    for name in MULTI:
        raw.setdefault(name, [])
    return raw


def _text(raw: Raw, name: str) -> str:
    value = raw.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _many(raw: Raw, name: str, options: tuple[tuple[str, str], ...], errors: dict[str, str]) -> list[str]:
    value = raw.get(name, [])
    chosen = [value] if isinstance(value, str) and value else list(value) if isinstance(value, list) else []
    allowed = {key for key, _ in options}
    if any(v not in allowed for v in chosen):
        errors[name] = "one of the ticked answers is not on the list: tick the boxes again"
    return [v for v in chosen if v in allowed]


def _one(raw: Raw, name: str, options: tuple[tuple[str, str], ...], errors: dict[str, str]) -> str | None:
    value = _text(raw, name)
    if not value:
        return None
    if value not in {key for key, _ in options}:
        errors[name] = "choose one of the answers shown"
        return None
    return value


def _whole(raw: Raw, name: str, low: int, high: int, errors: dict[str, str], what: str) -> int | None:
    value = _text(raw, name)
    if not value:
        return None
    if not value.isdecimal():
        errors[name] = f"write {what} as a whole number from {low} to {high}, for example {min(high, low + 5)}"
        return None
    number = int(value)
    if not low <= number <= high:
        errors[name] = f"{what} must be from {low} to {high}; you wrote {number}"
        return None
    return number


def _day(raw: Raw, name: str, errors: dict[str, str], today: dt.date) -> dt.date | None:
    value = _text(raw, name)
    if not value:
        return None
    day = read_day(value)
    if day is None:
        errors[name] = DATE_PROBLEM
        return None
    if day > today:
        errors[name] = "this date is in the future: give the day the pain started"
        return None
    if day < today - dt.timedelta(days=3650):
        errors[name] = "this date is more than 10 years ago: check the year"
        return None
    return day


def _function(raw: Raw, function: FunctionQuestionnaires, errors: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if function.odi is not None:
        sections = [_whole(raw, item.id, 0, 5, errors, "the answer") for item in function.odi.items]
        answers["odi_sections"] = sections
        if any(s is not None for s in sections):
            score = odi_percent(sections)
            if score is None:
                errors["odi"] = "answer at least 8 of the 10 sections so that a score can be worked out"
            answers["odi_percent"] = score
    if function.rdq is not None:
        ticked = set(_many(raw, "rdq", tuple((i.id, i.text) for i in function.rdq.items), errors))
        answers["rdq_ticked"] = sorted(ticked)
        answers["rdq"] = rdq_score([item.id in ticked for item in function.rdq.items])
    return answers


def check_intake(raw: Raw, function: FunctionQuestionnaires, *, today: dt.date, sending: bool) -> Checked:
    """Check the intake answers; when ``sending``, the questions needed for the plan must be answered."""
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {
        "pain_now": _whole(raw, "pain_now", 0, 10, errors, "your pain"),
        "pain_where": _many(raw, "pain_where", WHERE, errors),
        "pain_started": _day(raw, "pain_started", errors, today),
        "pain_course": _one(raw, "pain_course", COURSE, errors),
        "tried": _many(raw, "tried", TRIED, errors),
        "tried_weeks": _whole(raw, "tried_weeks", 0, 520, errors, "the number of weeks"),
        "walk_with_painkillers": _one(raw, "walk_with_painkillers", YES_NO_UNSURE, errors),
        "painkiller_side_effects": _one(raw, "painkiller_side_effects", YES_NO_UNSURE, errors),
        "blood_thinners": _many(raw, "blood_thinners", BLOOD_THINNERS, errors),
        "blood_thinners_none": _one(raw, "blood_thinners_none", (("none", "none"), ("some", "some")), errors),
        "blood_thinner_other": _text(raw, "blood_thinner_other")[:100] or None,
        "aspirin_why": _one(raw, "aspirin_why", ASPIRIN_WHY, errors),
        "other_medicines": [line.strip()[:100] for line in _text(raw, "other_medicines").splitlines() if line.strip()],
        "allergy_cement": _one(raw, "allergy_cement", YES_NO_UNSURE, errors),
        "allergy_contrast": _one(raw, "allergy_contrast", YES_NO_UNSURE, errors),
        "allergy_latex": _one(raw, "allergy_latex", YES_NO_UNSURE, errors),
        "allergy_other": _text(raw, "allergy_other")[:100] or None,
        "pregnant": _one(raw, "pregnant", PREGNANCY, errors),
        "illnesses": _many(raw, "illnesses", ILLNESSES, errors),
        "illness_other": _text(raw, "illness_other")[:500] or None,
        "sedation_wish": _one(raw, "sedation_wish", SEDATION, errors),
        "escort": _one(raw, "escort", YES_NO_UNSURE, errors),
        "escort_overnight": _one(raw, "escort_overnight", YES_NO_UNSURE, errors),
        **_function(raw, function, errors),
    }
    if len(answers["other_medicines"]) > 30:
        errors["other_medicines"] = "list at most 30 medicines here; bring the rest on a list"
    if answers["blood_thinners_none"] == "none" and (answers["blood_thinners"] or answers["blood_thinner_other"]):
        errors["blood_thinners_none"] = "you ticked a blood thinner and also said you take none: check which is right"
    if (
        answers["blood_thinners_none"] == "some"
        and not answers["blood_thinners"]
        and not answers["blood_thinner_other"]
    ):
        errors["blood_thinners"] = "tick each blood thinner you take, or write its name under 'another blood thinner'"
    if "aspirin" in answers["blood_thinners"] and sending and answers["aspirin_why"] is None:
        errors["aspirin_why"] = "say why you take aspirin: it decides whether you stop it"
    if sending:
        for name in REQUIRED_ON_SEND:
            if answers.get(name) is None and name not in errors:
                errors[name] = "please answer this question before you send the form"
    return Checked(answers, errors)


def from_request(pain_now: int | None, pain_since: dt.date | None, where_it_hurts: str | None) -> Raw:
    """Return the intake answers the appointment request already gave (pre-filled, the patient can change them)."""
    raw: Raw = {}
    if pain_now is not None:
        raw["pain_now"] = str(pain_now)
    if pain_since is not None:
        raw["pain_started"] = pain_since.isoformat()
    raw["pain_where"] = [where_it_hurts] if where_it_hurts in dict(WHERE) else []
    return raw


def check_follow_up(raw: Raw, function: FunctionQuestionnaires, *, sending: bool) -> Checked:
    """Check a follow-up questionnaire: pain now and the function questionnaires the clinic offers."""
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {"pain_now": _whole(raw, "pain_now", 0, 10, errors, "your pain")}
    answers.update(_function(raw, function, errors))
    if sending and answers["pain_now"] is None and "pain_now" not in errors:
        errors["pain_now"] = "please answer this question before you send the form"
    return Checked(answers, errors)


def _weeks_since(day: dt.date, today: dt.date) -> float:
    return round((today - day).days / 7, 1)


def intake_patch(answers: Mapping[str, Any], facts: Mapping[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Return the change to the case's facts that the intake answers make (a JSON-mode patch).

    Answers the patient was unsure about are left as not recorded, so the rules report them as missing
    rather than assume. Medicines and allergies are added to what staff recorded, never removed. An
    illness the patient ticks is recorded as present; one left unticked stays not recorded (a box not
    ticked is not a "no": staff record the "no" on the chart), and "I could be" pregnant leaves the
    pregnancy status not recorded (rule general.safety_facts_recorded).
    """
    patch: dict[str, Any] = {}
    if answers.get("pain_now") is not None:
        pain: dict[str, Any] = {"nrs": answers["pain_now"]}
        if answers.get("pain_course"):
            pain["trend"] = answers["pain_course"]
        patch["pain"] = pain
    if answers.get("pain_started"):
        started = answers["pain_started"]
        day = started if isinstance(started, dt.date) else dt.date.fromisoformat(str(started))
        weeks = _weeks_since(day, today)
        patch["fractures"] = [{"level": f["level"], "onset_weeks": weeks} for f in facts.get("fractures", [])]
    care: dict[str, Any] = {}
    if answers.get("tried_weeks") is not None:
        care["weeks"] = float(answers["tried_weeks"])
    if answers.get("walk_with_painkillers") in ("yes", "no"):
        care["non_ambulatory_despite_analgesia"] = answers["walk_with_painkillers"] == "no"
    if answers.get("painkiller_side_effects") in ("yes", "no"):
        care["analgesic_side_effects"] = answers["painkiller_side_effects"] == "yes"
    if care:
        patch["conservative_care"] = care
    medicines = _medicines(answers)
    if medicines:
        known = {m["name"].lower(): m for m in facts.get("medications") or []}
        for medicine in medicines:
            known[medicine["name"].lower()] = {**known.get(medicine["name"].lower(), {}), **medicine}
        patch["medications"] = list(known.values())
    allergies = _allergies(answers)
    if allergies:
        existing = list(facts.get("allergies") or [])
        known_words = {(e if isinstance(e, str) else str(e.get("text") or e.get("code"))).lower() for e in existing}
        patch["allergies"] = existing + [a for a in allergies if a.lower() not in known_words]
    pregnant = answers.get("pregnant")
    if pregnant in ("yes", "no"):
        patch["patient"] = {"pregnant": pregnant == "yes", "could_be_pregnant": pregnant == "yes"}
    elif pregnant == "could_be":  # unsure: the status stays not recorded, and a test is needed
        patch["patient"] = {"pregnant": None, "could_be_pregnant": True}
    illnesses = set(answers.get("illnesses") or ())
    red_flags = {
        flag: True
        for flag, ticked in (
            ("cancer_history", "cancer" in illnesses),
            ("active_infection", "infection" in illnesses),
            ("fever", "fever" in illnesses),
        )
        if ticked
    }
    if red_flags:
        patch["red_flags"] = red_flags
    if "lungs" in illnesses:
        patch["pulmonary_dysfunction"] = True
    function: dict[str, Any] = {}
    if answers.get("odi_percent") is not None:
        function["odi_percent"] = answers["odi_percent"]
    if answers.get("rdq") is not None and answers.get("rdq_ticked") is not None:
        function["rdq"] = answers["rdq"]
    if function:
        patch["function"] = function
    return patch


def _medicines(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    medicines: list[dict[str, Any]] = []
    for name in answers.get("blood_thinners") or ():
        medicine: dict[str, Any] = {"name": name}
        if name == "aspirin" and answers.get("aspirin_why") in ("primary_prevention", "secondary_prevention"):
            medicine["purpose"] = answers["aspirin_why"]
        medicines.append(medicine)
    if answers.get("blood_thinner_other"):
        medicines.append({"name": answers["blood_thinner_other"]})
    medicines.extend({"name": name} for name in answers.get("other_medicines") or ())
    return medicines


def _allergies(answers: Mapping[str, Any]) -> list[str]:
    found = []
    if answers.get("allergy_cement") == "yes":
        found.append("bone cement (PMMA)")
    if answers.get("allergy_contrast") == "yes":
        found.append("contrast dye (x-ray contrast)")
    if answers.get("allergy_latex") == "yes":
        found.append("latex")
    if answers.get("allergy_other"):
        found.append(answers["allergy_other"])
    return found


def json_ready(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the typed answers with dates as ISO text (for storing as JSON)."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in answers.items()}
