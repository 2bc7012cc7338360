"""Every query of the DICOM services: booked procedures as scheduled steps, performed steps and dose reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vertebro.store.models import (
    Booking,
    Case,
    CaseWorkflow,
    DoseReport,
    Fracture,
    ModalityStep,
    Patient,
    ProcedureRecord,
)


@dataclass(frozen=True, slots=True)
class BookedProcedure:
    """A booking with what a worklist item needs: the patient, the levels and the planned treatment."""

    booking_id: int
    case_id: int
    patient_id: int
    status: str
    room: str
    starts_at: dt.datetime
    identifier: str
    name: str | None
    birth_date: dt.date | None
    sex: str
    treatment: str | None
    levels: tuple[str, ...]
    operator: str | None


class DicomRepository:
    """Queries on bookings, ``modality_steps`` and ``dose_reports``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def booked(
        self,
        *,
        starts_from: dt.datetime | None = None,
        starts_before: dt.datetime | None = None,
        identifier: str | None = None,
        booking_id: int | None = None,
        include_cancelled: bool = False,
    ) -> list[BookedProcedure]:
        """Return the bookings (active only, unless ``include_cancelled``) in a time window, for one patient
        identifier or one booking, ordered by start; with their levels and treatment (two queries)."""
        statement = (
            select(Booking, Patient, CaseWorkflow.treatment, ProcedureRecord.operator)
            .join(Case, Case.id == Booking.case_id)
            .join(Patient, Patient.id == Case.patient_id)
            .outerjoin(CaseWorkflow, CaseWorkflow.case_id == Booking.case_id)
            .outerjoin(ProcedureRecord, ProcedureRecord.case_id == Booking.case_id)
            .order_by(Booking.starts_at, Booking.id)
        )
        if not include_cancelled:
            statement = statement.where(Booking.status == "booked")
        if starts_from is not None:
            statement = statement.where(Booking.starts_at >= starts_from)
        if starts_before is not None:
            statement = statement.where(Booking.starts_at < starts_before)
        if identifier is not None:
            statement = statement.where(Patient.identifier == identifier)
        if booking_id is not None:
            statement = statement.where(Booking.id == booking_id)
        rows = self.session.execute(statement).all()
        case_ids = {booking.case_id for booking, *_ in rows}
        levels: dict[int, list[str]] = {}
        if case_ids:
            fractures = select(Fracture.case_id, Fracture.level).where(Fracture.case_id.in_(case_ids))
            for case_id, level in self.session.execute(fractures.order_by(Fracture.id)):
                levels.setdefault(case_id, []).append(level)
        return [
            BookedProcedure(
                booking_id=booking.id,
                case_id=booking.case_id,
                patient_id=patient.id,
                status=booking.status,
                room=booking.room,
                starts_at=booking.starts_at,
                identifier=patient.identifier,
                name=patient.name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                treatment=treatment,
                levels=tuple(levels.get(booking.case_id, ())),
                operator=operator,
            )
            for booking, patient, treatment, operator in rows
        ]

    def booking(self, booking_id: int) -> BookedProcedure | None:
        """Return one booking (active or cancelled) as a :class:`BookedProcedure`, or None."""
        found = self.booked(booking_id=booking_id, include_cancelled=True)
        return found[0] if found else None

    def step(self, sop_instance_uid: str, *, for_update: bool = False) -> ModalityStep | None:
        """Return the performed procedure step with this SOP Instance UID, or None."""
        statement = select(ModalityStep).where(ModalityStep.sop_instance_uid == sop_instance_uid)
        if for_update:
            statement = statement.with_for_update()
        return self.session.scalars(statement).first()

    def steps_for_case(self, case_id: int) -> list[ModalityStep]:
        """Return a case's performed procedure steps, oldest first."""
        statement = select(ModalityStep).where(ModalityStep.case_id == case_id).order_by(ModalityStep.id)
        return list(self.session.scalars(statement))

    def dose_report_exists(self, sop_instance_uid: str) -> bool:
        """True when a dose report with this SOP Instance UID is stored."""
        statement = select(DoseReport.id).where(DoseReport.sop_instance_uid == sop_instance_uid)
        return self.session.execute(statement).first() is not None

    def dose_reports_for_case(self, case_id: int) -> list[DoseReport]:
        """Return a case's dose reports, oldest first."""
        statement = select(DoseReport).where(DoseReport.case_id == case_id).order_by(DoseReport.id)
        return list(self.session.scalars(statement))

    def add(self, row: ModalityStep | DoseReport) -> bool:
        """Insert a step or a report in a savepoint; False (and nothing inserted) when its UID is already stored."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            return False
        return True
