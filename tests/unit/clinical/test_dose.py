"""A procedure's radiation dose against the substantial radiation dose level and the reference levels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.dose import DoseValues, Threshold, dose_figures, local_reference_level, review_dose

DOSE = st.floats(min_value=0, max_value=20_000, allow_nan=False)


@pytest.mark.rule("dose.substantial-radiation-dose")
def test_follow_up_above_5_gy_500_gy_cm2_or_60_minutes() -> None:
    """NCRP Report 168 and SIR/CIRSE 2009 name a "substantial radiation dose level" (SRDL) of fluoroscopy-guided
    procedures (wording and values not checked in the primary documents here: the rule is unverified), at a reference air kerma of 5 Gy, a kerma-area product of 500 Gy·cm² or 60 minutes of
    fluoroscopy: above it, the patient is told and followed up."""
    assert not review_dose(DoseValues(air_kerma_mgy=5000, dap_gy_cm2=500, fluoroscopy_minutes=60)).follow_up_needed
    for over in (
        DoseValues(air_kerma_mgy=5000.1),
        DoseValues(dap_gy_cm2=500.5),
        DoseValues(fluoroscopy_minutes=61),
    ):
        review = review_dose(over)
        assert review.follow_up_needed
        assert any("above" in c.text for c in review.follow_up)
    assert review_dose(DoseValues()).recorded is False


@pytest.mark.rule("dose.substantial-radiation-dose")
@given(DOSE, DOSE, st.floats(min_value=0, max_value=300, allow_nan=False))
def test_follow_up_is_needed_exactly_when_a_threshold_is_exceeded(kerma: float, dap: float, minutes: float) -> None:
    """A threshold is exceeded only when strictly above the SRDL (reference air kerma 5 Gy, kerma-area product
    500 Gy·cm², fluoroscopy time 60 min)."""
    review = review_dose(DoseValues(air_kerma_mgy=kerma, dap_gy_cm2=dap, fluoroscopy_minutes=minutes))
    assert review.follow_up_needed == (kerma > 5000 or dap > 500 or minutes > 60)


@pytest.mark.rule("dose.reference-level")
def test_a_dose_above_a_reference_level_asks_for_a_review_not_a_follow_up() -> None:
    """A "diagnostic reference level" (ASN decision 2019-DC-0667, France 2019; its table not read here) is the 75th
    percentile of a dose survey for one procedure (national with its
    country and year, or local); a dose above it calls for a review of the technique, not patient follow-up."""
    local = (Threshold("dap_gy_cm2", 40.0, "asn-2019-dc-0667", country="local", year=2026),)
    review = review_dose(DoseValues(dap_gy_cm2=55.0), reference_levels=local)
    assert [c.threshold.quantity for c in review.above_reference] == ["dap_gy_cm2"]
    assert not review.follow_up_needed
    assert "above 40 Gy·cm² (local 2026)" in review.reference[0].text
    # the national level whose value was not read is listed, never compared
    national = review_dose(DoseValues(dap_gy_cm2=55.0))
    assert national.above_reference == ()
    assert all("not confirmed" in c.text for c in national.reference)
    assert review_dose(DoseValues(dap_gy_cm2=55.0), technique="kyphoplasty").reference == ()


@pytest.mark.rule("dose.reference-level")
@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=10, max_size=200))
def test_a_local_reference_level_is_the_75th_percentile(doses: list[float]) -> None:
    """Local reference levels are set at the 75th percentile of the procedures' doses."""
    level = local_reference_level(doses)
    assert level is not None
    below = sum(1 for d in doses if d <= level)
    assert below >= 0.75 * (len(doses) - 1)
    assert min(doses) <= level <= max(doses)
    assert local_reference_level(doses[:9]) is None


@pytest.mark.rule("dose.reference-level")
def test_dose_figures_per_operator_and_for_the_service() -> None:
    """A local "diagnostic reference level" is the 75th percentile of the service's doses; the figures per operator
    show who sits above it."""
    rows = [("dr.a", float(v)) for v in range(1, 12)] + [("dr.b", 100.0), ("dr.b", None)]
    figures = {f.group: f for f in dose_figures(rows, "dap_gy_cm2")}
    assert figures["dr.a"].procedures == 11
    assert figures["dr.a"].median == 6.0
    assert figures["dr.a"].p75 == 8.5
    assert (figures["dr.b"].procedures, figures["dr.b"].median, figures["dr.b"].p75) == (1, 100.0, None)
    assert figures["all"].procedures == 12
    assert figures["all"].p75 == local_reference_level([float(v) for v in range(1, 12)] + [100.0])
