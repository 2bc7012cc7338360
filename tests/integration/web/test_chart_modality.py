"""The chart and the documents with what the procedure room's modality reported over DICOM (decision 0023): the
procedure form offers the modality's times and dose marked "from the modality" until the radiologist saves them,
never replaces what a person typed, and a dose above the substantial radiation dose level shows on the chart, the
report and the discharge sheet."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import submit
from tests.integration.web.test_care_forms import in_the_room, state_of
from tests.unit.dicom.builders import xray_dose_report
from vertebro.dicom import matching, service
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, Patient, ProcedureRecord

R = Role.RADIOLOGIST
CARM = "CARM1"


def booked_in_the_room(session_factory: sessionmaker[Session], case_id: int, started: dt.datetime) -> tuple[int, str]:
    """Book the case, put it in the room; return the patient id and the booking's accession number."""
    patient_id = in_the_room(session_factory, case_id, started.astimezone().date())
    with UnitOfWork(session_factory) as uow:
        booking = Booking(
            case_id=case_id,
            room="Room 1",
            starts_at=started,
            ends_at=started + dt.timedelta(hours=1),
            status="booked",
            booked_by="test",
        )
        uow.session.add(booking)
        uow.session.flush()
        accession = matching.accession_number(booking.id)
        uow.commit()
    return patient_id, accession


def modality_reports(
    session_factory: sessionmaker[Session], accession: str, identifier: str, started: dt.datetime, dap_gy_m2: float
) -> None:
    """What a C-arm sends: MPPS in progress, then completed with the times, then its dose report."""
    local = started.astimezone()
    end = local + dt.timedelta(minutes=35)
    create = Dataset()
    attributes = Dataset()
    attributes.AccessionNumber = accession
    create.ScheduledStepAttributesSequence = [attributes]
    create.PatientID = identifier
    create.PerformedProcedureStepStatus = "IN PROGRESS"
    create.PerformedProcedureStepStartDate = local.strftime("%Y%m%d")
    create.PerformedProcedureStepStartTime = local.strftime("%H%M%S")
    done = Dataset()
    done.PerformedProcedureStepStatus = "COMPLETED"
    done.PerformedProcedureStepEndDate = end.strftime("%Y%m%d")
    done.PerformedProcedureStepEndTime = end.strftime("%H%M%S")
    uid = generate_uid()
    with UnitOfWork(session_factory) as uow:
        service.create_step(uow, create, sop_instance_uid=uid, calling_ae=CARM, source="test")
        service.update_step(uow, uid, done, calling_ae=CARM, source="test")
        report = xray_dose_report(accession=accession, patient_id=identifier, dap_gy_m2=dap_gy_m2, fluoro_s=420)
        service.store_dose_report(uow, report, calling_ae=CARM, source="test")
        uow.commit()


def identifier_of(session_factory: sessionmaker[Session], patient_id: int) -> str:
    with session_factory() as session:
        return str(session.scalar(select(Patient.identifier).where(Patient.id == patient_id)))


def pdf_text(client: TestClient, patient_id: int, kind: str) -> str:
    response = client.get(f"/patients/{patient_id}/documents/{kind}")
    assert response.status_code == 200, response.text[:300]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_modality_values_are_offered_then_confirmed_by_signing(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("DCM-1")
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    patient_id, accession = booked_in_the_room(session_factory, case_id, started)
    modality_reports(session_factory, accession, identifier_of(session_factory, patient_id), started, 0.0023)
    chart, action = f"/patients/{patient_id}", f"/cases/{case_id}/procedure"
    radiologist = signed_in(R)
    radiologist.headers.pop("X-CSRF-Token", None)

    page = radiologist.get(chart).text
    assert "The modality reports the procedure completed" in page
    assert "Dose from the modality (dose report (1))" in page
    assert "Not part of the record until the radiologist confirms it" in page
    assert 'name="dap_gy_cm2" inputmode="decimal" value="23"' in page
    assert 'name="fluoroscopy_minutes" inputmode="decimal" value="7"' in page
    assert page.count("from the modality: confirm") >= 4  # both times and the three doses
    with session_factory() as session:
        assert session.scalar(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)) is None

    # The radiologist types the fluoroscopy time the room's log shows; the modality's stays offered elsewhere.
    signed = submit(
        radiologist,
        chart,
        action,
        {
            "L1.cement_product": "Reference PMMA",
            "L1.cement_volume_ml": "4",
            "fluoroscopy_minutes": "6.5",
            "technique": "vertebroplasty",
        },
        button=("sign", "1"),
    )
    assert signed.status_code == 303, signed.text[:800]
    assert state_of(session_factory, case_id) == "monitoring"
    with session_factory() as session:
        record = session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)).one()
        assert (record.fluoroscopy_minutes, record.dap_gy_cm2, record.air_kerma_mgy) == (6.5, 23.0, 120.0)
        assert record.started_at == started
        assert record.signed_by is not None
    page = radiologist.get(chart).text
    assert "Below the substantial radiation dose level" in page
    assert "Not part of the record until" not in page
    # the signed vertebroplasty's dose against every registered level: each named, none compared unconfirmed
    assert "Diagnostic reference levels (vertebroplasty;" in page
    assert "<strong>unverified</strong>" in page
    assert "kerma-area product: reference level (Germany, 2022; BfS DRW 17.11.2022, unverified) not confirmed" in page
    assert "fluoroscopy time: reference level (France, 2019; ASN 2019-DC-0667, unverified) not confirmed" in page
    assert "review the technique" not in page


def test_a_substantial_dose_shows_on_the_chart_the_report_and_the_discharge_sheet(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("DCM-2")
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    patient_id, accession = booked_in_the_room(session_factory, case_id, started)
    modality_reports(session_factory, accession, identifier_of(session_factory, patient_id), started, 0.0612)
    chart, action = f"/patients/{patient_id}", f"/cases/{case_id}/procedure"
    radiologist = signed_in(R)
    radiologist.headers.pop("X-CSRF-Token", None)
    page = radiologist.get(chart).text
    assert "Substantial radiation dose level reached" in page
    assert "kerma-area product 612 Gy·cm²: above 500 Gy·cm²" in page
    # every published reference level is listed with its country and year, and none is compared unconfirmed
    # the planned kyphoplasty: no published reference level was found, and the chart says so rather than "within"
    assert "Diagnostic reference levels (kyphoplasty;" in page
    assert "no published reference level registered for kyphoplasty under fluoroscopy" in page
    signed = submit(
        radiologist,
        chart,
        action,
        {"L1.cement_product": "Reference PMMA", "L1.cement_volume_ml": "4"},
        button=("sign", "1"),
    )
    assert signed.status_code == 303, signed.text[:800]
    report = pdf_text(radiologist, patient_id, "procedure-report")
    assert "Substantial radiation dose level reached" in report
    flat = " ".join(report.split())
    assert "Diagnostic reference levels (kyphoplasty, fluoroscopy;" in flat
    assert "unverified: no value below was confirmed" in flat
    assert "No published reference level registered for kyphoplasty under fluoroscopy" in flat
    sheet = pdf_text(radiologist, patient_id, "discharge")
    assert "more X-ray than usual" in sheet
    assert "reference level" not in sheet  # an optimisation check for the team, not a message for the patient
