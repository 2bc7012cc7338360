"""The service lead's planning page: run the planner, see the proposed calendar, compare, edit, accept.

The planner runs inside the request, bounded by a time limit of at most 30 seconds (decision 0012): the
reads are committed before the solver starts, so no transaction stays open while it searches. The service
lead plans, edits and accepts; coordinators may look.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical.clock import zone_of
from vertebro.errors import VertebroError
from vertebro.ids import RecordId
from vertebro.pathway.machine import Role
from vertebro.scheduling.explain import weights_explained
from vertebro.scheduling.instance import Weights
from vertebro.scheduling.service import (
    AGE_BANDS,
    PlanningSetup,
    PlanView,
    accept_plan,
    database_instance,
    move_session,
    plan_view,
    proposal,
    recent_plans,
    save_proposal,
)
from vertebro.store.base import clinic_today
from vertebro.store.workflow import CalendarBooking, calendar_bookings
from vertebro.web.deps import Policy, Staff, UoW, allow, current_policy
from vertebro.web.forms import FormData, form_data
from vertebro.web.templating import page

router = APIRouter()
Form = Annotated[FormData, Depends(form_data)]

VIEWERS = (Role.SERVICE_LEAD, Role.COORDINATOR)
PLANNER = (Role.SERVICE_LEAD,)
WEB_TIME_LIMIT = 30.0
DEFAULT_TIME_LIMIT = 10.0
DEFAULT_WEEKS = 2


def _next_monday(zone_name: str) -> dt.date:
    today = clinic_today(zone_name)
    return today + dt.timedelta(days=7 - today.weekday())


def _setup(request: Request) -> PlanningSetup:
    settings = request.app.state.settings
    return PlanningSetup(rooms=tuple(settings.rooms), recovery_bays=settings.recovery_bays)


def _weights(form: FormData) -> Weights:
    defaults = Weights()
    values = {name: form.number(f"w_{name}", 0, 100_000) for name in Weights.model_fields}
    return Weights.model_validate(defaults.model_dump() | {k: v for k, v in values.items() if v is not None})


def _planning_page(
    request: Request,
    uow: UoW,
    staff: Staff,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    error: str | None = None,
) -> HTMLResponse:
    plans = recent_plans(uow)
    uow.commit()
    return page(
        request,
        "schedule.html",
        staff,
        status,
        plans=plans,
        values=values or {},
        weight_rows=weights_explained(Weights().model_dump()),
        default_start=_next_monday(current_policy(request.app).time_zone).isoformat(),
        default_weeks=DEFAULT_WEEKS,
        default_time_limit=DEFAULT_TIME_LIMIT,
        max_time_limit=WEB_TIME_LIMIT,
        flash=error,
        flash_kind="error" if error else "ok",
    )


@router.get("/schedule", response_class=HTMLResponse)
def planning(request: Request, uow: UoW, staff: Annotated[Staff, Depends(allow(*VIEWERS))]) -> HTMLResponse:
    """The planning page: the planner's form (service lead) and the recent plans."""
    return _planning_page(request, uow, staff)


@router.post("/schedule/plans")
def run_planner(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*PLANNER))],
    policy: Policy,
    form: Form,
) -> Response:
    """Plan the cases ready to schedule (bounded time), store the proposal and show it."""
    try:
        start = form.day("start")
        weeks = form.required_integer("weeks", 1, 12)
        time_limit = form.required_number("time_limit", 1, WEB_TIME_LIMIT)
        weights = _weights(form)
        source = database_instance(
            uow, start=start, weeks=weeks, setup=_setup(request), policy=policy, actor=staff.actor, weights=weights
        )
        uow.commit()  # the audited reads; no transaction stays open while the solver runs
        made = proposal(source, time_limit=time_limit)
        row = save_proposal(uow, made, time_limit=time_limit, actor=staff.actor)
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403):
            raise
        uow.rollback()
        message = f"{error.field}: {error.message}" if error.field else error.message
        return _planning_page(request, uow, staff, status=error.status_code, values=form.raw, error=message)
    except ValueError as error:  # weights outside their rules (pydantic)
        uow.rollback()
        return _planning_page(request, uow, staff, status=422, values=form.raw, error=f"weights: {error}")
    return RedirectResponse(f"/schedule/plans/{row.id}", status_code=303)


def _existing_bookings(
    request: Request, uow: UoW, staff: Staff, view: PlanView
) -> dict[tuple[dt.date, str], list[CalendarBooking]]:
    """The calendar's active bookings on the plan's days that the plan does not place (its own cases are shown as
    the plan places them), by day and room id, so the grid hides nothing that holds a room (decision 0032)."""
    if not view.dates:
        return {}
    zone = zone_of(request.app.state.settings.timezone)
    begin = dt.datetime.combine(min(view.dates), dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(max(view.dates) + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    planned = {entry.case_id for entry in view.entries}
    room_ids = {name: room_id for room_id, name in view.rooms.items()}
    existing: dict[tuple[dt.date, str], list[CalendarBooking]] = {}
    for booking in calendar_bookings(uow, begin, end, staff.actor, purpose="schedule plan"):
        if booking.case_id in planned or booking.room not in room_ids:
            continue
        existing.setdefault((booking.starts_at.astimezone(zone).date(), room_ids[booking.room]), []).append(booking)
    return existing


def _plan_page(
    request: Request,
    uow: UoW,
    staff: Staff,
    plan_id: int,
    *,
    status: int = 200,
    flash: str | None = None,
    error: bool = False,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    view = plan_view(uow, plan_id, staff.actor)
    existing = _existing_bookings(request, uow, staff, view)
    uow.commit()
    return page(
        request,
        "schedule_plan.html",
        staff,
        status,
        view=view,
        existing=existing,
        zone=zone_of(request.app.state.settings.timezone),
        bands=AGE_BANDS,
        can_plan=staff.role is Role.SERVICE_LEAD,
        values=values or {},
        max_time_limit=WEB_TIME_LIMIT,
        default_time_limit=DEFAULT_TIME_LIMIT,
        weight_rows=weights_explained(view.instance.weights.model_dump()),
        flash=flash,
        flash_kind="error" if error else "ok",
    )


@router.get("/schedule/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request,
    plan_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*VIEWERS))],
    done: str | None = None,
) -> HTMLResponse:
    """A proposed plan: the calendar, the comparison with first come first served, the objective terms."""
    messages = {"accepted": "Plan accepted: the bookings are made.", "moved": "Session moved; the plan was re-checked."}
    return _plan_page(request, uow, staff, plan_id, flash=messages.get(done or ""))


def _change(
    request: Request, uow: UoW, staff: Staff, plan_id: int, form: FormData, work: str, policy: Policy
) -> Response:
    try:
        if work == "accept":
            accept_plan(uow, plan_id, actor=staff.actor, policy=policy, expected_version=form.version())
        else:
            move_session(
                uow,
                plan_id,
                session_key=form.required_text("session", 80),
                starts_at=dt.datetime.combine(form.day("date"), dt.time.fromisoformat(form.required_text("time", 5))),
                room=form.required_text("room", 32),
                actor=staff.actor,
                expected_version=form.version(),
            )
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403, 404):
            raise
        uow.rollback()
        return _plan_page(
            request, uow, staff, plan_id, status=error.status_code, flash=error.message, error=True, values=form.raw
        )
    except ValueError:
        uow.rollback()
        return _plan_page(
            request, uow, staff, plan_id, status=422, flash="time: write it as HH:MM", error=True, values=form.raw
        )
    return RedirectResponse(f"/schedule/plans/{plan_id}?done={'accepted' if work == 'accept' else 'moved'}", 303)


@router.post("/schedule/plans/{plan_id}/accept")
def accept(
    request: Request,
    plan_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*PLANNER))],
    policy: Policy,
    form: Form,
) -> Response:
    """Accept the plan: every first session is booked in one transaction, or nothing is."""
    return _change(request, uow, staff, plan_id, form, "accept", policy)


@router.post("/schedule/plans/{plan_id}/move")
def move(
    request: Request,
    plan_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*PLANNER))],
    policy: Policy,
    form: Form,
) -> Response:
    """Move one session of the proposed plan to another free slot (checked before it is kept)."""
    return _change(request, uow, staff, plan_id, form, "move", policy)
