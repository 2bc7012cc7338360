"""The team's inbox: threads from patients (unread first), a thread with its messages, reply, assign, mark done;
the same as JSON under ``/api/inbox``. Clinical roles only; every read and write is audited (decision 0035)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import VertebroError
from vertebro.ids import RecordId
from vertebro.messaging import service
from vertebro.messaging.repository import ThreadRepository
from vertebro.store.models import MessageThread
from vertebro.web.deps import Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, form_data
from vertebro.web.inbox.delivery import defer_delivery, deliver_now
from vertebro.web.inbox.schemas import MessageOut, ReplyIn, ThreadOut, ThreadSummary
from vertebro.web.templating import page

router = APIRouter()
InboxStaff = Annotated[Staff, Depends(allow(*service.INBOX_ROLES))]
ThreadId = Annotated[RecordId, Path()]
Form = Annotated[FormData, Depends(form_data)]
DONE = {
    "reply": "Your reply is sent. The patient is told a message is waiting (the message itself stays here).",
    "assign": "The conversation is assigned.",
    "status": "The conversation's status is changed.",
}


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    uow: UoW,
    staff: InboxStaff,
    show: Annotated[str, Query(pattern="^(open|mine|done)$")] = "open",
) -> HTMLResponse:
    """Messages from patients: unread first, then the latest; each with its patient, subject and assignee."""
    rows = service.inbox(uow, staff.actor, show=show)
    uow.commit()
    return page(request, "inbox.html", staff, rows=rows, show=show, nav="inbox", assignee=service.assignee_words)


def _thread_page(
    request: Request,
    uow: UoW,
    staff: Staff,
    thread_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    shown = service.staff_thread(uow, staff.actor, thread_id)
    colleagues = ThreadRepository(uow.session).colleagues(tuple(r.value for r in service.INBOX_ROLES))
    uow.commit()
    done = request.query_params.get("done", "")
    return page(
        request,
        "inbox_thread.html",
        staff,
        status,
        thread=shown.thread,
        messages=shown.messages,
        colleagues=colleagues,
        roles=service.ROLE_WORDS,
        assignee=service.assignee_words(shown.thread),
        values=values or {},
        errors=errors or {},
        nav="inbox",
        flash=DONE.get(done),
    )


@router.get("/inbox/{thread_id}", response_class=HTMLResponse)
def thread_page(request: Request, thread_id: ThreadId, uow: UoW, staff: InboxStaff) -> HTMLResponse:
    """One conversation, oldest message first, with the reply form; opening it marks it read for the team."""
    return _thread_page(request, uow, staff, thread_id)


@router.post("/inbox/{thread_id}/reply", response_model=None)
def reply(request: Request, thread_id: ThreadId, uow: UoW, staff: InboxStaff, policy: Policy, form: Form) -> Response:
    """Reply to the patient; they are told through the outbox that a message waits (never what it says)."""
    values, errors = service.checked_text(form.raw, with_subject=False)
    if errors:
        return _thread_page(request, uow, staff, thread_id, values=form.raw, errors=errors, status=422)
    try:
        service.staff_reply(
            uow,
            staff.actor,
            thread_id,
            values["body"],
            display_name=staff.session.user.display_name,
            clinic=policy.clinic,
        )
        deferred = defer_delivery(request, uow)
        uow.commit()
    except VertebroError as error:
        uow.rollback()
        if error.status_code == 404:
            raise
        return _thread_page(
            request, uow, staff, thread_id, values=form.raw, errors={error.field or "body": error.message}, status=422
        )
    if not deferred:
        deliver_now(request)
    return RedirectResponse(f"/inbox/{thread_id}?done=reply#latest", status_code=303)


@router.post("/inbox/{thread_id}/assign", response_model=None)
def assign(request: Request, thread_id: ThreadId, uow: UoW, staff: InboxStaff, form: Form) -> Response:
    """Assign the conversation to oneself, a colleague or a role (``to``: ``user:<name>``, ``role:<role>``)."""
    to = form.raw.get("to", "")
    if to == "me":
        to = f"user:{staff.actor.username}"
    try:
        service.assign(uow, staff.actor, thread_id, to)
        uow.commit()
    except VertebroError as error:
        uow.rollback()
        if error.status_code == 404:
            raise
        return _thread_page(request, uow, staff, thread_id, errors={"to": error.message}, status=error.status_code)
    return RedirectResponse(f"/inbox/{thread_id}?done=assign", status_code=303)


@router.post("/inbox/{thread_id}/status", response_model=None)
def set_status(request: Request, thread_id: ThreadId, uow: UoW, staff: InboxStaff, form: Form) -> Response:
    """Mark the conversation done, or open it again."""
    try:
        service.set_status(uow, staff.actor, thread_id, form.raw.get("status", ""))
        uow.commit()
    except VertebroError as error:
        uow.rollback()
        if error.status_code == 404:
            raise
        return _thread_page(request, uow, staff, thread_id, errors={"status": error.message}, status=error.status_code)
    return RedirectResponse(f"/inbox/{thread_id}?done=status", status_code=303)


# --- JSON -------------------------------------------------------------------------------------------------


def _thread_out(thread: MessageThread, messages: tuple[MessageOut, ...]) -> ThreadOut:
    return ThreadOut(
        id=thread.id,
        patient_id=thread.patient_id,
        case_id=thread.case_id,
        subject=thread.subject,
        status="done" if thread.status == "done" else "open",
        assignee_user=thread.assignee_user,
        assignee_role=thread.assignee_role,
        messages=list(messages),
    )


@router.get("/api/inbox/threads", response_model=list[ThreadSummary], tags=["inbox"])
def list_threads(
    uow: UoW, staff: InboxStaff, show: Annotated[str, Query(pattern="^(open|mine|done)$")] = "open"
) -> list[ThreadSummary]:
    """The inbox: open threads (unread first), those assigned to the caller or their role (``mine``), or done."""
    rows = service.inbox(uow, staff.actor, show=show)
    uow.commit()
    return [
        ThreadSummary(
            id=r.thread.id,
            patient_id=r.patient.id,
            patient_name=r.patient.name,
            subject=r.thread.subject,
            status="done" if r.thread.status == "done" else "open",
            unread=r.thread.staff_unread,
            assignee_user=r.thread.assignee_user,
            assignee_role=r.thread.assignee_role,
            last_message_at=r.thread.last_message_at,
            messages=r.messages,
        )
        for r in rows
    ]


def _messages_out(shown: service.Thread) -> tuple[MessageOut, ...]:
    return tuple(
        MessageOut(
            id=m.id,
            author_kind="staff" if m.author_kind == "staff" else "patient",
            author=m.author,
            author_name=m.author_name,
            body=m.body,
            created_at=m.created_at,
        )
        for m in shown.messages
    )


@router.get("/api/inbox/threads/{thread_id}", response_model=ThreadOut, tags=["inbox"])
def read_thread(thread_id: ThreadId, uow: UoW, staff: InboxStaff) -> ThreadOut:
    """A thread with its messages (reading it marks it read for the team; audited)."""
    shown = service.staff_thread(uow, staff.actor, thread_id)
    uow.commit()
    return _thread_out(shown.thread, _messages_out(shown))


@router.post("/api/inbox/threads/{thread_id}/replies", response_model=ThreadOut, status_code=201, tags=["inbox"])
def reply_json(
    request: Request, thread_id: ThreadId, body: ReplyIn, uow: UoW, staff: InboxStaff, policy: Policy
) -> ThreadOut:
    """Reply to the patient (they are told a message waits, never what it says); returns the thread."""
    service.staff_reply(
        uow, staff.actor, thread_id, body.body, display_name=staff.session.user.display_name, clinic=policy.clinic
    )
    deferred = defer_delivery(request, uow)
    shown = service.staff_thread(uow, staff.actor, thread_id)
    uow.commit()
    if not deferred:
        deliver_now(request)
    return _thread_out(shown.thread, _messages_out(shown))
