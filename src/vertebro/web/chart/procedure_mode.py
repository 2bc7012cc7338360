"""Procedure mode: the radiologist's focused view during the procedure, with a cement timer per level (decision 0034).

The timer's times live on the procedure record's level (mixing, pauses, injection start and end), so the phase
shown survives a save, a reload or another screen in the room. Each timer button is a form that works without
JavaScript (it posts and comes back here); with JavaScript it posts in the background and the page keeps what
was typed in the record's form.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from vertebro.clinical import ClinicPolicy
from vertebro.clinical.clock import zone_of
from vertebro.clinical.procedure import CementTimeline, timer_reading
from vertebro.dicom import chart as dicom_chart
from vertebro.errors import Conflict, InvalidFields, InvalidInput, NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.pathway.machine import Role
from vertebro.store import workflow as svc
from vertebro.store.base import utc_now
from vertebro.store.models import LEAKAGE, ProcedureLevel
from vertebro.web.chart import care_forms
from vertebro.web.deps import Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, form_data
from vertebro.web.templating import page

router = APIRouter()
Form = Annotated[FormData, Depends(form_data)]
CARE = (Role.NURSE, Role.RADIOLOGIST)
LEVEL = Annotated[str, Path(pattern=r"^[CTLS][0-9]{1,2}$", max_length=3)]


def _moment(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def timer_state(
    timeline: CementTimeline, row: ProcedureLevel | None, level: str, now: dt.datetime, policy: ClinicPolicy
) -> dict[str, Any]:
    """Return one level's timer as the page and its script read it (cement.phases, cement.working_time_warning)."""
    mixed = None if row is None else row.cement_mixed_at
    reading = timer_reading(
        timeline,
        mixed_at=mixed,
        paused_at=None if row is None else row.timer_paused_at,
        paused_seconds=0 if row is None else (row.timer_paused_seconds or 0),
        now=now,
        warn_minutes=policy.cement_warning_minutes,
    )
    return {
        "level": level,
        "started": mixed is not None,
        "elapsed_s": round(reading.elapsed_min * 60),
        "since_mixing_s": round(reading.since_mixing_min * 60),
        "phase": reading.phase,
        "warning": reading.warning,
        "paused": reading.paused,
        "paused_s": 0 if row is None else (row.timer_paused_seconds or 0),
        "mixed_at": None if row is None else row.cement_mixed_at,
        "injection_started_at": None if row is None else row.injection_started_at,
        "injection_ended_at": None if row is None else row.injection_ended_at,
        "times": {
            "mixed_at": _moment(mixed),
            "injection_started_at": _moment(None if row is None else row.injection_started_at),
            "injection_ended_at": _moment(None if row is None else row.injection_ended_at),
        },
    }


def planned_levels(view: svc.CaseView) -> tuple[str, ...]:
    """Return the levels of the record, or before any draft those of the first planned session."""
    if view.procedure is not None and view.procedure.levels:
        return tuple(lv.level for lv in view.procedure.levels)
    plan = view.assessment.recommendation
    return tuple(plan.sessions[0] if plan.sessions else plan.levels)


def _mode_page(
    request: Request,
    uow: UoW,
    staff: Staff,
    policy: ClinicPolicy,
    case_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    view = svc.case_view(uow, case_id, staff.actor, policy)
    modality = dicom_chart.modality_reports(uow, [case_id])
    uow.commit()
    timeline = view.assessment.procedure.cement
    now = utc_now()
    rows = {lv.level: lv for lv in view.procedure.levels} if view.procedure is not None else {}
    levels = planned_levels(view)
    timers = [timer_state(timeline, rows.get(level), level, now, policy) for level in levels]
    return page(
        request,
        "procedure_mode.html",
        staff,
        status,
        view=view,
        a=view.assessment_data,
        cid=case_id,
        role=staff.role.value,
        timeline=timeline,
        phases=[{"name": p.name, "start_min": p.start_min, "end_min": p.end_min} for p in timeline.phases],
        timers=timers,
        warn_minutes=policy.cement_warning_minutes,
        errors=errors or {},
        values=values or {},
        section="procedure" if errors else None,
        flash=(errors or {}).get("procedure"),
        flash_kind="error" if errors else "ok",
        leakage=LEAKAGE,
        procedure_values=partial(care_forms.procedure_form_values, zone_name=policy.time_zone),
        selected_leaks=care_forms.selected_leaks,
        modality=modality,
        modality_prefill=partial(dicom_chart.prefill, zone_name=policy.time_zone),
    )


@router.get("/cases/{case_id}/procedure-mode", response_class=HTMLResponse)
def procedure_mode(
    request: Request,
    case_id: Annotated[RecordId, Path()],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
) -> HTMLResponse:
    """Procedure mode: a cement timer per level and the procedure record's form (the read is audited)."""
    return _mode_page(request, uow, staff, policy, case_id)


def wants_json(request: Request) -> bool:
    """True when the page's script posted the timer in the background and reads the answer as JSON."""
    return "application/json" in request.headers.get("accept", "")


TIMER_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The level's timer after the action, for the page's script (sent when it accepts JSON)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["level", "started", "elapsed_s", "since_mixing_s", "phase", "paused", "times"],
                    "properties": {
                        "level": {"type": "string"},
                        "started": {"type": "boolean"},
                        "elapsed_s": {"type": "integer"},
                        "since_mixing_s": {"type": "integer"},
                        "phase": {"type": "string"},
                        "warning": {"type": "boolean"},
                        "paused": {"type": "boolean"},
                        "paused_s": {"type": "integer"},
                        "times": {"type": "object"},
                        "times_text": {"type": "object"},
                    },
                }
            }
        },
    }
}


@router.post("/cases/{case_id}/procedure/levels/{level}/timer", response_model=None, responses=TIMER_ANSWER)
def cement_timer(
    request: Request,
    case_id: Annotated[RecordId, Path()],
    level: LEVEL,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """Start, pause or resume a level's cement timer, or record its injection's start or end (stored, audited).

    A second "start" does not restart the timer. Answers the timer's state as JSON to the page's script, or
    comes back to procedure mode.
    """
    workflow = uow.workflows.get(case_id)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    view = svc.case_view(uow, case_id, staff.actor, policy, audit=False)
    try:
        row = svc.cement_timer(
            uow,
            case_id,
            level,
            form.raw.get("action", ""),
            planned_levels=planned_levels(view),
            actor=staff.actor,
            planned_technique=view.assessment.recommendation.treatment.value,
        )
        uow.commit()
    except (InvalidInput, Conflict) as error:
        uow.rollback()
        if wants_json(request):
            return JSONResponse({"detail": error.message, "field": error.field}, status_code=error.status_code)
        return _mode_page(
            request, uow, staff, policy, case_id, status=error.status_code, errors={"procedure": error.message}
        )
    if wants_json(request):
        state = timer_state(view.assessment.procedure.cement, row, level, utc_now(), policy)
        zone = zone_of(request.app.state.settings.timezone)
        moments = ("mixed_at", "injection_started_at", "injection_ended_at")
        body = {k: v for k, v in state.items() if k not in moments}
        body["times_text"] = {
            name: None if state[name] is None else state[name].astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            for name in moments
        }
        return JSONResponse(body)
    return RedirectResponse(f"/cases/{case_id}/procedure-mode#timer-{level}", status_code=303)


def submit_from_mode(
    request: Request, uow: UoW, staff: Staff, policy: ClinicPolicy, case_id: int, form: FormData, work: Any
) -> Response:
    """Save or sign the record posted from procedure mode; on a mistake show procedure mode again with every
    message beside its field and the values typed (several leak sites kept)."""
    try:
        work()
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403, 404):
            raise
        uow.rollback()
        errors = {f"procedure.{f}": m for f, m in getattr(error, "problems", {}).items()}
        errors.setdefault(f"procedure.{error.field or 'form'}", error.message)
        errors["procedure"] = error.message
        return _mode_page(
            request, uow, staff, policy, case_id, status=error.status_code, errors=errors, values=typed_values(form)
        )
    return RedirectResponse(f"/cases/{case_id}/procedure-mode?done=procedure", status_code=303)


def typed_values(form: FormData) -> dict[str, Any]:
    """Return the posted values to show again, with every ticked box of a repeated field (each level's leak sites,
    the change requests answered with a cancel), not only the first."""
    repeated = {k: v for k, v in form.lists.items() if k.endswith(".leaks") or k == "answer_request"}
    return {**form.raw, **repeated}


def raise_problems(problems: dict[str, str]) -> None:
    """Raise every mistake collected (:class:`vertebro.errors.Problems`) at once, or nothing; procedure mode
    shows the message, "check N field(s): ...", above the form."""
    if problems:
        listed = "; ".join(f"{name}: {message}" for name, message in problems.items())
        raise InvalidFields(f"check {len(problems)} field(s): {listed}", problems)
