"""The calendar's JSON feeds: bookings as events, and slots with the feasibility verdict for a case."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from vertebro.store.workflow import CalendarBooking


def wall_clock_text(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """Return a moment as the clinic's wall-clock time without offset ('2026-12-08T09:30:00').

    The calendar shows these as they are (FullCalendar in its 'UTC' mode, so the browser's own zone never
    shifts them): the page names the clinic's zone once.
    """
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


class CalendarEvent(BaseModel):
    """One active booking on the calendar."""

    id: int
    case_id: int
    patient_id: int
    title: str
    name: str | None
    identifier: str
    levels: list[str]
    state: str
    room: str
    start: str
    end: str
    starts_at: str
    version: int
    movable: bool
    chart_url: str
    move_url: str | None


class SlotOut(BaseModel):
    """One slot: bookable for the case only when every rule passes; otherwise the reasons in words."""

    room: str
    start: str
    end: str
    starts_at: str
    booked: bool
    bookable: bool
    reasons: list[str]


class SlotFeed(BaseModel):
    """The slots of a period with their verdicts, and the case's earliest feasible start."""

    zone: str
    case_id: int | None
    version: int | None
    minutes: int
    can_book: bool
    earliest: str | None
    earliest_text: str | None
    slots: list[SlotOut]


class MoveOut(BaseModel):
    """A booking moved: what the calendar tells the user, the new booking and its clinic wall-clock start."""

    detail: str
    booking_id: int
    start: str


def event_of(booking: CalendarBooking, zone: dt.tzinfo, *, movable: bool) -> CalendarEvent:
    """Return a booking as a calendar event: 'Name (identifier) · L1 L2 · scheduled'."""
    who = booking.name or booking.identifier
    levels = " ".join(booking.levels) or "levels not recorded"
    can_move = movable and booking.state == "scheduled"
    return CalendarEvent(
        id=booking.booking_id,
        case_id=booking.case_id,
        patient_id=booking.patient_id,
        title=f"{who} · {levels} · {booking.state}",
        name=booking.name,
        identifier=booking.identifier,
        levels=list(booking.levels),
        state=booking.state,
        room=booking.room,
        start=wall_clock_text(booking.starts_at, zone),
        end=wall_clock_text(booking.ends_at, zone),
        starts_at=booking.starts_at.astimezone(zone).isoformat(),
        version=booking.version,
        movable=can_move,
        chart_url=f"/patients/{booking.patient_id}#case-{booking.case_id}-booking",
        move_url=f"/cases/{booking.case_id}/booking/move" if can_move else None,
    )
