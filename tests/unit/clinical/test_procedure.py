"""The procedure: room time per session and the PMMA cement phases by room temperature."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.clinical.builders import assessed, base_case, make_case
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.procedure import (
    DEFAULT_PRODUCT,
    PRODUCTS,
    CementTimeline,
    cement_timeline,
    procedure_plan,
    room_minutes,
)

REFERENCE = PRODUCTS[DEFAULT_PRODUCT]


def durations(timeline: CementTimeline) -> dict[str, float]:
    return {p.name: p.end_min - p.start_min for p in timeline.phases}


# --- room time ----------------------------------------------------------------------------------


@pytest.mark.rule("procedure.room_time")
@pytest.mark.parametrize(("levels", "minutes"), [(0, 0), (1, 90), (2, 150), (3, 210)])
def test_room_minutes_are_set_up_plus_an_hour_per_level(levels: int, minutes: int) -> None:
    """KAVIAR (Dohm 2014): "Procedure time | KP 40.0 vs VP 31.8 min (p < 0.001)" — booked as 30 min set-up + 60 min
    per level (clinic policy)."""
    assert room_minutes(levels, DEFAULT_POLICY) == minutes


@pytest.mark.rule("procedure.room_time")
def test_room_minutes_follow_the_policy() -> None:
    """KAVIAR (Dohm 2014): "KP 40.0 vs VP 31.8 min" — a clinic sets its own set-up and per-level times."""
    policy = ClinicPolicy(setup_minutes=45, minutes_per_level=50)
    assert room_minutes(2, policy) == 145


@pytest.mark.rule("procedure.room_time")
def test_negative_levels_are_rejected() -> None:
    """KAVIAR (Dohm 2014): "Procedure time | KP 40.0 vs VP 31.8 min" per level treated — never a negative count."""
    with pytest.raises(ValueError, match="levels must be 0 or more"):
        room_minutes(-1, DEFAULT_POLICY)


@pytest.mark.rule("procedure.room_time")
def test_room_minutes_per_session_in_the_assessment() -> None:
    """KAVIAR (Dohm 2014): "Procedure time | KP 40.0 vs VP 31.8 min (p < 0.001)"; LCD relative CI "> 3 vertebral
    levels per procedure" splits four levels into two sessions."""
    assert assessed().procedure.room_minutes_per_session == (90,)
    fracture = base_case()["fractures"][0]
    four = [dict(fracture, level=level) for level in ("T11", "T12", "L1", "L2")]
    plan = assessed({"fractures": four}).procedure
    assert plan.levels == 4
    assert plan.sessions == 2
    assert plan.room_minutes_per_session == (210, 90)


# --- cement phases at the reference temperature -------------------------------------------------


@pytest.mark.rule("cement.reference_product")
def test_reference_cement_at_22_c_equals_the_reference_data() -> None:
    """Lai 2012: "at 22 °C liquid 5.1 min, paste 3.4 min, handling 8.5 min"; "Medium-viscosity VP cement:
    hardening ≈ 11 min"; PALACOS "mixing time 30 s"."""
    timeline = cement_timeline(REFERENCE, 22.0)
    assert [(p.name, p.start_min, p.end_min) for p in timeline.phases] == [
        ("mixing", 0.0, 0.5),
        ("waiting", 0.5, 5.1),
        ("working", 5.1, 8.5),
        ("setting", 8.5, 19.5),
    ]
    assert timeline.set_at_min == 19.5
    assert timeline.temperature_c == 22.0


@pytest.mark.rule("cement.reference_product")
def test_the_reference_cement_is_flagged_for_verification() -> None:
    """Reference: "Product IFU times ...: IFU found but timing table not captured → read IFU table before
    hard-coding"."""
    assert REFERENCE.reference_temperature_c == 22.0
    assert cement_timeline(REFERENCE, 22.0).verify is True
    assert assessed().procedure.cement.verify is True


@pytest.mark.rule("cement.reference_product")
def test_the_assessment_uses_the_reference_cement_at_22_c() -> None:
    """Lai 2012: "at 22 °C liquid 5.1 min, paste 3.4 min, handling 8.5 min"."""
    cement = assessed({"room_temperature_c": 22.0, "cement_product": "reference-vp-pmma"}).procedure.cement
    assert cement.product.id == "reference-vp-pmma"
    assert [(p.start_min, p.end_min) for p in cement.phases] == [(0.0, 0.5), (0.5, 5.1), (5.1, 8.5), (8.5, 19.5)]


@pytest.mark.rule("cement.phases")
def test_the_phases_are_mixing_waiting_working_setting_without_gaps() -> None:
    """PALACOS IFU: "Phases: mixing → waiting (dough) → working → setting (hardening); working starts when the dough
    is tack-free (no longer sticks to gloves)"."""
    for temperature in (15.0, 18.5, 22.0, 27.0, 30.0):
        phases = cement_timeline(REFERENCE, temperature).phases
        assert [p.name for p in phases] == ["mixing", "waiting", "working", "setting"]
        assert phases[0].start_min == 0.0
        for earlier, later in itertools.pairwise(phases):
            assert later.start_min == earlier.end_min
        assert all(p.end_min > p.start_min for p in phases)


@pytest.mark.rule("cement.phases")
def test_the_assessment_lists_the_cement_rules() -> None:
    """PALACOS IFU: "Phases: mixing → waiting (dough) → working → setting (hardening)"."""
    rules = [r.id for r in assessed().procedure.rules]
    assert rules == ["procedure.room_time", "cement.phases", "cement.temperature", "cement.reference_product"]


# --- temperature --------------------------------------------------------------------------------


@pytest.mark.rule("cement.temperature")
@pytest.mark.parametrize("temperature", [26.0, 28.0, 30.0])
def test_warmer_rooms_shorten_every_phase(temperature: float) -> None:
    """Reference: "Temperature dependence (higher temperature → shorter times)"."""
    at_22 = durations(cement_timeline(REFERENCE, 22.0))
    warmer = durations(cement_timeline(REFERENCE, temperature))
    for name in ("mixing", "waiting", "working", "setting"):
        assert warmer[name] < at_22[name], name


@pytest.mark.rule("cement.temperature")
@pytest.mark.parametrize("temperature", [15.0, 20.0, 21.0, 23.0, 24.0, 30.0])
def test_every_phase_scales_by_the_same_exponential_factor(temperature: float) -> None:
    """Reference: "Temperature dependence (higher temperature → shorter times)"; SmartSet HV "534 s (8.9 min) at
    20 °C" and "28 °C → 381 s" give the per-degree factor."""
    factor = math.exp(-REFERENCE.k_per_c * (temperature - 22.0))
    expected_ends = [0.5 * factor, 5.1 * factor, 8.5 * factor, 19.5 * factor]
    ends = [p.end_min for p in cement_timeline(REFERENCE, temperature).phases]
    assert ends == pytest.approx(expected_ends, abs=0.051)
    assert (factor < 1.0) is (temperature > 22.0)


@pytest.mark.rule("cement.temperature")
@pytest.mark.parametrize("temperature", [15.0, 17.0, 18.0])
def test_colder_rooms_lengthen_every_phase(temperature: float) -> None:
    """Reference: "Temperature dependence (higher temperature → shorter times)"; "pre-cooled 4 °C components →
    handling 15.2 min"."""
    at_22 = durations(cement_timeline(REFERENCE, 22.0))
    colder = durations(cement_timeline(REFERENCE, temperature))
    for name in ("mixing", "waiting", "working", "setting"):
        assert colder[name] > at_22[name], name


@pytest.mark.rule("cement.temperature")
def test_the_temperature_coefficient_reproduces_smartset_hv() -> None:
    """SmartSet HV: "setting 534 s (8.9 min) at 20 °C"; "28 °C → 381 s"."""
    assert REFERENCE.k_per_c == pytest.approx(0.042, abs=0.0005)
    at_20 = cement_timeline(REFERENCE, 20.0)
    at_28 = cement_timeline(REFERENCE, 28.0)
    assert at_20.set_at_min / at_28.set_at_min == pytest.approx(534 / 381, rel=0.01)
    assert at_28.set_at_min == pytest.approx(19.5 * math.exp(-REFERENCE.k_per_c * 6.0), abs=0.05)
    assert at_28.set_at_min == 15.1


@pytest.mark.rule("cement.temperature")
@given(st.floats(15.0, 30.0), st.floats(15.0, 30.0))
def test_a_warmer_room_never_sets_later(a: float, b: float) -> None:
    """Reference: "Temperature dependence (higher temperature → shorter times)"."""
    cold, warm = sorted((a, b))
    assert cement_timeline(REFERENCE, warm).set_at_min <= cement_timeline(REFERENCE, cold).set_at_min


@pytest.mark.rule("cement.temperature")
def test_the_room_temperature_defaults_to_the_policy() -> None:
    """Reference: "Temperature dependence (higher temperature → shorter times)" — without a measured room temperature
    the clinic's usual one (21 °C) is used."""
    default = assessed().procedure.cement
    assert default.temperature_c == 21.0
    assert default.set_at_min == 20.3
    warm_clinic = assessed(policy=ClinicPolicy(room_temperature_c=24.0)).procedure.cement
    assert warm_clinic.temperature_c == 24.0
    assert warm_clinic.set_at_min < default.set_at_min


@pytest.mark.rule("cement.temperature")
@pytest.mark.parametrize("temperature", [14.9, 30.1, -5.0, 37.0])
def test_temperatures_outside_the_model_are_rejected(temperature: float) -> None:
    """SmartSet HV data "at 20 °C" to "28 °C": the model covers room temperatures 15-30 °C only."""
    with pytest.raises(ValueError, match="room_temperature_c"):
        cement_timeline(REFERENCE, temperature)


@pytest.mark.rule("cement.temperature")
def test_a_boolean_is_not_a_temperature() -> None:
    """SmartSet HV: "setting 534 s (8.9 min) at 20 °C" — a temperature is a number of degrees."""
    with pytest.raises(ValueError, match="room_temperature_c"):
        cement_timeline(REFERENCE, True)


@pytest.mark.parametrize("temperature", [15.0, 30.0])
def test_the_range_limits_are_accepted(temperature: float) -> None:
    assert cement_timeline(REFERENCE, temperature).temperature_c == temperature


@pytest.mark.parametrize("temperature", [14.0, 30.5])
def test_the_case_model_rejects_an_out_of_range_room_temperature(temperature: float) -> None:
    with pytest.raises(ValidationError) as caught:
        make_case({"room_temperature_c": temperature})
    assert [e["loc"] for e in caught.value.errors()] == [("room_temperature_c",)]
    assert "room_temperature_c" in str(caught.value)


def test_procedure_plan_rejects_an_unknown_product() -> None:
    with pytest.raises(ValueError, match="cement_product: unknown product 'Kyphon'"):
        procedure_plan((("L1",),), "Kyphon", 22.0, DEFAULT_POLICY)


def test_procedure_plan_rejects_an_out_of_range_policy_temperature() -> None:
    policy: Any = ClinicPolicy(room_temperature_c=35.0)
    with pytest.raises(ValueError, match="room_temperature_c"):
        procedure_plan((("L1",),), None, None, policy)
