"""The patient's documents read plainly and agree with each other: the text of the HTML and of the PDF.

No rule ids, no "[unverified]" or "[secondary]" tags, no clinical shorthand; a hold waiting for the prescriber
gives no date and says the heart doctor must agree; preparation and going-home sheets say the same about
driving, with or without sedation.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.recovery import driving_advice
from vertebro.clinical.rules import RULES
from vertebro.education.content import pages
from vertebro.education.dates import long_date
from vertebro.education.pdf import html_to_pdf
from vertebro.education.render import discharge_html, page_html, preparation_html

from .cases import discharge, make_case, prep
from .test_pdf import pdf_text

JARGON = re.compile(
    r"\[(?:unverified|secondary|verify|local policy|GK-verify)\]|unverified|\bCrCl\b|creatinine clearance|"
    r"\bVKA\b|shared_decision|prescriber_decision|thrombotic risk|\bASRA\b(?= table)",
    re.IGNORECASE,
)
RULE_IDS = re.compile("|".join(re.escape(rule_id) for rule_id in sorted(RULES, key=len, reverse=True)))
EVERYTHING = [
    {"name": "clopidogrel", "purpose": "secondary_prevention"},
    {"name": "warfarin"},
    {"name": "apixaban"},
    {"name": "aspirin", "purpose": "primary_prevention"},
    {"name": "alendronate"},
]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("sedated", [True, False])
def test_no_rule_ids_and_no_verification_jargon_in_the_patient_documents(sedated: bool) -> None:
    case = make_case(medications=EVERYTHING, sedation_planned=sedated)
    for html in (preparation_html(prep(case)), discharge_html(discharge(case))):
        for text in (text_of(html), pdf_text(html_to_pdf(html))):
            assert not JARGON.search(text), JARGON.search(text)
            assert not RULE_IDS.search(text), RULE_IDS.search(text)


@pytest.mark.rule("medications.antiplatelet_secondary_decision")
def test_a_stent_antiplatelet_has_no_date_and_says_the_heart_doctor_must_agree() -> None:
    """ASRA 2018: secondary prophylaxis is held only after "shared assessment & risk stratification" with the
    prescriber; the patient is never given a last-dose date before that."""
    case = make_case(medications=[{"name": "clopidogrel", "purpose": "secondary_prevention"}])
    text = pdf_text(html_to_pdf(preparation_html(prep(case))))
    assert "Do not stop it yet" in text
    assert "heart doctor" in text
    assert "must agree first" in text
    assert "last dose on" not in text


@pytest.mark.rule("medications.prescriber_decision_recorded")
def test_after_the_decision_the_sheet_gives_the_date_and_when_it_was_agreed() -> None:
    """Rule statement: the plan "shows the date the prescriber agreed"."""
    med = {
        "name": "clopidogrel",
        "purpose": "secondary_prevention",
        "prescriber_decision": {"decision": "hold", "agreed_on": "2026-11-20", "recorded_by": "dr.rad"},
    }
    text = pdf_text(html_to_pdf(preparation_html(prep(make_case(medications=[med])))))
    assert "agreed this plan on Friday 20 November 2026" in text
    assert "last dose on Sunday 6 December 2026" in text
    assert "dr.rad" not in text  # who recorded it is for the chart, not the patient


@pytest.mark.rule("medications.thrombotic_risk_decision")
def test_warfarin_without_the_clot_risk_waits_for_the_team() -> None:
    """ACCP 2012: the thrombotic risk decides bridging; until it is recorded there is no date to give."""
    text = text_of(preparation_html(prep(make_case(medications=[{"name": "warfarin"}]))))
    assert "Keep taking it for now" in text
    assert "risk of blood clots" in text
    assert "last dose on" not in text


@pytest.mark.rule("asra.doac")
def test_a_doac_without_kidney_function_waits_for_the_blood_test() -> None:
    """ASRA 2018 "five half-lives": the interval depends on kidney function, so the test comes first."""
    text = text_of(preparation_html(prep(make_case(medications=[{"name": "apixaban"}]))))
    assert "how well your kidneys work" in text
    assert "last dose on" not in text


@pytest.mark.rule("recovery.driving")
@pytest.mark.parametrize("sedated", [True, False])
def test_the_preparation_and_going_home_sheets_agree_on_driving(sedated: bool) -> None:
    """BayCare/Krames: "Do not drive for 2 days after the procedure" — both sheets, with or without sedation."""
    case = make_case(sedation_planned=sedated)
    advice = driving_advice(dt.date(2026, 12, 14), sedated, DEFAULT_POLICY)
    assert advice.last_day == dt.date(2026, 12, 16)
    prep_text = pdf_text(html_to_pdf(preparation_html(prep(case))))
    home_text = pdf_text(html_to_pdf(discharge_html(discharge(case))))
    until = long_date(advice.last_day)
    assert "You must not drive" in prep_text
    assert f"until the end of {until}" in prep_text
    assert "Do not drive" in home_text or "do not drive" in home_text
    assert until in home_text
    if not sedated:
        assert "Getting home" in prep_text
        assert "Someone else must take you home" in prep_text


def test_the_education_pages_explain_a_source_without_bracketed_tags() -> None:
    for page in pages():
        text = text_of(page_html(page))
        assert not JARGON.search(text), (page.slug, JARGON.search(text))
        assert not RULE_IDS.search(text), (page.slug, RULE_IDS.search(text))
