"""The calendar's data: the bookings of a period (who, which levels, what state), every slot with whether a case
may start there and why not, and moving a booking (rule booking.feasible_start, decision 0032).

The calendar offers a start only where the one feasibility function (``clinical.feasibility``) allows it and a
free run of slots in one room covers the case's room time; moving a booking re-checks the same function and
books through the one booking service, in one transaction, so a refused move changes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from vertebro.clinical import ClinicPolicy, Feasibility
from vertebro.errors import Conflict, InvalidInput, NotFound
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, Slot
from vertebro.store.workflow.base import Actor, check_version, facts_of, feasibility_now, load_workflow, record_audit
from vertebro.store.workflow.booking import SLOT_MINUTES, reschedule

BOOKED = "booked by another case"


@dataclass(frozen=True, slots=True)
class CalendarBooking:
    """One active booking as the calendar shows it: the patient, the levels of the session and the case's state."""

    booking_id: int
    case_id: int
    patient_id: int
    name: str | None
    identifier: str
    levels: tuple[str, ...]
    state: str
    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    version: int


@dataclass(frozen=True, slots=True)
class SlotOffer:
    """One slot of the calendar: whether the case being booked may start there and, if not, why not."""

    room: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    booking_id: int | None
    bookable: bool
    reasons: tuple[str, ...]


def calendar_bookings(
    uow: UnitOfWork, start: dt.datetime, end: dt.datetime, actor: Actor, *, purpose: str = "calendar"
) -> list[CalendarBooking]:
    """Return the active bookings starting in [start, end); each patient shown is audited as read (``purpose``)."""
    rows = uow.bookings.active_between(start, end)
    levels = uow.bookings.first_session_levels(sorted({booking.case_id for booking, _ in rows}))
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({workflow.case.patient_id for _, workflow in rows}),
        detail={"role": actor.role.value, "purpose": purpose},
        source=actor.source,
    )
    return [
        CalendarBooking(
            booking_id=booking.id,
            case_id=booking.case_id,
            patient_id=workflow.case.patient_id,
            name=workflow.case.patient.name,
            identifier=workflow.case.patient.identifier,
            levels=levels.get(booking.case_id, ()),
            state=workflow.state,
            room=booking.room,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            version=workflow.version,
        )
        for booking, workflow in rows
    ]


def slot_offers(slots: list[tuple[Slot, int | None]], minutes: int, feasibility: Feasibility | None) -> list[SlotOffer]:
    """Return every slot with whether a case needing ``minutes`` of room time may start there (rule
    booking.feasible_start): a free run of consecutive slots in one room must cover the minutes, and the
    feasibility function must allow the start. Without a case (``feasibility`` None) nothing is bookable.
    """
    needed = max(1, -(-minutes // SLOT_MINUTES))
    by_room: dict[str, list[tuple[Slot, int | None]]] = {}
    for slot, booking_id in slots:
        by_room.setdefault(slot.room, []).append((slot, booking_id))
    offers: list[SlotOffer] = []
    for room_slots in by_room.values():
        for i, (slot, booking_id) in enumerate(room_slots):
            reasons: list[str] = []
            if booking_id is not None:
                reasons.append(BOOKED)
            else:
                window = room_slots[i : i + needed]
                contiguous = len(window) == needed and all(
                    a.ends_at == b.starts_at and held is None for (a, _), (b, held) in itertools.pairwise(window)
                )
                if not contiguous:
                    reasons.append(f"fewer than {minutes} free minutes from here in this room")
                if feasibility is None:
                    reasons.append("open the calendar from a case to book")
                else:
                    reasons.extend(feasibility.refusals(slot.starts_at))
            offers.append(SlotOffer(slot.room, slot.starts_at, slot.ends_at, booking_id, not reasons, tuple(reasons)))
    offers.sort(key=lambda offer: (offer.starts_at, offer.room))
    return offers


def move_booking(
    uow: UnitOfWork,
    case_id: int,
    *,
    room: str,
    starts_at: dt.datetime,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> Booking:
    """Move a case's booking to another start or room (rule booking.feasible_start); return the new booking.

    The new start is judged by the one feasibility function before anything changes; then the booking service
    moves it (:func:`~vertebro.store.workflow.booking.reschedule`): the old booking cancelled with the reason
    "moved in the calendar to ...", the case booked again through its pathway guard, the slots' primary key and
    the one-active-booking index, and the patient sent one message that the appointment has moved (never
    "cancelled": hazard H122), all in the caller's transaction: if any step refuses, the caller rolls back and
    nothing has changed. A stale ``expected_version`` (someone else changed or moved the case meanwhile) is
    refused (412) before anything is read further.
    """
    if starts_at.tzinfo is None:
        raise InvalidInput("give the start with its time zone", field="starts_at")
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    current = uow.bookings.active_booking(case_id)
    if current is None:
        raise NotFound("this case has no booking to move", field="booking")
    if current.room == room and current.starts_at == starts_at:
        raise InvalidInput("the booking is already at this time in this room", field="starts_at")
    refusals = feasibility_now(facts_of(workflow.case), policy, now).refusals(starts_at)
    where = f"{room} at {policy.clinic.moment(starts_at)}"
    if refusals:
        raise Conflict(f"not moved to {where}: " + "; ".join(refusals), field="starts_at")
    old = current.id, current.room, current.starts_at
    moved = reschedule(
        uow,
        case_id,
        room=room,
        starts_at=starts_at,
        reason=f"moved in the calendar to {where}",
        actor=actor,
        policy=policy,
        now=now,
    )
    record_audit(
        uow,
        actor,
        "move",
        "booking",
        moved.id,
        workflow.case.patient_id,
        from_booking=old[0],
        from_room=old[1],
        from_starts_at=old[2].isoformat(),
        room=room,
        starts_at=starts_at.isoformat(),
    )
    return moved
