"""The signed-in patient's own pages: their path, intake, plan, documents, follow-up questionnaires, progress.

Routes name a case id, and every one of them goes through a service that only returns the signed-in
patient's own case: another patient's id is answered with 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical import assess
from vertebro.clinical.clinic import Clinic
from vertebro.education.documents import performed_of, personal_document, stored_case, with_procedure
from vertebro.education.handouts import HandoutNotReady, discharge_sheet, preparation_handout
from vertebro.education.kinds import DocumentKind
from vertebro.education.pdf import html_to_pdf
from vertebro.errors import NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.intake import answers as intake
from vertebro.intake.questionnaires import FunctionQuestionnaires
from vertebro.pathway.machine import State
from vertebro.store.base import clinic_today
from vertebro.store.portal import accounts, cases
from vertebro.store.portal.appointments import appointment_event
from vertebro.store.portal.ical import calendar_text
from vertebro.store.portal.outbox import VISIT_WORDS
from vertebro.store.records import PatientRecord, own_case_record
from vertebro.web.deps import Policy, UoW, current_policy
from vertebro.web.forms import FormData, form_data
from vertebro.web.inbox.delivery import defer_team_notice, deliver_team_notice
from vertebro.web.portal.deps import PORTAL_COOKIE, CurrentPatient
from vertebro.web.portal.progress import progress_series
from vertebro.web.portal.templating import portal_page

router = APIRouter(prefix="/portal", tags=["portal"])
Form = Annotated[FormData, Depends(form_data)]
CaseId = Annotated[RecordId, Path()]
Visit = Annotated[str, Path(pattern="^(2w|3m|12m)$")]

PATH = (
    (("requested",), "Request received", "We have your request and will look at it soon."),
    (("screening",), "Being reviewed", "Our team is reading your scans and your answers."),
    (("eligible", "prepared"), "Getting ready", "The procedure may help you. We are preparing it with you."),
    (("scheduled",), "Booked", "Your procedure has a date. Your plan below has the dates for your medicines."),
    (("in_procedure", "monitoring"), "The day", "You are with us today."),
    (
        ("discharged", "follow_up"),
        "Recovering",
        "You are home. We will ask how you are at 2 weeks, 3 months and 12 months.",
    ),
    (("closed",), "Finished", "Your care with our team is complete."),
)


def _function(request: Request) -> FunctionQuestionnaires:
    value: FunctionQuestionnaires = request.app.state.questionnaires
    return value


def _clinic(request: Request) -> Clinic:
    return current_policy(request.app).clinic


@router.get("/me", response_class=HTMLResponse)
def my_page(request: Request, uow: UoW, patient: CurrentPatient, policy: Policy) -> HTMLResponse:
    """Where the patient is on the path, their appointment (arrive 15 minutes early) and what to do next."""
    mine = cases.my_cases(uow, patient.actor, policy, view="portal:me")
    uow.commit()
    flash = (
        "We have your request. The team will contact you about your appointment."
        if request.query_params.get("asked")
        else None
    )
    return portal_page(
        request, "me.html", patient, cases=mine, path=PATH, today=clinic_today(policy.time_zone), flash=flash
    )


@router.post("/logout")
def logout(uow: UoW, patient: CurrentPatient) -> RedirectResponse:
    """Sign out (CSRF-checked like every form)."""
    accounts.sign_out(uow, patient.session, patient.actor)
    uow.commit()
    response = RedirectResponse("/portal", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


def _own_record(uow: UoW, patient: CurrentPatient, case_id: int, view: str, **detail: Any) -> PatientRecord:
    """Return the signed-in patient's own stored case (404 for anyone else's), the read audited as ``view``."""
    return own_case_record(
        uow,
        patient.actor.patient_id,
        case_id,
        actor=patient.actor.name,
        source=patient.actor.source,
        view=view,
        detail=detail,
    )


def _plan(request: Request, uow: UoW, patient: CurrentPatient, policy: Policy, case_id: int) -> dict[str, Any]:
    record = _own_record(uow, patient, case_id, "portal:plan")
    case = stored_case(record)
    today = clinic_today(policy.time_zone)
    assessment = assess(case, policy, today)
    plan: dict[str, Any] = {"preparation": None, "aftercare": None, "not_ready": None}
    try:
        plan["preparation"] = preparation_handout(case, assessment, policy, produced_on=today, clinic=_clinic(request))
        plan["aftercare"] = discharge_sheet(
            case,
            assessment,
            policy,
            produced_on=today,
            clinic=_clinic(request),
            performed=performed_of(with_procedure(uow, record)),
        )
    except HandoutNotReady as error:
        plan["not_ready"] = error.message
    return plan


@router.get("/cases/{case_id}/plan", response_class=HTMLResponse)
def plan_page(request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy) -> HTMLResponse:
    """The preparation plan with the patient's own dates, and the aftercare plan."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:plan")
    plan = _plan(request, uow, patient, policy, case_id)
    uow.commit()
    return portal_page(request, "plan.html", patient, case=case, **plan)


@router.get("/cases/{case_id}/documents/{kind}.pdf", response_class=Response)
def document(
    case_id: CaseId, kind: DocumentKind, uow: UoW, patient: CurrentPatient, policy: Policy, request: Request
) -> Response:
    """The preparation or aftercare plan as PDF (computed now from the stored record; the read is audited)."""
    if kind is DocumentKind.PROCEDURE_REPORT:
        raise NotFound("the procedure report is sent to your doctor; ask us for a copy", field="kind")
    record = with_procedure(uow, _own_record(uow, patient, case_id, "portal:document", kind=kind.value))
    rendered = personal_document(record, kind, policy, as_of=clinic_today(policy.time_zone), clinic=_clinic(request))
    uow.commit()
    return Response(
        html_to_pdf(rendered.html),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="vertebro-{kind.value}-{record.identifier}.pdf"'},
    )


@router.post("/cases/{case_id}/appointment/change", response_model=None)
def ask_to_change(
    request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """Ask the team to cancel or move the appointment (a request staff see on the chart; nothing is cancelled)."""
    kind = form.raw.get("kind", "")
    reason = form.raw.get("reason", "")[:500]
    try:
        cases.ask_to_change(uow, patient.actor, case_id, kind=kind, reason=reason, clinic=policy.clinic)
        deferred = defer_team_notice(request, uow, policy.clinic)
    except VertebroError as error:
        uow.rollback()
        if isinstance(error, NotFound):
            raise  # another patient's case: the same 404 as a case that does not exist
        mine = cases.my_cases(uow, patient.actor, policy, view="portal:me")
        uow.commit()
        flash = error.message
        return portal_page(
            request,
            "me.html",
            patient,
            error.status_code,
            cases=mine,
            path=PATH,
            today=clinic_today(policy.time_zone),
            flash=flash,
            flash_kind="warn",
        )
    uow.commit()
    deliver_team_notice(request, policy.clinic, deferred)
    return RedirectResponse("/portal/me?asked=1#appointment", status_code=303)


@router.get("/cases/{case_id}/appointment.ics", response_class=Response)
def appointment_calendar(case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy) -> Response:
    """The booked appointment as a calendar file (RFC 5545, times in UTC); 404 when nothing is booked."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:appointment.ics")
    uow.commit()
    if case.booking is None:
        raise NotFound("this case has no appointment booked", field="case_id")
    text = calendar_text(appointment_event(case.booking, policy, cancelled=False), stamp=dt.datetime.now(dt.UTC))
    return Response(
        text,
        media_type="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="appointment.ics"'},
    )


def _follow_up_page(
    request: Request,
    patient: CurrentPatient,
    case: cases.MyCase,
    visit: str,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    version: int | None,
    status: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    follow_up = next((f for f in case.follow_ups if f.visit == visit), None)
    if follow_up is None:
        raise NotFound(f"no {VISIT_WORDS[visit]} questionnaire is planned for you", field="visit")
    return portal_page(
        request,
        "follow_up.html",
        patient,
        status,
        case=case,
        follow_up=follow_up,
        visit=visit,
        words=VISIT_WORDS[visit],
        values=values,
        errors=errors,
        version=version,
        flash=flash,
        function=_function(request),
        today=clinic_today(current_policy(request.app).time_zone),
    )


@router.get("/cases/{case_id}/follow-ups/{visit}", response_class=HTMLResponse)
def follow_up_form(
    request: Request, case_id: CaseId, visit: Visit, uow: UoW, patient: CurrentPatient, policy: Policy
) -> HTMLResponse:
    """A follow-up questionnaire (pain, and function where the clinic has the licensed questions)."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:follow-up")
    response = cases.questionnaire(uow, patient.actor, case_id, cases.VISITS[visit])
    uow.commit()
    values = dict(response.answers.get("raw", {})) if response else {}
    return _follow_up_page(
        request, patient, case, visit, values=values, errors={}, version=response.version if response else None
    )


@router.post("/cases/{case_id}/follow-ups/{visit}", response_model=None)
def send_follow_up(
    request: Request, case_id: CaseId, visit: Visit, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """Save the answers so far, or send them: they go into the follow-up record the team uses."""
    raw = intake.raw_form(form.raw, form.lists)
    sending = form.raw.get("send") == "1"
    checked = intake.check_follow_up(raw, _function(request), sending=sending)
    version = form.version()
    try:
        if sending and checked.ok:
            cases.send_follow_up(
                uow,
                patient.actor,
                case_id,
                visit,
                raw=raw,
                answers=checked.answers,
                expected_version=version,
                today=clinic_today(policy.time_zone),
            )
        else:
            version = cases.save_draft(
                uow, patient.actor, case_id, cases.VISITS[visit], raw, expected_version=version
            ).version
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403, 404):
            raise
        uow.rollback()
        case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:follow-up")
        uow.commit()
        return _follow_up_page(
            request,
            patient,
            case,
            visit,
            values=raw,
            errors={**checked.errors, error.field or "form": error.message},
            version=version,
            status=error.status_code,
            flash=error.message,
        )
    if sending and checked.ok:
        return RedirectResponse(f"/portal/cases/{case_id}/progress?sent={visit}", status_code=303)
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:follow-up")
    uow.commit()
    flash = "Your answers are saved. You can finish them later, on any device."
    if checked.errors:
        flash = "Your answers are saved, but some need another look: see the notes by the questions."
    return _follow_up_page(
        request,
        patient,
        case,
        visit,
        values=raw,
        errors=checked.errors,
        version=version,
        status=422 if checked.errors else 200,
        flash=flash,
    )


@router.get("/cases/{case_id}/progress", response_class=HTMLResponse)
def progress(request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy) -> HTMLResponse:
    """Pain and function over time: a chart with a text description and the same numbers as a table."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:progress")
    uow.commit()
    sent = request.query_params.get("sent")
    flash = "Thank you: your answers are with the team." if sent in cases.VISITS else None
    return portal_page(
        request,
        "progress.html",
        patient,
        case=case,
        series=progress_series(case),
        flash=flash,
        treated=case.state in (State.DISCHARGED, State.FOLLOW_UP, State.CLOSED),
    )
