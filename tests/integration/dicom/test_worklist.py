"""The Modality Worklist, queried by dcmtk's ``findscu`` (a client nobody here wrote) on SQLite and PostgreSQL:
booked procedures are scheduled steps with the right patient, matching follows the keys modalities send, every
answer is audited as a read of each patient shown, and an unknown AE title is rejected and logged."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.dicom.conftest import BOOKED_AT, MODALITY, STRANGER, Booked
from vertebro.dicom.settings import DicomSettings
from vertebro.store.models import AuditEntry

KEYS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
    "RequestedProcedureDescription",
    "StudyInstanceUID",
    "ScheduledProcedureStepSequence[0].ScheduledStationAETitle",
    "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime",
    "ScheduledProcedureStepSequence[0].ScheduledPerformingPhysicianName",
)


def findscu(
    settings: DicomSettings, folder: Path, *matching: str, calling: str = MODALITY, extra: Sequence[str] = ()
) -> tuple[list[pydicom.Dataset], subprocess.CompletedProcess[str]]:
    """Query the worklist with findscu; return the responses it extracted (sorted by accession) and the run."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = dict.fromkeys(KEYS, "")
    defaults = {
        "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate": "",
        "ScheduledProcedureStepSequence[0].Modality": "",
    }
    keys.update(defaults)
    for key in matching:
        name, _, value = key.partition("=")
        keys[name] = value
    arguments = ["findscu", "-v", "-W", "-X", "-od", str(folder), "-aet", calling, "-aec", settings.ae_title]
    for name, value in keys.items():
        arguments += ["-k", f"{name}={value}" if value else name]
    arguments += [*extra, settings.host, str(settings.port)]
    run = subprocess.run(arguments, capture_output=True, text=True, timeout=60, check=False)
    responses = [pydicom.dcmread(path) for path in sorted(folder.glob("rsp*.dcm"))]
    return sorted(responses, key=lambda ds: str(ds.AccessionNumber)), run


def test_a_booked_procedure_is_a_scheduled_step_with_its_patient(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path
) -> None:
    booked = book("MRN-WL-1", name="Ada Lovelace")
    responses, run = findscu(
        scp, tmp_path, "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20261201"
    )
    assert run.returncode == 0, run.stderr
    assert len(responses) == 1
    item = responses[0]
    assert str(item.PatientName) == "Lovelace^Ada"
    assert item.PatientID == "MRN-WL-1"
    assert item.PatientBirthDate == "19470314"
    assert item.PatientSex == "F"
    assert item.AccessionNumber == booked.accession
    assert "T12, L1" in item.RequestedProcedureDescription
    step = item.ScheduledProcedureStepSequence[0]
    assert step.ScheduledStationAETitle == "ROOM1"
    assert step.ScheduledProcedureStepStartDate == "20261201"
    assert step.ScheduledProcedureStepStartTime == "090000"
    assert step.Modality == "RF"


def test_the_worklist_answers_while_the_server_process_holds_over_a_thousand_descriptors(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path
) -> None:
    """pynetdicom's own socket asks ``select``, which refuses descriptors above 1023: a busy server process (a
    database pool, logs, other associations) aborted every association after the modality's request. The
    server's sockets are polled instead (vertebro.dicom.transport)."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        booked = book("MRN-WL-FD")
        responses, run = findscu(scp, tmp_path, "PatientID=MRN-WL-FD")
    finally:
        for descriptor in held:
            os.close(descriptor)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [item.AccessionNumber for item in responses] == [booked.accession]


def test_the_accession_number_and_study_are_stable_across_queries(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path
) -> None:
    book("MRN-WL-2")
    first, _ = findscu(scp, tmp_path / "a", "PatientID=MRN-WL-2")
    second, _ = findscu(scp, tmp_path / "b", "PatientID=MRN-WL-2")
    assert [(r.AccessionNumber, r.StudyInstanceUID) for r in first] == [
        (r.AccessionNumber, r.StudyInstanceUID) for r in second
    ]
    assert len(first) == 1


def test_matching_on_date_ranges_modality_station_id_and_name_wildcards(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path
) -> None:
    a = book("MRN-WL-3", name="Ada Lovelace")
    b = book("MRN-WL-4", name="Grace Hopper", starts_at=BOOKED_AT + dt.timedelta(days=3), room="Room 2")
    c = book("MRN-WL-5", name="Alan Turing", starts_at=BOOKED_AT + dt.timedelta(days=10))
    step = "ScheduledProcedureStepSequence[0]."
    cases = {
        "range": ([f"{step}ScheduledProcedureStepStartDate=20261201-20261205"], {a.accession, b.accession}),
        "open range": ([f"{step}ScheduledProcedureStepStartDate=20261204-"], {b.accession, c.accession}),
        "station": ([f"{step}ScheduledStationAETitle=ROOM2"], {b.accession}),
        "modality CT": ([f"{step}Modality=CT"], set()),
        "modality RF": ([f"{step}Modality=RF", "PatientID=MRN-WL-3"], {a.accession}),
        "name wildcard": (["PatientName=hop*"], {b.accession}),
        "name one char": (["PatientName=Lovelac?^Ada"], {a.accession}),
        "id wildcard": (["PatientID=MRN-WL-?"], {a.accession, b.accession, c.accession}),
    }
    for label, (keys, expected) in cases.items():
        responses, run = findscu(scp, tmp_path / label.replace(" ", "-"), *keys)
        assert run.returncode == 0, (label, run.stderr)
        got = {str(r.AccessionNumber) for r in responses}
        assert got == expected, label


def test_a_cancelled_booking_is_not_on_the_worklist(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path
) -> None:
    book("MRN-WL-6", status="cancelled")
    responses, run = findscu(scp, tmp_path, "PatientID=MRN-WL-6")
    assert run.returncode == 0
    assert responses == []


def test_every_answer_is_audited_as_a_read_by_the_calling_ae_title(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    booked = book("MRN-WL-7")
    responses, _ = findscu(scp, tmp_path, "PatientID=MRN-WL-7")
    assert len(responses) == 1
    with session_factory() as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.patient_id == booked.patient_id, AuditEntry.action == "read")
        ).all()
    assert [(r.actor, r.detail["via"]) for r in reads] == [(MODALITY, "dicom-mwl")]


def test_an_unknown_ae_title_is_rejected_at_association_and_logged(
    scp: DicomSettings,
    book: Callable[..., Booked],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    session_factory: sessionmaker[Session],
) -> None:
    booked = book("MRN-WL-8")
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        responses, run = findscu(scp, tmp_path, "PatientID=MRN-WL-8", calling=STRANGER)
    assert responses == []
    assert "Association Rejected" in run.stdout + run.stderr or run.returncode != 0
    assert any(STRANGER in record.getMessage() and "rejected" in record.getMessage() for record in caplog.records)
    with session_factory() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.patient_id == booked.patient_id)).all()
    assert all(r.action != "read" for r in reads)


def test_an_unreadable_date_key_gets_a_failure_status_and_a_log_line(
    scp: DicomSettings, book: Callable[..., Booked], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    book("MRN-WL-9")
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        responses, run = findscu(
            scp, tmp_path, "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=2026-12"
        )
    assert responses == []
    assert "Final Find Response (Error: DataSetDoesNotMatchSOPClass)" in run.stdout + run.stderr
    assert any("refused" in record.getMessage() for record in caplog.records)
