"""The patient's secure messages to the team: write one (optionally about an appointment), read the replies, answer.

Only the patient's own threads are ever reached: another patient's thread id is answered 404, exactly like one
that does not exist. Every page read and every message is audited (decision 0035). Beside each form the patient is
told when the team reads messages and whom to call when it cannot wait; a message sent tells the team's address
(a clinic setting) that one is waiting, delivered at once like the team's replies (decision 0038, hazard H123).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical.clinic import Clinic
from vertebro.errors import NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.messaging import service
from vertebro.store.base import clinic_today
from vertebro.store.portal import cases
from vertebro.web.deps import Policy, UoW, current_policy
from vertebro.web.forms import FormData, form_data
from vertebro.web.inbox.delivery import defer_team_notice, deliver_team_notice
from vertebro.web.portal.deps import CurrentPatient
from vertebro.web.portal.templating import portal_page

router = APIRouter(prefix="/portal", tags=["portal"])
Form = Annotated[FormData, Depends(form_data)]
ThreadId = Annotated[RecordId, Path()]


@router.get("/messages", response_class=HTMLResponse)
def my_messages(request: Request, uow: UoW, patient: CurrentPatient) -> HTMLResponse:
    """The patient's conversations with the team, the latest first (a reply not yet read is marked new)."""
    threads = service.my_threads(uow, patient.actor)
    uow.commit()
    return portal_page(request, "messages.html", patient, threads=threads, nav="messages")


def _appointments(uow: UoW, patient: CurrentPatient, policy: Policy) -> list[cases.MyCase]:
    """The patient's cases with an appointment booked (a message can be about one of them)."""
    mine = cases.my_cases(uow, patient.actor, policy, view="portal:messages:new")
    return [c for c in mine if c.booking is not None]


def _new_page(
    request: Request,
    uow: UoW,
    patient: CurrentPatient,
    policy: Policy,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    appointments = _appointments(uow, patient, policy)
    uow.commit()
    return portal_page(
        request,
        "messages_new.html",
        patient,
        status,
        appointments=appointments,
        values=values,
        errors=errors,
        subject_max=service.SUBJECT_MAX,
        body_max=service.BODY_MAX,
        nav="messages",
    )


@router.get("/messages/new", response_class=HTMLResponse)
def new_message(request: Request, uow: UoW, patient: CurrentPatient, policy: Policy) -> HTMLResponse:
    """The form to write to the team (subject, message, and which appointment it is about, if any)."""
    about = request.query_params.get("case_id", "")
    return _new_page(request, uow, patient, policy, values={"case_id": about if about.isdigit() else ""}, errors={})


@router.post("/messages", response_model=None)
def send_message(request: Request, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form) -> Response:
    """Send a new message to the team; every problem is shown at once, with what was typed kept."""
    values, errors = service.checked_text(form.raw, with_subject=True)
    about = form.raw.get("case_id", "")
    case_id: int | None = None
    if about:
        if not about.isdigit() or len(about) > 18:
            errors["case_id"] = "Choose one of your appointments, or 'Not about an appointment'"
        else:
            case_id = int(about)
    if not errors:
        try:
            thread = service.start_thread(
                uow,
                patient.actor,
                subject=values["subject"],
                body=values["body"],
                case_id=case_id,
                clinic=policy.clinic,
            )
            deferred = defer_team_notice(request, uow, policy.clinic)
            uow.commit()
        except NotFound:
            uow.rollback()
            errors["case_id"] = "Choose one of your appointments, or 'Not about an appointment'"
        except VertebroError as error:
            uow.rollback()
            errors[error.field or "body"] = error.message
        else:
            deliver_team_notice(request, policy.clinic, deferred)
            return RedirectResponse(f"/portal/messages/{thread.id}?sent=1", status_code=303)
    return _new_page(request, uow, patient, policy, values=dict(form.raw), errors=errors, status=422)


def _thread_page(
    request: Request,
    uow: UoW,
    patient: CurrentPatient,
    thread_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    shown = service.read_my_thread(uow, patient.actor, thread_id)
    about = None
    if shown.thread.case_id is not None:
        booking = uow.bookings.active_booking(shown.thread.case_id)
        about = None if booking is None else booking.starts_at
    uow.commit()
    sent = request.query_params.get("sent") == "1"
    return portal_page(
        request,
        "messages_thread.html",
        patient,
        status,
        thread=shown.thread,
        messages=shown.messages,
        about=about,
        values=values or {},
        errors=errors or {},
        body_max=service.BODY_MAX,
        nav="messages",
        flash=_sent_words(current_policy(request.app).clinic) if sent else None,
        today=clinic_today(current_policy(request.app).time_zone),
    )


def _sent_words(clinic: Clinic) -> str:
    """What a patient is told once their message is sent: when it is read, and whom to call if it cannot wait."""
    return (
        f"Your message is with the team. They read messages in opening hours ({clinic.opening_hours}), not at once; "
        f"we will tell you by e-mail or text when they reply. If it cannot wait, call {clinic.call}."
    )


@router.get("/messages/{thread_id}", response_class=HTMLResponse)
def read_message(request: Request, thread_id: ThreadId, uow: UoW, patient: CurrentPatient) -> HTMLResponse:
    """One conversation with the team, oldest message first, and a form to answer."""
    return _thread_page(request, uow, patient, thread_id)


@router.post("/messages/{thread_id}/reply", response_model=None)
def answer(
    request: Request, thread_id: ThreadId, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """Answer in the conversation (the team sees it as new)."""
    values, errors = service.checked_text(form.raw, with_subject=False)
    if not errors:
        try:
            service.patient_reply(uow, patient.actor, thread_id, values["body"], clinic=policy.clinic)
            deferred = defer_team_notice(request, uow, policy.clinic)
            uow.commit()
        except VertebroError as error:
            uow.rollback()
            if error.status_code == 404:
                raise
            errors = {error.field or "body": error.message}
        else:
            deliver_team_notice(request, policy.clinic, deferred)
            return RedirectResponse(f"/portal/messages/{thread_id}?sent=1#latest", status_code=303)
    return _thread_page(request, uow, patient, thread_id, values=dict(form.raw), errors=errors, status=422)
