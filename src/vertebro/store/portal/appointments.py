"""The message a patient gets when their appointment is booked, moved or cancelled, with its calendar file.

Queued by the booking service in the same transaction as the booking itself (store/workflow/booking.py),
so a booking that is rolled back sends nothing and a committed one always has its message. The time is
written in the clinic's zone with the zone named; the calendar file carries it in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from vertebro.clinical import ClinicPolicy
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking
from vertebro.store.portal.ical import CalendarEvent, calendar_text
from vertebro.store.portal.outbox import queue_message

Change = Literal["booked", "changed", "cancelled"]
SUMMARY = "Hospital appointment"  # no condition or procedure: calendars are shared and shown on lock screens


def calendar_uid(booking: Booking) -> str:
    """Return the calendar id of a case's appointment (the same for every version of one booking)."""
    return f"vertebro-booking-{booking.id}@vertebro"


def appointment_event(booking: Booking, policy: ClinicPolicy, *, cancelled: bool) -> CalendarEvent:
    """Return the calendar entry of a booking (where, when, what to bring, whom to call)."""
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
        sequence=1 if cancelled else 0,
        cancelled=cancelled,
    )


def queue_appointment(uow: UnitOfWork, booking: Booking, patient_id: int, policy: ClinicPolicy, change: Change) -> bool:
    """Queue the booked / changed / cancelled message with its ``.ics`` file; False when the patient has no contact.

    The message names the time (clinic zone, zone named), the place and what to do next; no clinical detail.
    """
    account = uow.portal.account_for_patient(patient_id)
    if account is None:
        return False
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
        verb = "has moved" if change == "changed" else "is booked"
        subject = f"Your appointment {verb}: {clinic.day(booking.starts_at)}"
        body = (
            f"Your appointment {verb}. When: {when}. Please arrive by {arrive} to check in.\n"
            f"Where: {place}.\n"
            f"Your preparation plan, with the dates for your medicines and when to stop eating and drinking, is in "
            f"your patient portal: {clinic.portal_url}/portal\n"
            "The attached calendar file adds the appointment to your phone or computer calendar."
        )
    ics = calendar_text(appointment_event(booking, policy, cancelled=change == "cancelled"), stamp=utc_now())
    return queue_message(
        uow,
        account,
        kind=f"appointment_{change}",
        subject=subject,
        body=body,
        dedupe_key=f"appointment:{change}:{booking.id}:{booking.starts_at.astimezone(dt.UTC):%Y%m%d%H%M}",
        clinic=clinic,
        attachment=ics,
    )
