"""A simple booking calendar: rooms by day in 30-minute slots; booking happens from here."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BeforeValidator

from vertebro.clinical.procedure import room_minutes
from vertebro.ids import RecordId
from vertebro.store import workflow as svc
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.templating import page

router = APIRouter()
DAYS_SHOWN = 7


def _iso_date(value: object) -> object:
    """Only a date written YYYY-MM-DD is a date here (pydantic alone would read ``?start=0`` as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


@router.get("/calendar", response_class=HTMLResponse)
def calendar(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    start: Annotated[dt.date | None, Query(), BeforeValidator(_iso_date)] = None,
    case_id: Annotated[RecordId | None, Query()] = None,
) -> HTMLResponse:
    """The rooms' slots for a week; with ``case_id``, free runs long enough for that case can be booked.

    Only starts from which every hold can still be completed (and fasting and labs are in time) are offered
    (rule booking.feasible_start); earlier free slots are shown greyed out, and the page names each drug or
    step with the earliest feasible start. Without ``start`` the week opens at that earliest date.
    """
    view = svc.case_view(uow, case_id, staff.actor, policy) if case_id else None
    minutes = 0
    feasible = None
    if view is not None:
        sessions = view.assessment.recommendation.sessions
        minutes = room_minutes(len(sessions[0]) if sessions else 1, policy)
        feasible = svc.feasibility_now(view.facts, policy)
    first_day = start or dt.date.today() + dt.timedelta(days=1)
    earliest = feasible.earliest if feasible is not None else None
    if start is None and earliest is not None:
        first_day = max(first_day, earliest.astimezone().date())
    slots = svc.free_slots(uow, dt.datetime.combine(first_day, dt.time(0)).astimezone(), DAYS_SHOWN)
    uow.commit()
    days: dict[dt.date, dict[str, list[tuple[dt.datetime, int | None]]]] = {}
    for slot, booking_id in slots:
        local = slot.starts_at.astimezone()
        days.setdefault(local.date(), {}).setdefault(slot.room, []).append((local, booking_id))
    needed = max(1, -(-minutes // svc.SLOT_MINUTES)) if minutes else 1
    bookable: set[tuple[str, dt.datetime]] = set()
    too_early: set[tuple[str, dt.datetime]] = set()
    for rooms in days.values():
        for room, runs in rooms.items():
            for i in range(len(runs) - needed + 1):
                window = runs[i : i + needed]
                contiguous = all(
                    b[0] - a[0] == dt.timedelta(minutes=svc.SLOT_MINUTES) for a, b in itertools.pairwise(window)
                )
                if contiguous and all(booking is None for _, booking in window):
                    if feasible is None or feasible.allows(window[0][0]):
                        bookable.add((room, window[0][0]))
                    else:
                        too_early.add((room, window[0][0]))
    return page(
        request,
        "calendar.html",
        staff,
        days=days,
        view=view,
        minutes=minutes,
        bookable=bookable,
        too_early=too_early,
        feasible=feasible,
        earliest=earliest,
        first_day=first_day,
        previous=first_day - dt.timedelta(days=DAYS_SHOWN),
        following=first_day + dt.timedelta(days=DAYS_SHOWN),
        rooms=request.app.state.settings.rooms,
    )
