"""Reading a Radiation Dose Structured Report (DICOM PS3.16 TID 10001 projection X-ray, TID 10011 CT) with pydicom.

The accumulated values are read from their concept codes wherever they sit in the content tree and converted to
the procedure record's units: kerma-area product to Gy·cm², reference-point air kerma to mGy, fluoroscopy time to
minutes, CTDIvol to mGy and dose-length product to mGy·cm. A total the report does not carry is summed from its
irradiation events when they carry it; otherwise it stays unknown (never zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydicom.dataset import Dataset

XRAY_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"
ENHANCED_XRAY_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.76"
DOSE_SR_CLASSES = (XRAY_DOSE_SR, ENHANCED_XRAY_DOSE_SR)

DAP_TOTAL = "113722"  # Dose Area Product Total
RP_DOSE_TOTAL = "113725"  # Dose (RP) Total
FLUORO_TIME_TOTAL = "113730"  # Total Fluoro Time
EVENT_DAP = "122130"  # Dose Area Product (one irradiation event)
EVENT_XRAY = "113706"  # Irradiation Event X-Ray Data
CT_ACQUISITION = "113819"  # CT Acquisition
CT_DLP_TOTAL = "113813"  # CT Dose Length Product Total
MEAN_CTDIVOL = "113830"  # Mean CTDIvol
EVENT_DLP = "113838"  # DLP

# UCUM unit -> factor to the record's unit, per quantity
_AREA_DOSE = {"Gy.m2": 10_000.0, "Gy.cm2": 1.0, "dGy.cm2": 0.1, "cGy.cm2": 0.01, "mGy.cm2": 0.001, "uGy.m2": 0.01}
_DOSE_MGY = {"Gy": 1000.0, "mGy": 1.0, "dGy": 100.0, "cGy": 10.0}
_TIME_MIN = {"s": 1 / 60, "min": 1.0, "ms": 1 / 60_000}
_DLP = {"mGy.cm": 1.0, "Gy.cm": 1000.0, "mGy.mm": 0.1}


class MalformedReport(ValueError):
    """The object is not a dose report we can read (missing identifiers, no content, unknown units)."""


@dataclass(frozen=True, slots=True)
class ReportedDose:
    """What one dose report says, in the procedure record's units, with the identifiers it was sent with."""

    sop_class_uid: str
    sop_instance_uid: str
    accession: str
    patient_id: str
    kind: str  # "xray" or "ct"
    events: int
    fluoroscopy_minutes: float | None
    dap_gy_cm2: float | None
    air_kerma_mgy: float | None
    ctdivol_mgy: float | None
    dlp_mgy_cm: float | None


def _walk(items: object) -> Iterator[Dataset]:
    for item in items or ():  # type: ignore[attr-defined]
        yield item
        if "ContentSequence" in item:
            yield from _walk(item.ContentSequence)


def _code(item: Dataset) -> str | None:
    if "ConceptNameCodeSequence" not in item or not item.ConceptNameCodeSequence:
        return None
    return str(item.ConceptNameCodeSequence[0].CodeValue)


def _number(item: Dataset, units: dict[str, float]) -> float:
    try:
        measured = item.MeasuredValueSequence[0]
        value = float(measured.NumericValue)
        unit = str(measured.MeasurementUnitsCodeSequence[0].CodeValue)
    except (AttributeError, IndexError, ValueError, TypeError) as error:
        raise MalformedReport(f"a numeric content item {_code(item)} has no readable value") from error
    if unit not in units:
        raise MalformedReport(f"content item {_code(item)}: unit {unit!r} is not one of {', '.join(units)}")
    if value < 0:
        raise MalformedReport(f"content item {_code(item)}: a negative dose")
    return value * units[unit]


def _required(dataset: Dataset, keyword: str) -> str:
    value = str(dataset.get(keyword, "") or "").strip()
    if not value:
        raise MalformedReport(f"{keyword} is missing")
    return value


def read_dose_report(dataset: Dataset) -> ReportedDose:
    """Read the identifiers and the accumulated dose of a dose report; raises :class:`MalformedReport`."""
    sop_class = _required(dataset, "SOPClassUID")
    if sop_class not in DOSE_SR_CLASSES:
        raise MalformedReport(f"SOP Class {sop_class} is not a radiation dose report")
    identifiers = {k: _required(dataset, k) for k in ("SOPInstanceUID", "AccessionNumber", "PatientID")}
    if "ContentSequence" not in dataset or not dataset.ContentSequence:
        raise MalformedReport("the report has no content")
    totals: dict[str, float] = {}
    event_dap: list[float] = []
    event_dlp: list[float] = []
    ctdivol: list[float] = []
    events = ct_events = 0
    for item in _walk(dataset.ContentSequence):
        code = _code(item)
        if code == EVENT_XRAY:
            events += 1
        elif code == CT_ACQUISITION:
            ct_events += 1
        elif code == DAP_TOTAL:
            totals["dap"] = totals.get("dap", 0.0) + _number(item, _AREA_DOSE)  # one total per plane: summed
        elif code == RP_DOSE_TOTAL:
            totals["rp"] = totals.get("rp", 0.0) + _number(item, _DOSE_MGY)
        elif code == FLUORO_TIME_TOTAL:
            totals["time"] = max(totals.get("time", 0.0), _number(item, _TIME_MIN))  # biplane: the same clock
        elif code == CT_DLP_TOTAL:
            totals["dlp"] = _number(item, _DLP)
        elif code == EVENT_DAP:
            event_dap.append(_number(item, _AREA_DOSE))
        elif code == EVENT_DLP:
            event_dlp.append(_number(item, _DLP))
        elif code == MEAN_CTDIVOL:
            ctdivol.append(_number(item, _DOSE_MGY))
    dap = totals.get("dap", sum(event_dap) if event_dap else None)
    dlp = totals.get("dlp", sum(event_dlp) if event_dlp else None)
    ct = ct_events > 0 or "dlp" in totals
    values = (totals.get("time"), dap, totals.get("rp"), max(ctdivol) if ctdivol else None, dlp)
    if all(v is None for v in values):
        raise MalformedReport("the report carries no dose value")
    return ReportedDose(
        sop_class_uid=sop_class,
        sop_instance_uid=identifiers["SOPInstanceUID"],
        accession=identifiers["AccessionNumber"],
        patient_id=identifiers["PatientID"],
        kind="ct" if ct else "xray",
        events=events + ct_events,
        fluoroscopy_minutes=None if values[0] is None else round(values[0], 3),
        dap_gy_cm2=None if dap is None else round(dap, 4),
        air_kerma_mgy=None if values[2] is None else round(values[2], 3),
        ctdivol_mgy=None if values[3] is None else round(values[3], 3),
        dlp_mgy_cm=None if dlp is None else round(dlp, 3),
    )
