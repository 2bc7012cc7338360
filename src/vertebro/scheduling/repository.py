"""Every query the planner runs on the database: the cases ready to schedule, the calendar, stored plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vertebro.store.models import Booking, Case, CaseWorkflow, Patient, SchedulePlan, Slot, SlotReservation

# A case can be planned once it is prepared (checklist complete); a scheduled case has a booking to keep or move.
PLANNABLE_STATES = ("prepared", "scheduled")


@dataclass(frozen=True, slots=True)
class StoredCase:
    """A case the planner may schedule: its facts, when it was referred, and its current booking, if any."""

    case_id: int
    patient_id: int
    state: str
    facts: dict[str, Any]
    referred_at: dt.datetime
    booking_room: str | None
    booking_starts_at: dt.datetime | None
    booking_id: int | None


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    """One bookable slot and the booking holding it, if any."""

    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    booking_id: int | None


@dataclass(frozen=True, slots=True)
class PatientLabel:
    """What a plan shows of a patient: the identifier and name."""

    patient_id: int
    identifier: str
    name: str | None


class PlanningRepository:
    """Queries for planning: plannable cases with their bookings, slots, patients shown, stored plans."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def plannable_cases(self) -> list[StoredCase]:
        """Return every case that is prepared or scheduled, with its active booking, oldest referral first."""
        statement = (
            select(
                CaseWorkflow.case_id,
                Case.patient_id,
                CaseWorkflow.state,
                Case.facts,
                Case.created_at,
                Booking.room,
                Booking.starts_at,
                Booking.id,
            )
            .join(Case, Case.id == CaseWorkflow.case_id)
            .outerjoin(Booking, (Booking.case_id == CaseWorkflow.case_id) & (Booking.status == "booked"))
            .where(CaseWorkflow.state.in_(PLANNABLE_STATES))
            .order_by(Case.created_at, Case.id)
        )
        return [StoredCase(*row) for row in self.session.execute(statement)]

    def slots_between(self, start: dt.datetime, end: dt.datetime) -> list[CalendarSlot]:
        """Return every slot starting in [start, end) with the booking holding it."""
        statement = (
            select(Slot.room, Slot.starts_at, Slot.ends_at, SlotReservation.booking_id)
            .outerjoin(SlotReservation, SlotReservation.slot_id == Slot.id)
            .where(Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at, Slot.room)
        )
        return [CalendarSlot(*row) for row in self.session.execute(statement)]

    def patients(self, patient_ids: list[int]) -> dict[int, PatientLabel]:
        """Return the identifier and name of each patient."""
        if not patient_ids:
            return {}
        statement = select(Patient.id, Patient.identifier, Patient.name).where(Patient.id.in_(patient_ids))
        return {row[0]: PatientLabel(*row) for row in self.session.execute(statement)}

    def add_plan(self, plan: SchedulePlan) -> SchedulePlan:
        """Insert a proposed plan."""
        self.session.add(plan)
        self.session.flush()
        return plan

    def plan(self, plan_id: int, *, for_update: bool = False) -> SchedulePlan | None:
        """Return a stored plan (row-locked when ``for_update``)."""
        statement = select(SchedulePlan).where(SchedulePlan.id == plan_id)
        if for_update:
            statement = statement.with_for_update()
        return self.session.scalars(statement).one_or_none()

    def recent_plans(self, limit: int = 10) -> list[SchedulePlan]:
        """Return the newest plans."""
        statement = select(SchedulePlan).order_by(SchedulePlan.created_at.desc(), SchedulePlan.id.desc()).limit(limit)
        return list(self.session.scalars(statement))
