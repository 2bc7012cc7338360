"""The chart (assessment JSON), the API, the handout and the portal show the same times across a clock change."""

from __future__ import annotations

import datetime as dt

import pytest

from vertebro.clinical import assessment_json
from vertebro.education.render import preparation_html

from .cases import LONDON, assessed, make_case, prep

SPRING = "2027-03-28"  # Europe/London: 01:00 GMT becomes 02:00 BST
AS_OF = dt.date(2027, 3, 1)


@pytest.mark.rule("preparation.fasting")
def test_fasting_is_the_same_wall_clock_time_in_the_json_and_on_the_handout() -> None:
    """ASA 2017: "fried/fatty/meat ≥ 8 h" — 23:00 GMT the evening before an 08:00 BST start, everywhere."""
    case = make_case(procedure_date=SPRING, sedation_planned=True)
    data = assessment_json(assessed(case, AS_OF))
    fatty = next(i for i in data["preparation"]["items"] if i["kind"] == "fasting" and "fatty" in i["instruction"])
    assert fatty["due"] == "2027-03-27T23:00:00"  # what the chart and the API show
    doc = prep(case, as_of=AS_OF)
    assert doc.fasting[0].at == dt.datetime(2027, 3, 27, 23, 0, tzinfo=LONDON)  # what the handout and portal show
    assert "11:00 pm GMT on Saturday 27 March 2027" in preparation_html(doc)


@pytest.mark.rule("asra.lmwh")
def test_an_hour_hold_is_the_same_in_the_json_and_on_the_handout() -> None:
    """ASRA 2018: "Enoxaparin prophylactic | 12 h" — 19:00 GMT the evening before an 08:00 BST start."""
    case = make_case(procedure_date=SPRING, medications=[{"name": "enoxaparin", "purpose": "prophylactic"}])
    data = assessment_json(assessed(case, AS_OF))
    [hold] = data["preparation"]["medication_holds"]
    assert hold["stop"] == "2027-03-27T19:00:00"
    [line] = prep(case, as_of=AS_OF).blood_thinners
    assert line.last_dose_by == dt.datetime(2027, 3, 27, 19, 0, tzinfo=LONDON)
