"""Reading dose reports: units converted to the record's, totals preferred, nothing invented."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dicom.builders import num, xray_dose_report
from vertebro.dicom.sr import MalformedReport, read_dose_report


@given(
    st.floats(min_value=0, max_value=0.1, allow_nan=False),
    st.floats(min_value=0, max_value=10, allow_nan=False),
    st.floats(min_value=0, max_value=7200, allow_nan=False),
)
def test_units_become_gy_cm2_mgy_and_minutes(dap_gy_m2: float, rp_gy: float, seconds: float) -> None:
    reported = read_dose_report(
        xray_dose_report(accession="VB1", patient_id="P", dap_gy_m2=dap_gy_m2, rp_dose_gy=rp_gy, fluoro_s=seconds)
    )
    assert reported.dap_gy_cm2 == pytest.approx(float(f"{dap_gy_m2:.6g}") * 10_000, abs=1e-3)
    assert reported.air_kerma_mgy == pytest.approx(float(f"{rp_gy:.6g}") * 1000, abs=1e-2)
    assert reported.fluoroscopy_minutes == pytest.approx(float(f"{seconds:.6g}") / 60, abs=1e-2)
    assert reported.kind == "xray"


def test_a_missing_total_is_summed_from_the_events_and_an_absent_value_stays_unknown() -> None:
    reported = read_dose_report(xray_dose_report(accession="VB1", patient_id="P", dap_gy_m2=None, rp_dose_gy=None))
    assert reported.dap_gy_cm2 == 0.0  # events carry 0 when no total: the builder's events are DAP/n
    assert reported.air_kerma_mgy is None


@pytest.mark.parametrize("missing", ["AccessionNumber", "PatientID", "SOPInstanceUID", "ContentSequence"])
def test_a_report_without_its_identifiers_or_content_is_malformed(missing: str) -> None:
    ds = xray_dose_report(accession="VB1", patient_id="P")
    delattr(ds, missing)
    with pytest.raises(MalformedReport):
        read_dose_report(ds)


def test_an_unknown_unit_or_a_negative_dose_is_malformed() -> None:
    ds = xray_dose_report(accession="VB1", patient_id="P")
    ds.ContentSequence[0].ContentSequence = [num("113722", "Dose Area Product Total", 1.0, "R", "roentgen")]
    with pytest.raises(MalformedReport, match="unit"):
        read_dose_report(ds)
    ds.ContentSequence[0].ContentSequence = [num("113722", "Dose Area Product Total", -1.0, "Gy.m2", "Gy.m2")]
    with pytest.raises(MalformedReport, match="negative"):
        read_dose_report(ds)


def test_another_sop_class_is_not_a_dose_report() -> None:
    ds = xray_dose_report(accession="VB1", patient_id="P")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    with pytest.raises(MalformedReport, match="not a radiation dose report"):
        read_dose_report(ds)
