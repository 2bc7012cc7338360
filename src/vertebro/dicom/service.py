"""The DICOM services' logic: the worklist answer, performed procedure steps and dose reports.

Every function works inside the caller's unit of work and never commits (the association handler does).
A refusal is a :class:`Refusal` carrying the DICOM status to answer with; the handler logs it and rolls back, so
nothing already stored changes. Each query that returns patients is audited as a read of each patient, with the
calling AE title as the actor.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.clinical.dose import DoseValues
from vertebro.dicom import matching
from vertebro.dicom.repository import BookedProcedure, DicomRepository
from vertebro.dicom.settings import DicomSettings
from vertebro.dicom.sr import MalformedReport, read_dose_report
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import DoseReport, ModalityStep

log = logging.getLogger("vertebro.dicom")

# DICOM statuses (PS3.4 C.4.1 C-FIND, C.4.2 C-STORE, F.7 MPPS, PS3.7 C.4 general)
IDENTIFIER_DOES_NOT_MATCH = 0xA900
UNABLE_TO_PROCESS = 0xC000
UNKNOWN_ACCESSION = 0xC001  # C-STORE: no booking has this accession number
PATIENT_MISMATCH = 0xC002  # C-STORE: the report's patient is not the booked patient
DUPLICATE_REPORT = 0xC003  # C-STORE: this SOP instance is stored already
PROCESSING_FAILURE = 0x0110  # N-SET: the step may no longer be updated
DUPLICATE_SOP_INSTANCE = 0x0111
NO_SUCH_OBJECT_INSTANCE = 0x0112
INVALID_ATTRIBUTE_VALUE = 0x0106
MISSING_ATTRIBUTE = 0x0120

CHARACTER_SET = "ISO_IR 192"  # UTF-8: names are stored as typed
SEX = {"female": "F", "male": "M", "other": "O"}
WORKLIST_SOURCE = "dicom-mwl"


class Refusal(Exception):
    """A request the service refuses, with the DICOM status to answer and the reason to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def study_uid(booking_id: int) -> str:
    """The Study Instance UID of a booking: derived from the booking, so every query returns the same one."""
    return str(generate_uid(entropy_srcs=["vertebro", "booking", str(booking_id)]))


def _local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """A stored moment as the clinic's wall-clock time (DICOM dates and times carry no offset)."""
    return moment.astimezone(zone_of(zone_name))


def _description(booked: BookedProcedure) -> str:
    treatment = (booked.treatment or "vertebral augmentation").replace("_", " ")
    levels = ", ".join(booked.levels) or "levels not recorded"
    return f"{treatment.capitalize()} {levels}"[:64]


def scheduled_step(booked: BookedProcedure, settings: DicomSettings) -> Dataset:
    """The full worklist item of a booking (Modality Worklist Information Model attributes)."""
    start = _local(booked.starts_at, settings.time_zone)
    accession = matching.accession_number(booked.booking_id)
    step = Dataset()
    step.ScheduledStationAETitle = settings.station_of(booked.room) or matching.station_ae_title(booked.room)
    step.ScheduledStationName = booked.room[:16]
    step.ScheduledProcedureStepStartDate = start.strftime("%Y%m%d")
    step.ScheduledProcedureStepStartTime = start.strftime("%H%M%S")
    step.Modality = settings.modality_of(booked.room)
    step.ScheduledPerformingPhysicianName = matching.person_name(booked.operator)
    step.ScheduledProcedureStepDescription = _description(booked)
    step.ScheduledProcedureStepID = accession
    step.ScheduledProcedureStepLocation = booked.room[:16]
    item = Dataset()
    item.SpecificCharacterSet = CHARACTER_SET
    item.PatientName = matching.person_name(booked.name)
    item.PatientID = booked.identifier
    item.PatientBirthDate = booked.birth_date.strftime("%Y%m%d") if booked.birth_date else ""
    item.PatientSex = SEX.get(booked.sex, "O")
    item.AccessionNumber = accession
    item.ReferringPhysicianName = ""
    item.RequestedProcedureID = accession
    item.RequestedProcedureDescription = _description(booked)
    item.StudyInstanceUID = study_uid(booked.booking_id)
    item.ScheduledProcedureStepSequence = [step]
    return item


def _answer(query: Dataset, full: Dataset) -> Dataset:
    """The response to one query: exactly the keys the query asked for, filled from the full item."""
    out = Dataset()
    for element in query:
        if element.keyword == "SpecificCharacterSet":
            continue
        if element.VR == "SQ":
            wanted = element.value[0] if element.value else None
            have = full.get(element.keyword)
            if have:
                setattr(out, element.keyword, [_answer(wanted, have[0]) if wanted is not None else have[0]])
            else:
                setattr(out, element.keyword, [])
        elif element.tag in full:
            out[element.tag] = full[element.tag]
        else:
            out.add_new(element.tag, element.VR, None)
    out.SpecificCharacterSet = CHARACTER_SET
    return out


def _text(dataset: Dataset | None, keyword: str) -> str:
    if dataset is None:
        return ""
    value = dataset.get(keyword, "")
    return "" if value is None else str(value).strip()


def _query_step(query: Dataset) -> Dataset | None:
    sequence = query.get("ScheduledProcedureStepSequence")
    return sequence[0] if sequence else None


def worklist(
    uow: UnitOfWork, query: Dataset, *, calling_ae: str, settings: DicomSettings, source: str | None
) -> list[Dataset]:
    """Return the worklist items matching a C-FIND query and audit the patients shown.

    Matching keys: Scheduled Procedure Step Start Date (single date or range) and Time, Modality, Scheduled
    Station AE Title, Scheduled Performing Physician's Name, Patient ID, Patient's Name (wildcards), Accession
    Number. A key the query leaves empty matches everything.
    """
    step = _query_step(query)
    try:
        dates = matching.date_range(_text(step, "ScheduledProcedureStepStartDate"))
        times = matching.time_range(_text(step, "ScheduledProcedureStepStartTime"))
    except ValueError as error:
        raise Refusal(IDENTIFIER_DOES_NOT_MATCH, f"unreadable date or time key: {error}") from error
    patient_id = _text(query, "PatientID")
    exact_id = patient_id if patient_id and "*" not in patient_id and "?" not in patient_id else None
    starts_from = starts_before = None
    if dates is not None:
        low, high = dates
        zone = zone_of(settings.time_zone)
        # a day of local time, widened by a day each side: the exact local-day test below decides
        starts_from = None if low is None else dt.datetime.combine(low, dt.time.min, zone) - dt.timedelta(1)
        starts_before = None if high is None else dt.datetime.combine(high, dt.time.max, zone) + dt.timedelta(1)
    booked = DicomRepository(uow.session).booked(
        starts_from=starts_from, starts_before=starts_before, identifier=exact_id
    )
    results: list[Dataset] = []
    patients: list[int] = []
    for entry in booked:
        item = scheduled_step(entry, settings)
        sps = item.ScheduledProcedureStepSequence[0]
        start = _local(entry.starts_at, settings.time_zone)
        if not (
            matching.matches_date(dates, start.date())
            and matching.matches_time(times, start.time())
            and matching.matches_text(_text(step, "Modality"), sps.Modality)
            and matching.matches_text(_text(step, "ScheduledStationAETitle"), sps.ScheduledStationAETitle)
            and matching.matches_name(
                _text(step, "ScheduledPerformingPhysicianName"), str(sps.ScheduledPerformingPhysicianName)
            )
            and matching.matches_text(patient_id, item.PatientID)
            and matching.matches_name(_text(query, "PatientName"), str(item.PatientName))
            and matching.matches_text(_text(query, "AccessionNumber"), item.AccessionNumber)
        ):
            continue
        results.append(_answer(query, item))
        patients.append(entry.patient_id)
    unique = list(dict.fromkeys(patients))
    uow.audit.append_reads(
        actor=calling_ae, patient_ids=unique, detail={"via": WORKLIST_SOURCE, "items": len(results)}, source=source
    )
    log.info("worklist query from %s (%s): %d item(s)", calling_ae, source, len(results))
    return results


def _booking_for(repository: DicomRepository, accession: str, patient_id: str, status: int) -> BookedProcedure:
    booking_id = matching.booking_id_of(accession)
    booked = None if booking_id is None else repository.booking(booking_id)
    if booked is None:
        raise Refusal(status, f"unknown accession number {accession!r}")
    if booked.identifier != patient_id:
        raise Refusal(
            PATIENT_MISMATCH if status == UNKNOWN_ACCESSION else INVALID_ATTRIBUTE_VALUE,
            f"accession {accession} belongs to another patient than patient id {patient_id!r}",
        )
    return booked


def _moment(dataset: Dataset, date_key: str, time_key: str, zone_name: str) -> dt.datetime | None:
    day, clock = _text(dataset, date_key), _text(dataset, time_key)
    if not day:
        return None
    try:
        local = dt.datetime.combine(matching.parse_date(day), matching.parse_time(clock) if clock else dt.time())
    except ValueError as error:
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"{date_key}/{time_key}: {error}") from error
    return local.replace(tzinfo=zone_of(zone_name)).astimezone(dt.UTC)


def _mpps_dose(dataset: Dataset, step: ModalityStep) -> None:
    """The MPPS radiation dose module: total fluoroscopy time (s) and area dose product (dGy·cm²)."""
    try:
        if dataset.get("TotalTimeOfFluoroscopy") not in (None, ""):
            step.fluoroscopy_minutes = round(float(dataset.TotalTimeOfFluoroscopy) / 60, 3)
        if dataset.get("ImageAndFluoroscopyAreaDoseProduct") not in (None, ""):
            step.dap_gy_cm2 = round(float(dataset.ImageAndFluoroscopyAreaDoseProduct) / 10, 4)
    except (TypeError, ValueError) as error:
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"unreadable dose: {error}") from error
    for value in (step.fluoroscopy_minutes, step.dap_gy_cm2):
        if value is not None and value < 0:
            raise Refusal(INVALID_ATTRIBUTE_VALUE, "a negative dose or time")


def create_step(
    uow: UnitOfWork,
    dataset: Dataset,
    *,
    sop_instance_uid: str,
    calling_ae: str,
    source: str | None,
    zone_name: str = DEFAULT_TIME_ZONE,
) -> ModalityStep:
    """Store a performed procedure step the modality started (MPPS N-CREATE, status IN PROGRESS).

    It never moves the pathway: the chart shows that the modality reports the procedure started.
    """
    if not sop_instance_uid:
        raise Refusal(MISSING_ATTRIBUTE, "no Affected SOP Instance UID")
    status = _text(dataset, "PerformedProcedureStepStatus")
    if status != "IN PROGRESS":
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"a step is created IN PROGRESS, not {status or 'empty'}")
    attributes = dataset.get("ScheduledStepAttributesSequence")
    accession = _text(attributes[0], "AccessionNumber") if attributes else ""
    if not accession:
        raise Refusal(MISSING_ATTRIBUTE, "Scheduled Step Attributes Sequence carries no accession number")
    repository = DicomRepository(uow.session)
    booked = _booking_for(repository, accession, _text(dataset, "PatientID"), INVALID_ATTRIBUTE_VALUE)
    if booked.status != "booked":
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"accession {accession}: the booking is {booked.status}")
    now = utc_now()
    step = ModalityStep(
        sop_instance_uid=sop_instance_uid,
        case_id=booked.case_id,
        booking_id=booked.booking_id,
        calling_ae=calling_ae,
        status=status,
        started_at=_moment(dataset, "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime", zone_name),
        created_at=now,
        updated_at=now,
    )
    if not repository.add(step):
        raise Refusal(DUPLICATE_SOP_INSTANCE, f"performed procedure step {sop_instance_uid} exists already")
    uow.audit.append(
        actor=calling_ae,
        action="create",
        entity_type="modality_step",
        entity_id=step.id,
        patient_id=booked.patient_id,
        detail={"status": status, "accession": accession},
        source=source,
    )
    log.info("MPPS %s from %s: %s for case %d", sop_instance_uid, calling_ae, status, booked.case_id)
    return step


def update_step(
    uow: UnitOfWork,
    sop_instance_uid: str,
    modification: Dataset,
    *,
    calling_ae: str,
    source: str | None,
    zone_name: str = DEFAULT_TIME_ZONE,
) -> ModalityStep:
    """Apply an MPPS N-SET: times, dose, and COMPLETED or DISCONTINUED (after which the step no longer changes)."""
    repository = DicomRepository(uow.session)
    step = repository.step(sop_instance_uid, for_update=True)
    if step is None:
        raise Refusal(NO_SUCH_OBJECT_INSTANCE, f"no performed procedure step {sop_instance_uid}")
    if step.status != "IN PROGRESS":
        raise Refusal(PROCESSING_FAILURE, f"step {sop_instance_uid} is {step.status} and may no longer be updated")
    status = _text(modification, "PerformedProcedureStepStatus") or step.status
    if status not in ("IN PROGRESS", "COMPLETED", "DISCONTINUED"):
        raise Refusal(INVALID_ATTRIBUTE_VALUE, f"unknown step status {status!r}")
    ended = _moment(modification, "PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime", zone_name)
    if status != "IN PROGRESS" and ended is None:
        raise Refusal(MISSING_ATTRIBUTE, f"a {status} step needs its end date and time")
    if ended is not None and step.started_at is not None and ended < step.started_at:
        raise Refusal(INVALID_ATTRIBUTE_VALUE, "the step ends before it started")
    _mpps_dose(modification, step)
    step.status = status
    step.ended_at = ended or step.ended_at
    step.updated_at = utc_now()
    uow.session.flush()
    booked = repository.booking(step.booking_id)
    uow.audit.append(
        actor=calling_ae,
        action="update",
        entity_type="modality_step",
        entity_id=step.id,
        patient_id=None if booked is None else booked.patient_id,
        detail={"status": status},
        source=source,
    )
    log.info("MPPS %s from %s: %s", sop_instance_uid, calling_ae, status)
    return step


def store_dose_report(uow: UnitOfWork, dataset: Dataset, *, calling_ae: str, source: str | None) -> DoseReport:
    """Store a Radiation Dose SR with the procedure of its accession number.

    Refused (nothing stored): a report that cannot be read, an accession number that is not a booking of ours,
    a patient id that is not the booked patient's, a SOP instance stored already.
    """
    try:
        reported = read_dose_report(dataset)
    except MalformedReport as error:
        raise Refusal(UNABLE_TO_PROCESS, f"malformed dose report: {error}") from error
    repository = DicomRepository(uow.session)
    booked = _booking_for(repository, reported.accession, reported.patient_id, UNKNOWN_ACCESSION)
    row = DoseReport(
        sop_instance_uid=reported.sop_instance_uid,
        sop_class_uid=reported.sop_class_uid,
        case_id=booked.case_id,
        booking_id=booked.booking_id,
        calling_ae=calling_ae,
        kind=reported.kind,
        fluoroscopy_minutes=reported.fluoroscopy_minutes,
        dap_gy_cm2=reported.dap_gy_cm2,
        air_kerma_mgy=reported.air_kerma_mgy,
        ctdivol_mgy=reported.ctdivol_mgy,
        dlp_mgy_cm=reported.dlp_mgy_cm,
        events=reported.events,
        received_at=utc_now(),
    )
    if not repository.add(row):
        raise Refusal(DUPLICATE_REPORT, f"dose report {reported.sop_instance_uid} is stored already")
    uow.audit.append(
        actor=calling_ae,
        action="create",
        entity_type="dose_report",
        entity_id=row.id,
        patient_id=booked.patient_id,
        detail={"accession": reported.accession, "kind": reported.kind},
        source=source,
    )
    log.info("dose report %s from %s stored for case %d", reported.sop_instance_uid, calling_ae, booked.case_id)
    return row


@dataclass(frozen=True, slots=True)
class ModalityReport:
    """What the modality reported for a case: the latest step, its times and the dose, for the chart and the
    procedure record's draft (shown "from the modality" until a person confirms it)."""

    status: str | None  # of the latest performed procedure step
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    dose: DoseValues
    dose_source: str | None  # "dose report" (n), "performed procedure step" or None
    reports: int


def _total(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 4) if known else None


def modality_report(uow: UnitOfWork, case_id: int) -> ModalityReport | None:
    """Return what the modality reported for a case, or None when it reported nothing.

    Dose reports win over the performed procedure step's dose; several reports of one procedure are summed
    (each is one session of irradiation; a report sent twice has one SOP instance and is stored once).
    """
    repository = DicomRepository(uow.session)
    steps = repository.steps_for_case(case_id)
    reports = repository.dose_reports_for_case(case_id)
    if not steps and not reports:
        return None
    latest = steps[-1] if steps else None
    if reports:
        dose = DoseValues(
            fluoroscopy_minutes=_total([r.fluoroscopy_minutes for r in reports]),
            dap_gy_cm2=_total([r.dap_gy_cm2 for r in reports]),
            air_kerma_mgy=_total([r.air_kerma_mgy for r in reports]),
            ctdivol_mgy=max((r.ctdivol_mgy for r in reports if r.ctdivol_mgy is not None), default=None),
            dlp_mgy_cm=_total([r.dlp_mgy_cm for r in reports]),
        )
        dose_source: str | None = f"dose report ({len(reports)})"
    elif latest is not None and latest.status != "IN PROGRESS":
        dose = DoseValues(fluoroscopy_minutes=latest.fluoroscopy_minutes, dap_gy_cm2=latest.dap_gy_cm2)
        dose_source = None if dose.empty else "performed procedure step"
    else:
        dose, dose_source = DoseValues(), None
    return ModalityReport(
        status=None if latest is None else latest.status,
        started_at=None if latest is None else latest.started_at,
        ended_at=None if latest is None else latest.ended_at,
        dose=dose,
        dose_source=dose_source,
        reports=len(reports),
    )
