"""Queries behind the staff workflow: worklist, case workflow, slots and bookings, procedure records,
observations, discharges, follow-ups and complications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from vertebro.errors import Conflict
from vertebro.store.models import (
    AppointmentChangeRequest,
    Assessment,
    Booking,
    Case,
    CaseStateCount,
    CaseWorkflow,
    Complication,
    Discharge,
    FollowUp,
    Fracture,
    Observation,
    Patient,
    ProcedureRecord,
    QuestionnaireResponse,
    Slot,
    SlotReservation,
)
from vertebro.store.portal.repository import change_request_open
from vertebro.store.search import LIKE_ESCAPE, like_literal


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of the staff worklist."""

    case_id: int
    patient_id: int
    identifier: str
    name: str | None
    state: str
    treatment: str | None
    category: str | None
    updated_at: dt.datetime
    birth_date: dt.date | None = None
    requested_at: dt.datetime | None = None
    channel: str = "staff"
    default_profile: str | None = None
    newest_fracture_weeks: float | None = None  # the most recent fracture's age at the request (unknown: None)
    intake_started: bool = False
    intake_sent: bool = False
    handover_roles: str | None = None  # what another role must record first (pathway.handover), e.g. "radiologist"
    handover: str | None = None
    change_asked: str | None = None  # an open request of the patient: "cancel" (if any), else "reschedule" (0040)


@dataclass(frozen=True, slots=True)
class ForRole:
    """The worklist's "for you" of one role: the states whose next step it takes, and the states in which a
    hand-over naming it (``case_workflows.handover_roles``) puts a case on its list too (decision 0033)."""

    role: str
    own_states: tuple[str, ...]
    handover_states: tuple[str, ...]

    def condition(self) -> ColumnElement[bool]:
        """The SQL condition selecting the cases waiting for this role."""
        named = CaseWorkflow.handover_roles.like(f"%{like_literal(self.role)}%", escape=LIKE_ESCAPE)
        return or_(
            CaseWorkflow.state.in_(self.own_states),
            and_(CaseWorkflow.state.in_(self.handover_states), named),
        )


# The worklist's sort keys (whitelisted: the key typed in a URL never reaches SQL as text).
WORKLIST_SORTS = ("updated", "requested", "birth_date", "name", "state", "source", "intake", "fracture_age")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")


def _change_asked() -> Any:
    """The worklist's column of a patient's open change request: "cancel" when one asks to cancel, else "reschedule",
    else NULL (correlated: computed for the rows shown; requests are indexed by case)."""
    return (
        select(func.min(AppointmentChangeRequest.kind))
        .where(AppointmentChangeRequest.case_id == CaseWorkflow.case_id, change_request_open())
        .correlate(CaseWorkflow)
        .scalar_subquery()
    )


def searched_date(text: str) -> dt.date | None:
    """Return the date typed in a search box (YYYY-MM-DD, DD/MM/YYYY or DD.MM.YYYY), or None if it is not one."""
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


class WorkflowRepository:
    """Queries on ``case_workflows`` and the worklist built on them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, workflow: CaseWorkflow) -> CaseWorkflow:
        """Insert a workflow row."""
        self.session.add(workflow)
        self.session.flush()
        return workflow

    def get(self, case_id: int, *, for_update: bool = False) -> CaseWorkflow | None:
        """Return a case's workflow with its case and patient loaded (row-locked when ``for_update``)."""
        statement = (
            select(CaseWorkflow)
            .where(CaseWorkflow.case_id == case_id)
            .options(joinedload(CaseWorkflow.case).joinedload(Case.patient))
        )
        if for_update:
            statement = statement.with_for_update(of=CaseWorkflow)
        return self.session.scalars(statement).unique().one_or_none()

    def state_counts(self) -> dict[str, int]:
        """Return how many cases are in each state (a table the database keeps exact with triggers)."""
        rows = self.session.execute(select(CaseStateCount.state, CaseStateCount.n).where(CaseStateCount.n > 0))
        return {state: int(count) for state, count in rows}

    def worklist(
        self,
        *,
        state: str | None,
        query: str | None,
        limit: int,
        offset: int = 0,
        sort: str = "updated",
        descending: bool = True,
        for_role: ForRole | None = None,
        change_asked: bool = False,
    ) -> list[WorklistEntry]:
        """Return worklist entries filtered by state, search, "for you" and an open change request of the patient,
        sorted by a whitelisted key, in one query.

        The search matches a date of birth (YYYY-MM-DD or DD/MM/YYYY), the identifier, or every word of a
        name in any order ("surname forename" finds "Forename Surname").
        """
        asked = _change_asked()
        # correlated: computed for the rows shown only (fractures are indexed by case), not for every case
        newest = (
            select(func.min(Fracture.onset_weeks))
            .where(Fracture.case_id == CaseWorkflow.case_id)
            .correlate(CaseWorkflow)
            .scalar_subquery()
        )
        intake = aliased(QuestionnaireResponse)
        requested = Case.created_at
        intake_rank = case((intake.submitted_at.is_not(None), 2), (intake.id.is_not(None), 1), else_=0)
        keys: dict[str, Any] = {  # column or expression per sort key
            "updated": CaseWorkflow.updated_at,
            "requested": requested,
            "birth_date": Patient.birth_date,
            "name": func.lower(Patient.name),
            "state": CaseWorkflow.state,
            "source": CaseWorkflow.channel,
            "intake": intake_rank,
            "fracture_age": newest,
        }
        key = keys.get(sort, CaseWorkflow.updated_at)
        ordered = key.desc() if descending else key.asc()
        tie = CaseWorkflow.case_id.desc() if descending else CaseWorkflow.case_id.asc()
        statement = (
            select(
                CaseWorkflow.case_id,
                Patient.id,
                Patient.identifier,
                Patient.name,
                CaseWorkflow.state,
                CaseWorkflow.treatment,
                CaseWorkflow.default_category,
                CaseWorkflow.updated_at,
                Patient.birth_date,
                requested,
                CaseWorkflow.channel,
                CaseWorkflow.default_profile,
                newest,
                intake.id.is_not(None),
                intake.submitted_at.is_not(None),
                CaseWorkflow.handover_roles,
                CaseWorkflow.handover,
                asked,
            )
            .join(Case, Case.id == CaseWorkflow.case_id)
            .join(Patient, Patient.id == Case.patient_id)
            .outerjoin(intake, (intake.case_id == CaseWorkflow.case_id) & (intake.kind == "intake"))
            .order_by(ordered.nulls_last(), tie)
            .limit(limit)
            .offset(offset)
        )
        if state:
            statement = statement.where(CaseWorkflow.state == state)
        if for_role is not None:
            statement = statement.where(for_role.condition())
        if change_asked:
            statement = statement.where(asked.is_not(None))
        if query and query.strip():
            statement = statement.where(_matches(query))
        return [WorklistEntry(*row) for row in self.session.execute(statement)]

    def count_for(self, for_role: ForRole) -> int:
        """Return how many cases wait for a role (the count beside the worklist's "for you")."""
        return int(self.session.scalar(select(func.count()).select_from(CaseWorkflow).where(for_role.condition())) or 0)

    def count_change_asked(self) -> int:
        """Return how many cases have a patient's request to cancel or move the appointment still open."""
        statement = select(func.count(func.distinct(AppointmentChangeRequest.case_id))).where(change_request_open())
        return int(self.session.scalar(statement) or 0)

    def mark_channel(self, case_ids: list[int], channel: str) -> None:
        """Record where cases came from (``portal``, ``staff`` or ``fhir``) in one UPDATE."""
        if case_ids:
            self.session.execute(
                update(CaseWorkflow)
                .where(CaseWorkflow.case_id.in_(case_ids))
                .values(channel=channel)
                .execution_options(synchronize_session=False)
            )

    def cases_of_patient(self, patient_id: int) -> list[CaseWorkflow]:
        """Return the workflows of every case of a patient, newest first."""
        statement = (
            select(CaseWorkflow)
            .join(Case, Case.id == CaseWorkflow.case_id)
            .where(Case.patient_id == patient_id)
            .options(joinedload(CaseWorkflow.case).joinedload(Case.patient))
            .order_by(Case.id.desc())
        )
        return list(self.session.scalars(statement).unique())

    def latest_assessment(self, case_id: int) -> Assessment | None:
        """Return the newest stored assessment of a case."""
        statement = select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.id.desc()).limit(1)
        return self.session.scalars(statement).one_or_none()


def _matches(query: str) -> ColumnElement[bool]:
    """The worklist search: a date of birth, an identifier, or all the words of a name in any order."""
    text = query.strip().lower()
    born = searched_date(text)
    if born is not None:
        return Patient.birth_date == born
    words = [f"%{like_literal(word)}%" for word in text.split()]
    name = and_(*(func.lower(Patient.name).like(word, escape=LIKE_ESCAPE) for word in words))
    return or_(name, func.lower(Patient.identifier).like(f"%{like_literal(text)}%", escape=LIKE_ESCAPE))


class BookingRepository:
    """Queries on ``slots``, ``bookings`` and ``slot_reservations``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_slots(self, slots: list[Slot]) -> None:
        """Insert slots (the calendar)."""
        self.session.add_all(slots)
        self.session.flush()

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Slot, int | None]]:
        """Return every slot starting in [start, end) with the booking holding it, if any."""
        statement = (
            select(Slot, SlotReservation.booking_id)
            .outerjoin(SlotReservation, SlotReservation.slot_id == Slot.id)
            .where(Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at, Slot.room)
        )
        return [(slot, booking_id) for slot, booking_id in self.session.execute(statement)]

    def consecutive_slots(self, room: str, start: dt.datetime, minutes: int) -> list[Slot]:
        """Return the slots of one room from ``start`` that together cover ``minutes``."""
        end = start + dt.timedelta(minutes=minutes)
        statement = (
            select(Slot)
            .where(Slot.room == room, Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at)
        )
        return list(self.session.scalars(statement))

    def reserve(self, booking: Booking, slots: list[Slot]) -> Booking:
        """Insert a booking holding ``slots``; raises Conflict when any slot is already held.

        The primary key of ``slot_reservations`` enforces this in the database, whatever the
        concurrency: of two transactions racing for a slot, one commits and one fails here.
        """
        self.session.add(booking)
        try:
            with self.session.begin_nested():
                self.session.flush()
                self.session.add_all(SlotReservation(slot_id=s.id, booking_id=booking.id) for s in slots)
                self.session.flush()
        except IntegrityError as error:
            raise Conflict("this slot was just booked by someone else: choose another", field="slot") from error
        return booking

    def active_booking(self, case_id: int) -> Booking | None:
        """Return the case's current (not cancelled) booking."""
        statement = select(Booking).where(Booking.case_id == case_id, Booking.status == "booked")
        return self.session.scalars(statement).one_or_none()

    def active_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Booking, CaseWorkflow]]:
        """Return the active bookings starting in [start, end), each with its case workflow, case and patient."""
        statement = (
            select(Booking, CaseWorkflow)
            .join(CaseWorkflow, CaseWorkflow.case_id == Booking.case_id)
            .where(Booking.status == "booked", Booking.starts_at >= start, Booking.starts_at < end)
            .options(joinedload(CaseWorkflow.case).joinedload(Case.patient))
            .order_by(Booking.starts_at, Booking.room)
        )
        return [(booking, workflow) for booking, workflow in self.session.execute(statement).unique()]

    def first_session_levels(self, case_ids: list[int]) -> dict[int, tuple[str, ...]]:
        """Return the levels of each case's first session, from its newest stored assessment (empty if none)."""
        if not case_ids:
            return {}
        newest = select(func.max(Assessment.id)).where(Assessment.case_id.in_(case_ids)).group_by(Assessment.case_id)
        statement = select(Assessment.case_id, Assessment.result).where(Assessment.id.in_(newest))
        levels: dict[int, tuple[str, ...]] = {}
        for case_id, result in self.session.execute(statement):
            recommendation = (result or {}).get("recommendation") or {}
            sessions = recommendation.get("sessions") or [recommendation.get("levels") or []]
            levels[case_id] = tuple(str(level) for level in (sessions[0] if sessions else []))
        return levels

    def release(self, booking: Booking) -> None:
        """Free the slots of a booking (the booking row stays, as history)."""
        self.session.execute(delete(SlotReservation).where(SlotReservation.booking_id == booking.id))


class ClinicalRecordRepository:
    """Queries on procedures, observations, discharges, follow-ups and complications."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: ProcedureRecord | Observation | Discharge | FollowUp | Complication) -> None:
        """Insert a record and flush."""
        self.session.add(record)
        try:
            self.session.flush()
        except IntegrityError as error:
            raise Conflict("this record already exists", field=type(record).__tablename__) from error

    def procedure(self, case_id: int) -> ProcedureRecord | None:
        """Return the case's procedure record with its levels."""
        statement = (
            select(ProcedureRecord)
            .where(ProcedureRecord.case_id == case_id)
            .options(selectinload(ProcedureRecord.levels))
        )
        return self.session.scalars(statement).one_or_none()

    def observations(self, case_id: int, kind: str | None = None) -> list[Observation]:
        """Return a case's observations in time order."""
        statement = select(Observation).where(Observation.case_id == case_id).order_by(Observation.taken_at)
        if kind is not None:
            statement = statement.where(Observation.kind == kind)
        return list(self.session.scalars(statement))

    def discharge(self, case_id: int) -> Discharge | None:
        """Return the case's discharge, if any."""
        return self.session.get(Discharge, case_id)

    def follow_ups(self, case_id: int) -> list[FollowUp]:
        """Return a case's follow-ups by due date."""
        statement = select(FollowUp).where(FollowUp.case_id == case_id).order_by(FollowUp.due_from)
        return list(self.session.scalars(statement))

    def follow_up(self, case_id: int, visit: str) -> FollowUp | None:
        """Return one follow-up of a case."""
        statement = select(FollowUp).where(FollowUp.case_id == case_id, FollowUp.visit == visit)
        return self.session.scalars(statement).one_or_none()

    def complications(self, case_id: int) -> list[Complication]:
        """Return a case's complications by date."""
        statement = select(Complication).where(Complication.case_id == case_id).order_by(Complication.occurred_on)
        return list(self.session.scalars(statement))
