"""Radiation dose reports sent by dcmtk's ``storescu`` (SQLite and PostgreSQL): a report built with pydicom and
validated by dicom3tools' ``dciodvfy`` is stored with its procedure; a malformed report, an unknown accession
number, another patient's report and a duplicate get a failure status and a log line, and change nothing."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.dicom.conftest import MODALITY, Booked
from tests.unit.dicom.builders import write, xray_dose_report
from vertebro.dicom import service
from vertebro.dicom.settings import DicomSettings
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, DoseReport


def storescu(settings: DicomSettings, path: Path) -> str:
    """Send one file with storescu; return its verbose output (which names the response status)."""
    run = subprocess.run(
        ["storescu", "-v", "-aet", MODALITY, "-aec", settings.ae_title, settings.host, str(settings.port), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return run.stdout + run.stderr


def dciodvfy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60, check=False)


def reports(session_factory: sessionmaker[Session], case_id: int | None = None) -> list[tuple[str, float | None]]:
    with session_factory() as session:
        statement = select(DoseReport).order_by(DoseReport.id)
        if case_id is not None:
            statement = statement.where(DoseReport.case_id == case_id)
        return [(r.sop_instance_uid, r.dap_gy_cm2) for r in session.scalars(statement)]


@pytest.mark.parametrize("ct", [False, True], ids=["fluoroscopy", "ct"])
def test_the_dose_report_fixtures_are_valid_dicom(tmp_path: Path, ct: bool) -> None:
    path = write(xray_dose_report(accession="VB0000000001", patient_id="MRN-1", ct=ct), tmp_path)
    run = dciodvfy(path)
    assert run.returncode == 0, run.stderr
    assert "Error" not in run.stdout + run.stderr


def test_a_dose_report_is_stored_with_its_procedure_and_audited(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-RD-1")
    ds = xray_dose_report(accession=booked.accession, patient_id=booked.identifier)
    output = storescu(scp, write(ds, tmp_path))
    assert "Received Store Response (Success)" in output, output
    assert reports(session_factory, booked.case_id) == [(ds.SOPInstanceUID, 23.0)]
    with UnitOfWork(session_factory) as uow:
        report = service.modality_report(uow, booked.case_id)
        created = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.patient_id == booked.patient_id, AuditEntry.entity_type == "dose_report"
            )
        ).all()
    assert report is not None
    assert report.dose.dap_gy_cm2 == pytest.approx(23.0)
    assert report.dose.air_kerma_mgy == pytest.approx(120.0)
    assert report.dose.fluoroscopy_minutes == pytest.approx(5.5)
    assert report.dose_source == "dose report (1)"
    assert [(a.actor, a.action) for a in created] == [(MODALITY, "create")]


def test_a_ct_dose_report_brings_ctdivol_and_dlp(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-RD-2", room="Room 2")
    ds = xray_dose_report(accession=booked.accession, patient_id=booked.identifier, ct=True)
    assert "Received Store Response (Success)" in storescu(scp, write(ds, tmp_path))
    with UnitOfWork(session_factory) as uow:
        report = service.modality_report(uow, booked.case_id)
    assert report is not None
    assert (report.dose.ctdivol_mgy, report.dose.dlp_mgy_cm) == (18.75, 412.5)


def _malformed(booked: Booked) -> Dataset:
    ds = xray_dose_report(accession=booked.accession, patient_id=booked.identifier)
    ds.ContentSequence = []
    return ds


@pytest.mark.parametrize(
    ("label", "build", "status"),
    [
        ("malformed", _malformed, "0xc000"),
        (
            "unknown accession",
            lambda b: xray_dose_report(accession="VB9999999999", patient_id=b.identifier),
            "0xc001",
        ),
        (
            "another patient",
            lambda b: xray_dose_report(accession=b.accession, patient_id="MRN-SOMEONE-ELSE"),
            "0xc002",
        ),
    ],
)
def test_a_report_that_cannot_be_placed_gets_a_failure_and_a_log_line(
    scp: DicomSettings,
    book: Callable[..., Booked],
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    label: str,
    build: Callable[[Booked], Dataset],
    status: str,
) -> None:
    booked = book("MRN-RD-3")
    before = reports(session_factory)
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        output = storescu(scp, write(build(booked), tmp_path))
    assert "Received Store Response (Error: CannotUnderstand)" in output, (label, output)
    assert reports(session_factory) == before
    assert any(f"refused ({status.upper().replace('0X', '0x')})" in r.getMessage() for r in caplog.records), label


def test_a_duplicate_report_is_refused_and_the_stored_one_is_unchanged(
    scp: DicomSettings,
    book: Callable[..., Booked],
    tmp_path: Path,
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    booked = book("MRN-RD-4")
    first = xray_dose_report(accession=booked.accession, patient_id=booked.identifier)
    assert "Received Store Response (Success)" in storescu(scp, write(first, tmp_path, "first.dcm"))
    again = xray_dose_report(
        accession=booked.accession, patient_id=booked.identifier, dap_gy_m2=0.09, uid=first.SOPInstanceUID
    )
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        output = storescu(scp, write(again, tmp_path, "again.dcm"))
    assert "Received Store Response (Error: CannotUnderstand)" in output, output
    assert reports(session_factory, booked.case_id) == [(first.SOPInstanceUID, 23.0)]
    assert any("(0xC003)" in r.getMessage() and "stored already" in r.getMessage() for r in caplog.records)


def test_a_dose_report_for_a_cancelled_booking_is_still_recorded(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    """The dose was given whatever happened to the booking afterwards: it is recorded, never dropped."""
    booked = book("MRN-RD-5", status="cancelled")
    ds = xray_dose_report(accession=booked.accession, patient_id=booked.identifier)
    assert "Received Store Response (Success)" in storescu(scp, write(ds, tmp_path))
    assert reports(session_factory, booked.case_id) == [(ds.SOPInstanceUID, 23.0)]
