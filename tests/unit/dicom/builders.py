"""Dose reports built with pydicom, as a C-arm or a CT scanner would write them (TID 10001 / 10011)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from vertebro.dicom.sr import XRAY_DOSE_SR


def code(value: str, meaning: str, scheme: str = "DCM") -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def num(concept: str, meaning: str, value: float, unit: str, unit_meaning: str) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "NUM"
    item.ConceptNameCodeSequence = [code(concept, meaning)]
    measured = Dataset()
    measured.NumericValue = f"{value:.6g}"
    measured.MeasurementUnitsCodeSequence = [code(unit, unit_meaning, "UCUM")]
    item.MeasuredValueSequence = [measured]
    return item


def container(concept: str, meaning: str, children: list[Dataset]) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "CONTAINER"
    item.ConceptNameCodeSequence = [code(concept, meaning)]
    item.ContinuityOfContent = "SEPARATE"
    item.ContentSequence = children
    return item


def xray_dose_report(
    *,
    accession: str,
    patient_id: str,
    patient_name: str = "Example^Ada",
    dap_gy_m2: float | None = 0.0023,  # 23 Gy·cm²
    rp_dose_gy: float | None = 0.12,  # 120 mGy
    fluoro_s: float | None = 330.0,  # 5.5 min
    events: int = 2,
    ct: bool = False,
    uid: str | None = None,
) -> Dataset:
    """A complete X-Ray Radiation Dose SR (a CT one with ``ct=True``: one CT acquisition, CTDIvol and DLP)."""
    now = dt.datetime(2026, 12, 1, 9, 30)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = XRAY_DOSE_SR
    ds.SOPInstanceUID = uid or generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = generate_uid(entropy_srcs=["vertebro-tests"])
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19470314"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = generate_uid()
    ds.StudyDate = now.strftime("%Y%m%d")
    ds.StudyTime = now.strftime("%H%M%S")
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.AccessionNumber = accession
    ds.Modality = "SR"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 900
    ds.ReferencedPerformedProcedureStepSequence = []
    ds.Manufacturer = "Test Imaging"
    ds.ManufacturerModelName = "C-arm 1"
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = "1.0"
    ds.InstanceNumber = 1
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.PerformedProcedureCodeSequence = []
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [code("113701", "X-Ray Radiation Dose Report")]
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "10011" if ct else "10001"
    ds.ContentTemplateSequence = [template]
    content: list[Dataset] = []
    if ct:
        content.append(
            container(
                "113811",
                "CT Accumulated Dose Data",
                [num("113813", "CT Dose Length Product Total", 412.5, "mGy.cm", "mGy.cm")],
            )
        )
        dose = container(
            "113829",
            "CT Dose",
            [
                num("113830", "Mean CTDIvol", 18.75, "mGy", "mGy"),
                num("113838", "DLP", 412.5, "mGy.cm", "mGy.cm"),
            ],
        )
        content.append(container("113819", "CT Acquisition", [dose]))
    else:
        totals = []
        if dap_gy_m2 is not None:
            totals.append(num("113722", "Dose Area Product Total", dap_gy_m2, "Gy.m2", "Gy.m2"))
        if rp_dose_gy is not None:
            totals.append(num("113725", "Dose (RP) Total", rp_dose_gy, "Gy", "Gy"))
        if fluoro_s is not None:
            totals.append(num("113730", "Total Fluoro Time", fluoro_s, "s", "s"))
        content.append(container("113702", "Accumulated X-Ray Dose Data", totals))
        for _ in range(events):
            event = [num("122130", "Dose Area Product", (dap_gy_m2 or 0.0) / max(events, 1), "Gy.m2", "Gy.m2")]
            content.append(container("113706", "Irradiation Event X-Ray Data", event))
    ds.ContentSequence = content
    return ds


def write(ds: Dataset, folder: Path, name: str = "dose.dcm") -> Path:
    """Write a dataset as a DICOM Part 10 file and return its path."""
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    return path
