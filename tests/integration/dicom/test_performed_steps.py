"""Modality Performed Procedure Step, exercised with pynetdicom as the modality (SQLite and PostgreSQL): "in
progress" is stored and never moves the pathway, "completed" brings times and dose for the record's draft, and
bad input (unknown accession, another patient, a duplicate, a finished step) gets a failure status, a log line
and changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.sop_class import ModalityPerformedProcedureStep  # type: ignore[attr-defined]
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.dicom.conftest import MODALITY, Booked
from vertebro.dicom import service
from vertebro.dicom.settings import DicomSettings
from vertebro.store.db import UnitOfWork
from vertebro.store.models import CaseWorkflow, ModalityStep


@contextmanager
def modality(settings: DicomSettings, calling: str = MODALITY) -> Iterator[Association]:
    ae = AE(ae_title=calling)
    ae.add_requested_context(ModalityPerformedProcedureStep)
    assoc = ae.associate(settings.host, settings.port, ae_title=settings.ae_title)
    assert assoc.is_established
    try:
        yield assoc
    finally:
        assoc.release()


def in_progress(booked: Booked, *, patient_id: str | None = None, accession: str | None = None) -> Dataset:
    ds = Dataset()
    attributes = Dataset()
    attributes.AccessionNumber = accession or booked.accession
    attributes.StudyInstanceUID = generate_uid()
    ds.ScheduledStepAttributesSequence = [attributes]
    ds.PatientID = patient_id or booked.identifier
    ds.PatientName = "Example^Ada"
    ds.PerformedProcedureStepID = "1"
    ds.PerformedStationAETitle = MODALITY
    ds.PerformedProcedureStepStartDate = "20261201"
    ds.PerformedProcedureStepStartTime = "091500"
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.Modality = "RF"
    return ds


def completed(status: str = "COMPLETED") -> Dataset:
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = "20261201"
    ds.PerformedProcedureStepEndTime = "100500"
    ds.TotalTimeOfFluoroscopy = 390  # seconds
    ds.ImageAndFluoroscopyAreaDoseProduct = "184.0"  # dGy·cm²
    return ds


def create(settings: DicomSettings, ds: Dataset, uid: str) -> int:
    with modality(settings) as assoc:
        status, _ = assoc.send_n_create(ds, ModalityPerformedProcedureStep, uid)
    return int(status.Status)


def update(settings: DicomSettings, ds: Dataset, uid: str) -> int:
    with modality(settings) as assoc:
        status, _ = assoc.send_n_set(ds, ModalityPerformedProcedureStep, uid)
    return int(status.Status)


def steps(session_factory: sessionmaker[Session], case_id: int) -> list[dict[str, Any]]:
    with session_factory() as session:
        rows = session.scalars(select(ModalityStep).where(ModalityStep.case_id == case_id)).all()
        return [
            {k: getattr(r, k) for k in ("sop_instance_uid", "status", "fluoroscopy_minutes", "dap_gy_cm2")}
            for r in rows
        ]


def state(session_factory: sessionmaker[Session], case_id: int) -> str | None:
    with session_factory() as session:
        return session.scalar(select(CaseWorkflow.state).where(CaseWorkflow.case_id == case_id))


def test_in_progress_is_stored_and_never_moves_the_pathway(
    scp: DicomSettings, book: Callable[..., Booked], session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-PPS-1")
    before = state(session_factory, booked.case_id)
    uid = generate_uid()
    assert create(scp, in_progress(booked), uid) == 0x0000
    assert steps(session_factory, booked.case_id) == [
        {"sop_instance_uid": uid, "status": "IN PROGRESS", "fluoroscopy_minutes": None, "dap_gy_cm2": None}
    ]
    assert state(session_factory, booked.case_id) == before
    with UnitOfWork(session_factory) as uow:
        report = service.modality_report(uow, booked.case_id)
    assert report is not None
    assert report.status == "IN PROGRESS"
    assert report.dose.empty


def test_completed_brings_the_times_and_dose_for_the_record(
    scp: DicomSettings, book: Callable[..., Booked], session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-PPS-2")
    uid = generate_uid()
    assert create(scp, in_progress(booked), uid) == 0x0000
    assert update(scp, completed(), uid) == 0x0000
    with UnitOfWork(session_factory) as uow:
        report = service.modality_report(uow, booked.case_id)
    assert report is not None
    assert report.status == "COMPLETED"
    assert report.dose.fluoroscopy_minutes == pytest.approx(6.5)
    assert report.dose.dap_gy_cm2 == pytest.approx(18.4)
    assert report.dose_source == "performed procedure step"
    assert report.started_at is not None
    assert report.ended_at is not None
    assert (report.ended_at - report.started_at).total_seconds() == 50 * 60


@pytest.mark.parametrize(
    ("label", "changes", "status"),
    [
        ("unknown accession", {"accession": "VB9999999999"}, 0x0106),
        ("not our accession", {"accession": "ACC-123"}, 0x0106),
        ("another patient", {"patient_id": "MRN-SOMEONE-ELSE"}, 0x0106),
    ],
)
def test_a_step_for_an_unknown_booking_or_another_patient_is_refused_and_logged(
    scp: DicomSettings,
    book: Callable[..., Booked],
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    label: str,
    changes: dict[str, str],
    status: int,
) -> None:
    booked = book("MRN-PPS-3")
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        assert create(scp, in_progress(booked, **changes), generate_uid()) == status, label
    assert steps(session_factory, booked.case_id) == []
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_a_duplicate_step_and_an_update_after_completion_change_nothing(
    scp: DicomSettings,
    book: Callable[..., Booked],
    session_factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    booked = book("MRN-PPS-4")
    uid = generate_uid()
    assert create(scp, in_progress(booked), uid) == 0x0000
    assert update(scp, completed(), uid) == 0x0000
    stored = steps(session_factory, booked.case_id)
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        assert create(scp, in_progress(booked), uid) == 0x0111
        later = completed("DISCONTINUED")
        later.TotalTimeOfFluoroscopy = 9999
        assert update(scp, later, uid) == 0x0110
        assert update(scp, completed(), generate_uid()) == 0x0112
    assert steps(session_factory, booked.case_id) == stored
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 3


def test_a_malformed_step_is_refused(
    scp: DicomSettings, book: Callable[..., Booked], session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-PPS-5")
    no_accession = in_progress(booked)
    del no_accession.ScheduledStepAttributesSequence
    assert create(scp, no_accession, generate_uid()) == 0x0120
    bad_status = in_progress(booked)
    bad_status.PerformedProcedureStepStatus = "COMPLETED"
    assert create(scp, bad_status, generate_uid()) == 0x0106
    uid = generate_uid()
    assert create(scp, in_progress(booked), uid) == 0x0000
    no_end = Dataset()
    no_end.PerformedProcedureStepStatus = "COMPLETED"
    assert update(scp, no_end, uid) == 0x0120
    assert [s["status"] for s in steps(session_factory, booked.case_id)] == ["IN PROGRESS"]


def test_a_step_for_a_cancelled_booking_is_refused(
    scp: DicomSettings, book: Callable[..., Booked], session_factory: sessionmaker[Session]
) -> None:
    """A modality that kept a cancelled booking on its list cannot start it: the patient may not be prepared."""
    booked = book("MRN-PPS-6", status="cancelled")
    assert create(scp, in_progress(booked), generate_uid()) == 0x0106
    assert steps(session_factory, booked.case_id) == []
