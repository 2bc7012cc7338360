"""NEWS2 (Royal College of Physicians 2017): every parameter against the chart's published bands.

The bands below are written out as the chart prints them (Chart 1, "The NEWS scoring system"), as
inclusive ranges, independently of the module's if-chains; hypothesis draws values across and around
every band edge.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.news2 import (
    Consciousness,
    Risk,
    Vitals,
    consciousness_points,
    news2,
    oxygen_points,
    pulse_points,
    respiration_points,
    risk_of,
    spo2_points,
    systolic_points,
    temperature_points,
)

INF = 10**6
# (lowest, highest, points), inclusive, as printed on Chart 1.
RESPIRATION = ((0, 8, 3), (9, 11, 1), (12, 20, 0), (21, 24, 2), (25, INF, 3))
SPO2_SCALE_1 = ((0, 91, 3), (92, 93, 2), (94, 95, 1), (96, 100, 0))
SYSTOLIC = ((0, 90, 3), (91, 100, 2), (101, 110, 1), (111, 219, 0), (220, INF, 3))
PULSE = ((0, 40, 3), (41, 50, 1), (51, 90, 0), (91, 110, 1), (111, 130, 2), (131, INF, 3))
# Temperature in tenths of a degree.
TEMPERATURE = ((0, 350, 3), (351, 360, 1), (361, 380, 0), (381, 390, 1), (391, INF, 2))


def band(table: tuple[tuple[int, int, int], ...], value: int) -> int:
    return next(points for low, high, points in table if low <= value <= high)


def vitals_strategy() -> st.SearchStrategy[Vitals]:
    return st.builds(
        Vitals,
        respiration_rate=st.integers(4, 60),
        spo2=st.integers(60, 100),
        on_oxygen=st.booleans(),
        systolic=st.integers(50, 260),
        pulse=st.integers(20, 220),
        consciousness=st.sampled_from(Consciousness),
        temperature_c=st.integers(300, 430).map(lambda t: t / 10),
        spo2_scale_2=st.booleans(),
    )


@pytest.mark.rule("monitoring.news2")
@given(st.integers(0, 80))
def test_respiration_rate_follows_the_chart(rate: int) -> None:
    """Chart 1: respiration rate "≤8" 3, "9–11" 1, "12–20" 0, "21–24" 2, "≥25" 3."""
    assert respiration_points(rate) == band(RESPIRATION, rate)


@pytest.mark.rule("monitoring.news2")
@given(st.integers(50, 100), st.booleans())
def test_spo2_scale_1_follows_the_chart(spo2: int, on_oxygen: bool) -> None:
    """Chart 1: SpO2 scale 1 "≤91" 3, "92–93" 2, "94–95" 1, "≥96" 0, whether on air or oxygen."""
    assert spo2_points(spo2, on_oxygen=on_oxygen) == band(SPO2_SCALE_1, spo2)


@pytest.mark.rule("monitoring.news2")
@given(st.integers(50, 100), st.booleans())
def test_spo2_scale_2_follows_the_chart(spo2: int, on_oxygen: bool) -> None:
    """Chart 1: SpO2 scale 2 "≤83" 3, "84–85" 2, "86–87" 1, "88–92, ≥93 on air" 0, "93–94 on oxygen" 1,
    "95–96 on oxygen" 2, "≥97 on oxygen" 3."""
    if spo2 >= 93 and on_oxygen:
        expected = band(((93, 94, 1), (95, 96, 2), (97, 100, 3)), spo2)
    else:
        expected = band(((0, 83, 3), (84, 85, 2), (86, 87, 1), (88, 100, 0)), spo2)
    assert spo2_points(spo2, on_oxygen=on_oxygen, scale_2=True) == expected


@pytest.mark.rule("monitoring.news2")
def test_air_or_oxygen_and_consciousness_follow_the_chart() -> None:
    """Chart 1: "Air or oxygen?" oxygen 2, air 0; consciousness "Alert" 0, "CVPU" 3."""
    assert (oxygen_points(True), oxygen_points(False)) == (2, 0)
    assert consciousness_points(Consciousness.ALERT) == 0
    assert {consciousness_points(c) for c in Consciousness if c is not Consciousness.ALERT} == {3}


@pytest.mark.rule("monitoring.news2")
@given(st.integers(30, 300))
def test_systolic_pressure_follows_the_chart(systolic: int) -> None:
    """Chart 1: systolic blood pressure "≤90" 3, "91–100" 2, "101–110" 1, "111–219" 0, "≥220" 3."""
    assert systolic_points(systolic) == band(SYSTOLIC, systolic)


@pytest.mark.rule("monitoring.news2")
@given(st.integers(10, 250))
def test_pulse_follows_the_chart(pulse: int) -> None:
    """Chart 1: pulse "≤40" 3, "41–50" 1, "51–90" 0, "91–110" 1, "111–130" 2, "≥131" 3."""
    assert pulse_points(pulse) == band(PULSE, pulse)


@pytest.mark.rule("monitoring.news2")
@given(st.integers(300, 430))
def test_temperature_follows_the_chart(tenths: int) -> None:
    """Chart 1: temperature "≤35.0" 3, "35.1–36.0" 1, "36.1–38.0" 0, "38.1–39.0" 1, "≥39.1" 2."""
    assert temperature_points(tenths / 10) == band(TEMPERATURE, tenths)


@pytest.mark.rule("monitoring.news2")
@given(vitals_strategy())
def test_the_score_is_the_sum_of_the_parts(vitals: Vitals) -> None:
    """NEWS2 is an aggregate score: the sum of the seven parameter scores, 0 to 20."""
    result = news2(vitals)
    assert result.score == sum(result.parts.values())
    assert len(result.parts) == 7
    assert 0 <= result.score <= 20


@pytest.mark.rule("monitoring.news2_risk")
@given(vitals_strategy())
def test_the_risk_band_follows_chart_2(vitals: Vitals) -> None:
    """Chart 2: "Aggregate score 0–4" low; "Red score: score of 3 in any individual parameter" low–medium;
    "Aggregate score 5–6" medium; "Aggregate score 7 or more" high."""
    result = news2(vitals)
    if result.score >= 7:
        assert result.risk is Risk.HIGH
    elif result.score >= 5:
        assert result.risk is Risk.MEDIUM
    elif 3 in result.parts.values():
        assert result.risk is Risk.LOW_MEDIUM
    else:
        assert result.risk is Risk.LOW
    assert result.risk.escalates == (result.risk is not Risk.LOW)


@pytest.mark.rule("monitoring.news2_risk")
def test_the_observations_of_the_finding_escalate() -> None:
    """The set seen in the browser (BP 182/95, pulse 118, SpO2 86 %) on air, alert, 37 C, rate 18 scores
    SpO2 3 + pulse 2 = 5: medium, an urgent response."""
    result = news2(
        Vitals(
            respiration_rate=18,
            spo2=86,
            on_oxygen=False,
            systolic=182,
            pulse=118,
            consciousness=Consciousness.ALERT,
            temperature_c=37.0,
        )
    )
    assert (result.score, result.risk, result.red) == (5, Risk.MEDIUM, True)
    assert risk_of(0, red=False) is Risk.LOW
    assert risk_of(3, red=True) is Risk.LOW_MEDIUM
