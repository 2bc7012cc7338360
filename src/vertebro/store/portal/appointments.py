"""The message a patient gets when their appointment is booked, moved or cancelled, with its calendar file.

Queued by the booking service in the same transaction as the booking itself (store/workflow/booking.py),
so a booking that is rolled back sends nothing and a committed one always has its message. The time is
written in the clinic's zone with the zone named; the calendar file carries it in UTC.

A move sends one message, never a cancellation and a booking (decision 0038, hazard H122): "your appointment
has moved", the old and the new time and room, the preparation dates that change with it, and a calendar file
that updates the event the patient already has (the same UID, a higher SEQUENCE, ``METHOD:REQUEST``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from vertebro.clinical import Case, ClinicPolicy, assess
from vertebro.clinical.clock import aware
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.preparation import Status
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking
from vertebro.store.portal.ical import CalendarEvent, calendar_text
from vertebro.store.portal.outbox import queue_message

Change = Literal["booked", "changed", "cancelled"]
SUMMARY = "Hospital appointment"  # no condition or procedure: calendars are shared and shown on lock screens
HELD = (HoldAction.HOLD, HoldAction.SHARED_DECISION)


def calendar_uid(booking: Booking) -> str:
    """Return the calendar id of a booking's appointment: the same for every version of it, moves included."""
    return booking.calendar_uid or f"vertebro-booking-{booking.id}@vertebro"


def appointment_event(
    booking: Booking, policy: ClinicPolicy, *, cancelled: bool, attendee: str | None = None
) -> CalendarEvent:
    """Return the calendar entry of a booking (where, when, what to bring, whom to call).

    With the patient's e-mail address (``attendee``) it is an iTIP message from the clinic (``REQUEST`` or
    ``CANCEL``) carrying the booking's current ``SEQUENCE``; without, a plain file to import (``PUBLISH``).
    """
    clinic = policy.clinic
    arrive = booking.starts_at - dt.timedelta(minutes=policy.arrival_minutes_early)
    return CalendarEvent(
        uid=calendar_uid(booking),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=SUMMARY,
        location=f"{clinic.site} ({booking.room}), {clinic.address}",
        description=(
            f"Arrive by {clinic.moment(arrive)} to check in. Follow the preparation plan in your patient portal "
            f"({clinic.portal_url}/portal). To change or cancel, call {clinic.call} ({clinic.opening_hours})."
        ),
        sequence=booking.calendar_sequence,
        cancelled=cancelled,
        organizer=(clinic.name, clinic.sender) if attendee else None,
        attendee=attendee,
    )


def _queue(
    uow: UnitOfWork,
    booking: Booking,
    patient_id: int,
    policy: ClinicPolicy,
    *,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
) -> bool:
    """Queue one appointment message with its calendar file to the patient; False when they have no contact."""
    account = uow.portal.account_for_patient(patient_id)
    if account is None:
        return False
    attendee = "".join(c for c in account.email or "" if ord(c) > 32) or None
    cancelled = kind == "appointment_cancelled"
    ics = calendar_text(appointment_event(booking, policy, cancelled=cancelled, attendee=attendee), stamp=utc_now())
    return queue_message(
        uow,
        account,
        kind=kind,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        clinic=policy.clinic,
        attachment=ics,
    )


def queue_appointment(
    uow: UnitOfWork, booking: Booking, patient_id: int, policy: ClinicPolicy, change: Literal["booked", "cancelled"]
) -> bool:
    """Queue the booked or cancelled message with its ``.ics`` file; False when the patient has no contact.

    The message names the time (clinic zone, zone named), the place and what to do next; no clinical detail.
    A move is not a cancellation and a booking: it sends :func:`queue_moved` alone.
    """
    clinic = policy.clinic
    when = clinic.moment(booking.starts_at)
    arrive = clinic.moment(booking.starts_at - dt.timedelta(minutes=policy.arrival_minutes_early))
    place = f"{clinic.site} ({booking.room}), {clinic.address}"
    if change == "cancelled":
        subject = f"Your appointment on {clinic.day(booking.starts_at)} is cancelled"
        body = (
            f"Your appointment at {when} is cancelled. You do not need to come in.\n"
            "Take your medicines as usual unless your team tells you otherwise: the dates in your old preparation "
            "plan no longer apply. We will contact you about a new date.\n"
            f"The attached calendar file removes the appointment from your calendar."
        )
    else:
        subject = f"Your appointment is booked: {clinic.day(booking.starts_at)}"
        body = (
            f"Your appointment is booked. When: {when}. Please arrive by {arrive} to check in.\n"
            f"Where: {place}.\n"
            f"Your preparation plan, with the dates for your medicines and when to stop eating and drinking, is in "
            f"your patient portal: {clinic.portal_url}/portal\n"
            "The attached calendar file adds the appointment to your phone or computer calendar."
        )
    return _queue(
        uow,
        booking,
        patient_id,
        policy,
        kind=f"appointment_{change}",
        subject=subject,
        body=body,
        dedupe_key=f"appointment:{change}:{booking.id}:{booking.starts_at.astimezone(dt.UTC):%Y%m%d%H%M}",
    )


@dataclass(frozen=True, slots=True)
class DatedStep:
    """One dated step of the patient's preparation, in words: what (``label``) and when (``when``)."""

    key: str
    label: str
    when: str


def preparation_steps(facts: Case, policy: ClinicPolicy, today: dt.date) -> tuple[DatedStep, ...]:
    """Return the dated steps of the patient's preparation plan in words, from the clinical core's plan.

    The same dates the portal's plan shows (rule preparation.fasting, the medication hold rules, preparation.labs):
    the last dose and the restart of each medicine held, each fasting time, each blood test still to do. The
    core's times are clinic wall-clock times; they are written in the clinic's zone with the zone named.
    """
    clinic = policy.clinic
    plan = assess(facts, policy, as_of=today).preparation

    def moment(value: dt.datetime) -> str:
        return clinic.moment(aware(value, policy.time_zone))

    steps: list[DatedStep] = []
    for hold in plan.medication_holds:
        if hold.action not in HELD or hold.outstanding:
            continue  # no date yet (the portal says what is awaited): nothing dated can change
        if hold.last_dose_on is not None:
            day = hold.last_dose_on
            last = f"on {day:%A} {day.day} {day:%B %Y}"
        elif hold.last_dose_by is not None:
            last = f"no later than {moment(hold.last_dose_by)}"
        else:
            last = ""
        if last:
            steps.append(DatedStep(f"last:{hold.drug}", f"Last dose of {hold.drug}", last))
        if hold.restart_from is not None:
            steps.append(
                DatedStep(f"restart:{hold.drug}", f"Start {hold.drug} again", f"from {moment(hold.restart_from)}")
            )
    for item in plan.items:
        if item.due is None or item.kind not in ("fasting", "lab"):
            continue
        if item.kind == "fasting":
            steps.append(
                DatedStep(f"fasting:{item.instruction}", item.instruction.capitalize(), f"by {moment(item.due)}")
            )
        elif item.status is not Status.DONE:
            name = "INR" if item.instruction.startswith("INR") else "platelet count"
            steps.append(DatedStep(f"lab:{name}", f"Blood test ({name})", f"by {moment(item.due)}"))
    return tuple(steps)


def changed_steps(before: tuple[DatedStep, ...], after: tuple[DatedStep, ...]) -> list[str]:
    """Return a line for each dated step that a move changes: its new date and the old one."""
    old = {step.key: step for step in before}
    lines: list[str] = []
    for step in after:
        was = old.pop(step.key, None)
        if was is None:
            lines.append(f"- {step.label}: {step.when} (new)")
        elif was.when != step.when:
            lines.append(f"- {step.label}: {step.when} (it was {was.when})")
    lines += [f"- {step.label}: the date in your old plan ({step.when}) no longer applies" for step in old.values()]
    return lines


@dataclass(frozen=True, slots=True)
class Moved:
    """Where and when a moved appointment was, and the patient's dated preparation then and now."""

    room: str
    starts_at: dt.datetime
    before: tuple[DatedStep, ...]
    after: tuple[DatedStep, ...]


def queue_moved(uow: UnitOfWork, booking: Booking, patient_id: int, policy: ClinicPolicy, moved: Moved) -> bool:
    """Queue the one message of a move (hazard H122): moved, not cancelled; the old and the new time and room;
    the preparation dates that change; a calendar file updating the same event. False when there is no contact.
    """
    clinic = policy.clinic
    when = clinic.moment(booking.starts_at)
    arrive = clinic.moment(booking.starts_at - dt.timedelta(minutes=policy.arrival_minutes_early))
    changes = changed_steps(moved.before, moved.after)
    if changes:
        held = any(line.startswith(("- Last dose of", "- Start ")) for line in changes)
        preparation = (
            "Your preparation dates move with it. Follow these dates, not the ones in your old plan:\n"
            + "\n".join(changes)
            + "\n"
            + (
                f"If you have already stopped a medicine for the old date, call {clinic.call} before you take it "
                "again.\n"
                if held
                else ""
            )
        )
    elif moved.after:
        preparation = "Your preparation dates do not change.\n"
    else:
        preparation = ""
    body = (
        "Your appointment has moved to a new time. It is not cancelled: please come at the new time.\n"
        f"New time: {when}, in {booking.room}. Please arrive by {arrive} to check in.\n"
        f"Old time (no longer valid): {clinic.moment(moved.starts_at)}, in {moved.room}.\n"
        f"Where: {clinic.place}.\n"
        f"{preparation}"
        f"Your whole preparation plan is in your patient portal: {clinic.portal_url}/portal\n"
        "The attached calendar file moves the appointment in your phone or computer calendar: it updates the "
        "appointment you already have there rather than adding a second one."
    )
    return _queue(
        uow,
        booking,
        patient_id,
        policy,
        kind="appointment_changed",
        subject=f"Your appointment has moved to {clinic.day(booking.starts_at)}",
        body=body,
        dedupe_key=f"appointment:moved:{booking.id}:{booking.starts_at.astimezone(dt.UTC):%Y%m%d%H%M}",
    )
