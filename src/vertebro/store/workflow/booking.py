"""The booking calendar: slots, booking (never double, never before the holds allow), moving and cancelling.

Each tells the patient in its own transaction: booked, cancelled, or (a move) one "moved" message, never a
cancellation followed by a booking (decision 0038, hazard H122).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from vertebro.clinical import ClinicPolicy, assess
from vertebro.clinical.clock import DEFAULT_TIME_ZONE, wall_clock, zone_of
from vertebro.clinical.procedure import room_minutes
from vertebro.errors import Conflict, InvalidInput, NotFound
from vertebro.pathway.machine import Action, State, Verdict, evaluate
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    Booking,
    Slot,
)
from vertebro.store.portal.appointments import Moved, calendar_uid, preparation_steps, queue_appointment, queue_moved
from vertebro.store.workflow.base import (
    Actor,
    TransitionRefused,
    check_version,
    facts_of,
    feasibility_now,
    load_workflow,
    record_audit,
)
from vertebro.store.workflow.chart import case_view
from vertebro.store.workflow.steps import update_facts

SLOT_MINUTES = 30
CANCEL_REASON_MIN = 10
CANCEL_REASON_MAX = 500


DAY_START = dt.time(8, 0)


DAY_END = dt.time(17, 0)


def free_slots(uow: UnitOfWork, start: dt.datetime, days: int) -> list[tuple[Slot, int | None]]:
    """Return the calendar's slots for ``days`` days from ``start`` with the booking holding each."""
    return uow.bookings.slots_between(start, start + dt.timedelta(days=days))


def book(
    uow: UnitOfWork,
    case_id: int,
    *,
    room: str,
    starts_at: dt.datetime,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Booking:
    """Book a case into consecutive slots of a room, re-plan its dates and move it to 'scheduled'.

    The start must be feasible now (rule booking.feasible_start: every hold completable, fasting and labs
    in time); a refusal names each drug or step with its earliest possible start. The pathway guard runs
    with the new date; the database refuses a slot another booking holds and a second active booking of
    the case, so neither can ever be double-booked. The patient is sent "booked" unless ``notify`` is False
    (:func:`reschedule` sends its own one message).
    """
    if starts_at.tzinfo is None:
        raise InvalidInput("give the start with its time zone", field="starts_at")
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    if uow.bookings.active_booking(case_id) is not None:
        raise Conflict("this case is already booked: cancel that booking first (with a reason)", field="slot")
    facts = facts_of(workflow.case)
    too_early = feasibility_now(facts, policy, now).refusals(starts_at)
    sessions = assess(facts, policy).recommendation.sessions
    minutes = room_minutes(len(sessions[0]) if sessions else 1, policy)
    slots = uow.bookings.consecutive_slots(room, starts_at, minutes)
    covered = sum(int((s.ends_at - s.starts_at).total_seconds() // 60) for s in slots)
    if not slots or slots[0].starts_at != starts_at or covered < minutes:
        raise InvalidInput(f"{room} has no run of slots covering {minutes} minutes from this time", field="slot")
    local_start = wall_clock(starts_at, policy.time_zone)  # the core reads procedure times as clinic wall-clock
    update_facts(
        uow,
        case_id,
        {"procedure_date": local_start.date().isoformat(), "procedure_time": local_start.time().isoformat("minutes")},
        actor,
        policy,
        expected_version=None,
    )
    view = case_view(uow, case_id, actor, policy, audit=False)
    # the start's feasibility is judged precisely above, each drug with its earliest date
    verdict = evaluate(Action.BOOK, dataclasses.replace(view.snapshot, holds_completable=True), actor.role)
    if too_early:
        verdict = Verdict(verdict.action, verdict.target, (*too_early, *verdict.refusals))
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    booking = uow.bookings.reserve(
        Booking(
            case_id=case_id,
            room=room,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            booked_by=actor.username,
        ),
        slots,
    )
    workflow.state = State.SCHEDULED.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    record_audit(
        uow, actor, "book", "booking", booking.id, workflow.case.patient_id, room=room, starts_at=starts_at.isoformat()
    )
    # the patient's message and calendar file, in this transaction: committed together or not at all
    if notify:
        queue_appointment(uow, booking, workflow.case.patient_id, policy, "booked")
    return booking


def cancel_reason(reason: str | None) -> str:
    """Return a cancellation reason, stripped; InvalidInput unless it has 10 to 500 characters."""
    text = " ".join((reason or "").split())
    if len(text) < CANCEL_REASON_MIN:
        raise InvalidInput(
            f"write why the booking is cancelled (at least {CANCEL_REASON_MIN} characters)", field="reason"
        )
    if len(text) > CANCEL_REASON_MAX:
        raise InvalidInput(f"the reason is longer than {CANCEL_REASON_MAX} characters", field="reason")
    return text


def cancel_booking(
    uow: UnitOfWork,
    case_id: int,
    *,
    reason: str | None,
    confirmed: bool,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
    notify: bool = True,
) -> Booking:
    """Cancel a case's booking with a written reason, after a confirmation: free its slots, move it to 'prepared'.

    Every entry point (chart, API, planner) cancels through here, so the booking, its slots and the
    case's state always change together; the audit entry holds the reason. The cancelled date is taken
    off the case, so no document or plan keeps dating holds or fasting for it. The patient is sent the
    cancellation (its calendar file removes the event) unless ``notify`` is False: a move is no cancellation.
    """
    text = cancel_reason(reason)
    if not confirmed:
        raise InvalidInput("confirm that the booking is to be cancelled", field="confirm")
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    view = case_view(uow, case_id, actor, policy, audit=False)
    verdict = evaluate(Action.CANCEL_BOOKING, view.snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    booking = uow.bookings.active_booking(case_id)
    if booking is None:
        raise NotFound("this case has no booking", field="booking")
    uow.bookings.release(booking)
    booking.status = "cancelled"
    booking.cancelled_at = utc_now()
    booking.cancel_reason = text
    before = workflow.state
    workflow.state = verdict.target.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    # the cancelled date must not live on in the plan: no hold, fasting or arrival dated for it
    update_facts(uow, case_id, {"procedure_date": None, "procedure_time": None}, actor, policy, expected_version=None)
    patient_id = workflow.case.patient_id
    record_audit(uow, actor, "cancel", "booking", booking.id, patient_id, reason=text, room=booking.room)
    record_audit(uow, actor, "transition", "case", case_id, patient_id, **{"from": before, "to": workflow.state})
    if notify:
        booking.calendar_sequence += 1  # the removal must outrank every version of the event already sent
        queue_appointment(uow, booking, patient_id, policy, "cancelled")
    return booking


def reschedule(
    uow: UnitOfWork,
    case_id: int,
    *,
    room: str,
    starts_at: dt.datetime,
    reason: str,
    actor: Actor,
    policy: ClinicPolicy,
    now: dt.datetime | None = None,
) -> Booking:
    """Move a case's booking to ``starts_at`` in ``room`` and tell the patient once that it has moved (H122).

    The old booking is cancelled with ``reason`` and the case booked again through :func:`cancel_booking` and
    :func:`book` (every guard, the slots' primary key, the one-active-booking index), neither telling the
    patient; the new booking keeps the old one's calendar event (UID) one version higher, and one message says
    "moved" with both times and the preparation dates that change. All in the caller's transaction.
    """
    workflow = load_workflow(uow, case_id, for_update=True)
    current = uow.bookings.active_booking(case_id)
    if current is None:
        raise NotFound("this case has no booking to move", field="booking")
    today = wall_clock(now or utc_now(), policy.time_zone).date()
    before = preparation_steps(facts_of(workflow.case), policy, today)
    was_room, was_start = current.room, current.starts_at
    uid, sequence = calendar_uid(current), current.calendar_sequence
    cancel_booking(
        uow, case_id, reason=reason, confirmed=True, actor=actor, policy=policy, expected_version=None, notify=False
    )
    moved = book(
        uow,
        case_id,
        room=room,
        starts_at=starts_at,
        actor=actor,
        policy=policy,
        expected_version=None,
        now=now,
        notify=False,
    )
    moved.calendar_uid, moved.calendar_sequence = uid, sequence + 1
    uow.session.flush()
    after = preparation_steps(facts_of(workflow.case), policy, today)
    queue_moved(uow, moved, workflow.case.patient_id, policy, Moved(was_room, was_start, before, after))
    return moved


def ensure_calendar(
    uow: UnitOfWork, rooms: tuple[str, ...], start: dt.date, days: int, *, zone_name: str = DEFAULT_TIME_ZONE
) -> int:
    """Create the bookable slots (weekdays 08:00-17:00 clinic time, 30-minute blocks) missing; return how many.

    The day's hours are the clinic's wall-clock hours in ``zone_name`` (``ClinicPolicy.time_zone``), never the
    server's zone: a server on UTC must not offer a Berlin clinic slots from 09:00 to 18:00.
    """
    zone = zone_of(zone_name)
    first = dt.datetime.combine(start, DAY_START, tzinfo=zone)
    last = dt.datetime.combine(start + dt.timedelta(days=days), DAY_END, tzinfo=zone)
    existing = {(s.room, s.starts_at) for s, _ in uow.bookings.slots_between(first, last)}
    new: list[Slot] = []
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        moment = dt.datetime.combine(day, DAY_START, tzinfo=zone)
        end = dt.datetime.combine(day, DAY_END, tzinfo=zone)
        while moment < end:
            for room in rooms:
                if (room, moment) not in existing:
                    new.append(Slot(room=room, starts_at=moment, ends_at=moment + dt.timedelta(minutes=SLOT_MINUTES)))
            moment += dt.timedelta(minutes=SLOT_MINUTES)
    if new:
        uow.bookings.add_slots(new)
    return len(new)
