"""The booking calendar (decision 0032): a day or a week (Monday first) per room, in the clinic's time zone.

The page is rendered on the server as a list of each day's bookings and slots, with a form per bookable start
(works without JavaScript); ``static/calendar.js`` turns it into one FullCalendar time grid per room, fed by
two JSON feeds (the bookings, and the slots with the feasibility verdict for the case being booked). A booking
is moved through one route, from the drag-and-drop confirmation or from a plain form.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BeforeValidator

from vertebro.clinical import ClinicPolicy, Feasibility
from vertebro.clinical.clock import zone_of
from vertebro.clinical.procedure import room_minutes
from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.pathway.machine import TRANSITIONS, Action, Role, State
from vertebro.store import workflow as svc
from vertebro.store.db import UnitOfWork
from vertebro.store.portal import changes
from vertebro.web.calendar.schemas import CalendarEvent, MoveOut, SlotFeed, SlotOut, event_of, wall_clock_text
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, form_data
from vertebro.web.templating import page

router = APIRouter()
Form = Annotated[FormData, Depends(form_data)]
DESK = (Role.COORDINATOR, Role.NURSE)
View = Literal["day", "week", "list"]
MAX_FEED_DAYS = 14


def _iso_date(value: object) -> object:
    """Only a date written YYYY-MM-DD is a date here (pydantic alone would read ``?start=0`` as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def working_day(day: dt.date) -> dt.date:
    """Return ``day``, or the Monday after it when it falls on a weekend (the rooms work Monday to Friday)."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def shown_days(view: View, anchor: dt.date) -> tuple[dt.date, int]:
    """Return the first day shown and how many: a week runs Monday to Sunday, a day is one working day."""
    day = working_day(anchor)
    if view == "day":
        return day, 1
    return day - dt.timedelta(days=day.weekday()), 7


def _local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def _clinic_today(policy: ClinicPolicy) -> dt.date:
    return dt.datetime.now(zone_of(policy.time_zone)).date()


def _case_booking(
    uow: UnitOfWork, staff: Staff, policy: ClinicPolicy, case_id: int | None
) -> tuple[svc.CaseView | None, Feasibility | None, int]:
    """The case being booked (its read audited), its feasibility now and the room minutes it needs."""
    if case_id is None:
        return None, None, 0
    view = svc.case_view(uow, case_id, staff.actor, policy)
    sessions = view.assessment.recommendation.sessions
    minutes = room_minutes(len(sessions[0]) if sessions else 1, policy)
    return view, svc.feasibility_now(view.facts, policy), minutes


def _not_bookable_yet(view: svc.CaseView | None) -> str | None:
    """Why the case's starts are not offered at all: its stage is not one a booking starts from (prepared)."""
    if view is None or State(view.workflow.state) in TRANSITIONS[Action.BOOK].sources:
        return None
    return f"the case is {view.workflow.state.replace('_', ' ')}: it can be booked once its preparation is complete"


@router.get("/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    start: Annotated[IsoDate | None, Query()] = None,
    view: Annotated[View, Query()] = "week",
    case_id: Annotated[RecordId | None, Query()] = None,
    done: Annotated[Literal["moved"] | None, Query()] = None,
) -> HTMLResponse:
    """A day or a week of the rooms (clinic time zone, weeks from Monday); with ``case_id``, its bookable starts.

    Only starts from which every hold can still be completed (and fasting and labs are in time) are offered
    (rule booking.feasible_start); other free slots are greyed out with the reason, and the page names each
    drug or step with the earliest feasible start. Without ``start`` it opens at that earliest date.
    """
    zone = zone_of(policy.time_zone)
    case_view, feasible, minutes = _case_booking(uow, staff, policy, case_id)
    earliest = feasible.earliest if feasible is not None else None
    today = _clinic_today(policy)
    anchor = start or today
    if start is None and case_view is not None:
        anchor = max(today + dt.timedelta(days=1), earliest.astimezone(zone).date() if earliest else today)
    first_day, days = shown_days(view, anchor)
    begin = _local_midnight(first_day, zone)
    end = _local_midnight(first_day + dt.timedelta(days=days), zone)
    slots = svc.free_slots(uow, begin, days)
    bookings = svc.calendar_bookings(uow, begin, end, staff.actor)
    already_booked = case_id is not None and uow.bookings.active_booking(case_id) is not None
    not_yet = _not_bookable_yet(case_view)
    uow.commit()
    offers = svc.slot_offers(slots, minutes or svc.SLOT_MINUTES, feasible)
    by_day: dict[dt.date, dict[str, list[svc.SlotOffer]]] = {}
    for offer in offers:
        by_day.setdefault(offer.starts_at.astimezone(zone).date(), {}).setdefault(offer.room, []).append(offer)
    bookings_by_day: dict[dt.date, list[svc.CalendarBooking]] = {}
    for booking in bookings:
        bookings_by_day.setdefault(booking.starts_at.astimezone(zone).date(), []).append(booking)
    step = dt.timedelta(days=1 if view == "day" else 7)
    previous = first_day - step
    if view == "day":
        while previous.weekday() >= 5:
            previous -= dt.timedelta(days=1)
    return page(
        request,
        "calendar.html",
        staff,
        days=by_day,
        bookings_by_day=bookings_by_day,
        view=case_view,
        mode=view,
        minutes=minutes,
        feasible=feasible,
        earliest=earliest,
        first_day=first_day,
        day_count=days,
        all_days=sorted(set(by_day) | set(bookings_by_day)),
        shows_today=first_day <= today < first_day + dt.timedelta(days=days),
        today=today,
        previous=previous,
        following=working_day(first_day + step),
        rooms=request.app.state.settings.rooms,
        zone=zone,
        zone_abbreviation=begin.strftime("%Z"),
        can_book=staff.role in DESK and not already_booked and not_yet is None,
        can_move=staff.role in DESK,
        already_booked=already_booked,
        not_yet=None if already_booked else not_yet,
        day_start=svc.DAY_START.isoformat(),
        day_end=svc.DAY_END.isoformat(),
        flash=(
            "The booking was moved. The patient is sent one message that it has moved (old and new time, any new "
            "preparation dates) with a calendar update."
            if done
            else None
        ),
    )


@router.get("/calendar/events.json", response_model=list[CalendarEvent])
def events_feed(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    start: Annotated[IsoDate, Query()],
    days: Annotated[int, Query(ge=1, le=MAX_FEED_DAYS)] = 7,
) -> list[CalendarEvent]:
    """The active bookings of ``days`` days from ``start`` (clinic time zone): patient, levels, state, room.

    Each patient shown is audited as read (purpose 'calendar'). Times are the clinic's wall-clock time
    (``start``/``end``, no offset) and the moment itself (``starts_at``, with offset).
    """
    zone = zone_of(policy.time_zone)
    begin = _local_midnight(start, zone)
    bookings = svc.calendar_bookings(uow, begin, _local_midnight(start + dt.timedelta(days=days), zone), staff.actor)
    uow.commit()
    movable = staff.role in DESK
    return [event_of(booking, zone, movable=movable) for booking in bookings]


@router.get("/calendar/slots.json", response_model=SlotFeed)
def slots_feed(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    start: Annotated[IsoDate, Query()],
    days: Annotated[int, Query(ge=1, le=MAX_FEED_DAYS)] = 7,
    case_id: Annotated[RecordId | None, Query()] = None,
) -> SlotFeed:
    """Every slot of ``days`` days from ``start`` with the feasibility verdict for ``case_id`` (rule
    booking.feasible_start): ``bookable`` only when every rule passes, otherwise each reason in words."""
    zone = zone_of(policy.time_zone)
    view, feasible, minutes = _case_booking(uow, staff, policy, case_id)
    slots = svc.free_slots(uow, _local_midnight(start, zone), days)
    already_booked = case_id is not None and uow.bookings.active_booking(case_id) is not None
    uow.commit()
    offers = svc.slot_offers(slots, minutes or svc.SLOT_MINUTES, feasible)
    earliest = feasible.earliest if feasible is not None else None
    return SlotFeed(
        zone=policy.time_zone,
        case_id=case_id,
        version=view.workflow.version if view is not None else None,
        minutes=minutes,
        can_book=staff.role in DESK and view is not None and not already_booked and _not_bookable_yet(view) is None,
        earliest=None if earliest is None else wall_clock_text(earliest, zone),
        earliest_text=None if earliest is None or feasible is None else feasible.describe(earliest),
        slots=[
            SlotOut(
                room=o.room,
                start=wall_clock_text(o.starts_at, zone),
                end=wall_clock_text(o.ends_at, zone),
                starts_at=o.starts_at.astimezone(zone).isoformat(),
                booked=o.booking_id is not None,
                bookable=o.bookable,
                reasons=list(o.reasons),
            )
            for o in offers
        ],
    )


def _move_target(form: FormData, zone: dt.tzinfo) -> tuple[str, dt.datetime]:
    """The room and the aware start of a move: ``starts_at`` (ISO, clinic wall-clock if no offset), or a
    ``day`` (YYYY-MM-DD) and a ``time`` (HH:MM) in the clinic's zone from the plain form."""
    room = form.required_text("room", 32)
    text = form.text("starts_at", 40)
    if text is None:
        day = form.day("day")
        time_text = form.required_text("time", 5)
        try:
            at = dt.time.fromisoformat(time_text) if re.fullmatch(r"[0-9]{2}:[0-9]{2}", time_text) else None
        except ValueError:
            at = None
        if at is None:
            raise InvalidInput("write the time as HH:MM, from 00:00 to 23:59", field="time")
        return room, dt.datetime.combine(day, at, tzinfo=zone)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("write the start as YYYY-MM-DDTHH:MM", field="starts_at") from None
    return room, moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _move_page(
    request: Request,
    uow: UnitOfWork,
    staff: Staff,
    policy: ClinicPolicy,
    case_id: int,
    *,
    status: int = 200,
    error: VertebroError | None = None,
    values: dict[str, str | list[str]] | None = None,
) -> HTMLResponse:
    view = svc.case_view(uow, case_id, staff.actor, policy)
    booking = uow.bookings.active_booking(case_id)
    asks = changes.open_requests(uow, case_id)  # the patient's requests to cancel or move (decision 0040)
    uow.commit()
    if booking is None:
        raise NotFound("this case has no booking to move", field="booking")
    zone = zone_of(policy.time_zone)
    local = booking.starts_at.astimezone(zone)
    return page(
        request,
        "calendar_move.html",
        staff,
        status,
        view=view,
        booking=booking,
        local=local,
        zone_abbreviation=local.strftime("%Z"),
        rooms=request.app.state.settings.rooms,
        values=values or {"room": booking.room, "day": local.date().isoformat(), "time": f"{local:%H:%M}"},
        asks=asks,
        # a mistake in one of the form's own fields is shown beside it and named in the message at the top
        errors={error.field: error.message} if error is not None and error.field in MOVE_LABELS else {},
        flash=None if error is None else _named(error),
        flash_kind="error" if error else "ok",
    )


MOVE_LABELS = {"room": "Room", "day": "New day", "time": "New start time", "answer_request": "The patient's requests"}


def _named(error: VertebroError) -> str:
    """The error's message, led by the label of the move form's field it is about (when it is about one)."""
    label = MOVE_LABELS.get(error.field or "")
    return f"{label}: {error.message}" if label else error.message


@router.get("/cases/{case_id}/booking/move", response_class=HTMLResponse)
def move_form(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
) -> HTMLResponse:
    """A plain form to move a case's booking to another day, time or room (the keyboard and no-script way)."""
    return _move_page(request, uow, staff, policy, case_id)


@router.post(
    "/cases/{case_id}/booking/move",
    responses={200: {"model": MoveOut, "description": "Moved (to a client that accepts JSON; a form gets a 303)"}},
)
def move(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Form,
) -> Response:
    """Move the case's booking (the posted form is the confirmation); the server re-checks every rule.

    A refused move (a hold that could not be completed, a slot taken, a stale version) changes nothing and
    says why: JSON ``{"detail", "field"}`` with the status for a script (``Accept: application/json``), the
    form again with the message otherwise.
    """
    wants_json = "application/json" in request.headers.get("accept", "")
    zone = zone_of(policy.time_zone)
    try:
        room, starts_at = _move_target(form, zone)
        booking = svc.move_booking(
            uow,
            case_id,
            room=room,
            starts_at=starts_at,
            actor=staff.actor,
            policy=policy,
            expected_version=form.version(),
        )
        changes.answer_with_booking(uow, case_id, form.record_ids("answer_request"), outcome="moved", actor=staff.actor)
        uow.commit()
    except VertebroError as error:
        uow.rollback()
        if wants_json or error.status_code in (401, 403) or (error.status_code == 404 and error.field != "booking"):
            raise  # the app's handler answers it: ErrorOut ({"detail", "field"}) to a script, a page otherwise
        # every ticked request is shown ticked again (and only those): the form's raw values keep only the first
        typed: dict[str, str | list[str]] = {**form.raw, "answer_request": form.all("answer_request")}
        return _move_page(request, uow, staff, policy, case_id, status=error.status_code, error=error, values=typed)
    local = booking.starts_at.astimezone(zone)
    if wants_json:
        moved = MoveOut(
            detail=f"Moved to {booking.room} at {policy.clinic.moment(booking.starts_at)}.",
            booking_id=booking.id,
            start=wall_clock_text(booking.starts_at, zone),
        )
        return JSONResponse(moved.model_dump())
    return RedirectResponse(f"/calendar?view=day&start={local.date().isoformat()}&done=moved", status_code=303)
