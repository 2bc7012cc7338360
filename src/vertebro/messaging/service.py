"""Secure messages between a patient and the team (decision 0035).

A patient starts a thread from the portal (a subject, the text, optionally about one of their appointments),
reads the replies and answers; the team sees every thread in one inbox, assigns it to a colleague or a role,
replies and marks it done. Every read and write is audited with the patient's id; a patient only ever reaches
their own threads (another patient's thread is "not found", exactly like a missing one). When the team replies,
the patient is told through the outbox that a message is waiting, with no word of what it says; when a patient
writes and the conversation was not already waiting for the team, the team's address (a clinic setting) is told
the same way, with neither the patient's name nor the message (decision 0038, hazard H123).
Services never commit: the request does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vertebro.clinical.clinic import Clinic
from vertebro.errors import Conflict, InvalidInput, NotFound
from vertebro.messaging.repository import InboxRow, ThreadRepository
from vertebro.pathway.machine import Role
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import MessageThread, ThreadMessage
from vertebro.store.portal.accounts import PatientActor, audit
from vertebro.store.portal.cases import own_workflow
from vertebro.store.portal.outbox import queue_message, queue_team_notice
from vertebro.store.workflow import Actor

SUBJECT_MAX = 120
BODY_MAX = 4000
INBOX_ROLES = (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD)
ROLE_WORDS = {
    Role.COORDINATOR: "coordinators",
    Role.NURSE: "nurses",
    Role.RADIOLOGIST: "radiologists",
    Role.SERVICE_LEAD: "service leads",
}
SHOWS = ("open", "mine", "done")
NOTIFICATION_KIND = "secure_message"


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread and its messages, as one side reads it."""

    thread: MessageThread
    messages: tuple[ThreadMessage, ...]


def unprintable(text: str) -> bool:
    """Return whether text holds control characters other than line breaks and tabs (NUL cannot even be stored)."""
    return any((ord(c) < 32 and c not in "\n\r\t") or c == "\x7f" for c in text)


def _problem(value: str, *, empty: str, limit: int, what: str) -> str | None:
    if unprintable(value):
        return "Remove the control characters (they cannot be stored): letters, numbers and punctuation only"
    if not value:
        return empty
    if len(value) > limit:
        return f"{what} can be at most {limit} characters (it has {len(value)})"
    return None


def checked_text(form: dict[str, str], *, with_subject: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Return the trimmed subject and text and every problem at once, by field (bounded lengths, not empty)."""
    values = {"body": form.get("body", "").strip()}
    problems = {"body": _problem(values["body"], empty="Write your message", limit=BODY_MAX, what="The message")}
    if with_subject:
        values["subject"] = " ".join(form.get("subject", "").split())
        empty = "Write a subject: a few words on what your message is about"
        problems["subject"] = _problem(values["subject"], empty=empty, limit=SUBJECT_MAX, what="The subject")
    errors = {name: problem for name in ("subject", "body") if (problem := problems.get(name))}
    return values, errors


def _require(values: dict[str, str], *, with_subject: bool) -> None:
    """Refuse text that :func:`checked_text` would refuse (the service never trusts its caller)."""
    _, errors = checked_text(values, with_subject=with_subject)
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidInput(message, field=field)


def _add_message(
    repository: ThreadRepository, thread: MessageThread, *, kind: str, author: str, name: str, body: str
) -> ThreadMessage:
    message = ThreadMessage(thread_id=thread.id, author_kind=kind, author=author, author_name=name, body=body)
    repository.add(message)
    thread.last_message_at = message.created_at = utc_now()
    repository.session.flush()
    return message


# --- the patient's side -------------------------------------------------------------------------------


def start_thread(
    uow: UnitOfWork, actor: PatientActor, *, subject: str, body: str, case_id: int | None, clinic: Clinic
) -> MessageThread:
    """Open a thread to the team with its first message (unread by the team until someone opens it); audited.

    ``case_id`` ties it to one of the patient's own appointments; another patient's case is "not found". The
    team's address, when the clinic has one, is told that a message waits (no name, no content).
    """
    _require({"subject": subject, "body": body}, with_subject=True)
    if case_id is not None:
        own_workflow(uow, actor, case_id)
    repository = ThreadRepository(uow.session)
    thread = MessageThread(
        patient_id=actor.patient_id,
        case_id=case_id,
        subject=subject,
        status="open",
        staff_unread=True,
        patient_unread=False,
    )
    repository.add(thread)
    uow.session.flush()
    message = _add_message(repository, thread, kind="patient", author=actor.name, name="You", body=body)
    told = queue_team_notice(uow, clinic, thread_id=thread.id, message_id=message.id)
    audit(uow, actor, "create", "message_thread", thread.id, message=message.id, case_id=case_id, team_told=told)
    return thread


def own_thread(uow: UnitOfWork, actor: PatientActor, thread_id: int, *, for_update: bool = False) -> MessageThread:
    """Return one of the patient's own threads; another patient's is "not found", like a missing one (404)."""
    thread = ThreadRepository(uow.session).get(thread_id, for_update=for_update)
    if thread is None or thread.patient_id != actor.patient_id:
        raise NotFound(f"you have no message {thread_id}", field="thread_id")
    return thread


def my_threads(uow: UnitOfWork, actor: PatientActor) -> list[MessageThread]:
    """Return the patient's threads, the latest first; the read is audited."""
    threads = ThreadRepository(uow.session).of_patient(actor.patient_id)
    audit(uow, actor, "read", "message_thread", "all", view="portal:messages", threads=[t.id for t in threads])
    return threads


def read_my_thread(uow: UnitOfWork, actor: PatientActor, thread_id: int) -> Thread:
    """Return one of the patient's threads with its messages and mark the team's replies read; audited."""
    thread = own_thread(uow, actor, thread_id, for_update=True)
    if thread.patient_unread:
        thread.patient_unread = False
    uow.session.flush()
    audit(uow, actor, "read", "message_thread", thread.id, view="portal:message")
    return Thread(thread, tuple(ThreadRepository(uow.session).messages(thread.id)))


def patient_reply(uow: UnitOfWork, actor: PatientActor, thread_id: int, body: str, *, clinic: Clinic) -> ThreadMessage:
    """Add the patient's answer to their thread (it opens again for the team, unread); audited.

    The team's address is told when the thread was not already waiting for the team: one e-mail per
    conversation until someone opens it, not one per message.
    """
    _require({"body": body}, with_subject=False)
    thread = own_thread(uow, actor, thread_id, for_update=True)
    waiting = thread.status == "open" and thread.staff_unread
    thread.status = "open"
    thread.staff_unread = True
    message = _add_message(
        ThreadRepository(uow.session), thread, kind="patient", author=actor.name, name="You", body=body
    )
    told = not waiting and queue_team_notice(uow, clinic, thread_id=thread.id, message_id=message.id)
    audit(uow, actor, "create", "thread_message", message.id, thread=thread.id, team_told=told)
    return message


def patient_unread(uow: UnitOfWork, patient_id: int) -> int:
    """Return how many of the patient's threads have a reply they have not opened."""
    return ThreadRepository(uow.session).patient_unread(patient_id)


# --- the team's side ----------------------------------------------------------------------------------


def _staff_audit(
    uow: UnitOfWork, actor: Actor, action: str, entity: str, entity_id: object, patient_id: int | None, **detail: Any
) -> None:
    uow.audit.append(
        actor=actor.username,
        action=action,
        entity_type=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        detail={"role": actor.role.value, **detail},
        source=actor.source,
    )


def inbox(uow: UnitOfWork, actor: Actor, *, show: str) -> list[InboxRow]:
    """Return the inbox: open threads, those assigned to the user or their role ("mine"), or done ones.

    Each patient shown is recorded as read (their name and the subject are on the list).
    """
    if show not in SHOWS:
        raise InvalidInput(f"show one of {', '.join(SHOWS)}", field="show")
    repository = ThreadRepository(uow.session)
    if show == "mine":
        rows = repository.inbox(status="open", username=actor.username, role=actor.role.value)
    else:
        rows = repository.inbox(status=show)
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({r.patient.id for r in rows}),
        detail={"role": actor.role.value, "view": f"inbox:{show}"},
        source=actor.source,
    )
    return rows


def staff_thread(uow: UnitOfWork, actor: Actor, thread_id: int) -> Thread:
    """Return a thread with its messages and mark the patient's messages read for the team; audited."""
    thread = ThreadRepository(uow.session).get(thread_id, for_update=True)
    if thread is None:
        raise NotFound(f"no message thread {thread_id}", field="thread_id")
    if thread.staff_unread:
        thread.staff_unread = False
    uow.session.flush()
    _staff_audit(uow, actor, "read", "message_thread", thread.id, thread.patient_id, view="inbox:thread")
    return Thread(thread, tuple(ThreadRepository(uow.session).messages(thread.id)))


def _thread_for_change(uow: UnitOfWork, thread_id: int) -> MessageThread:
    thread = ThreadRepository(uow.session).get(thread_id, for_update=True)
    if thread is None:
        raise NotFound(f"no message thread {thread_id}", field="thread_id")
    return thread


def staff_reply(
    uow: UnitOfWork, actor: Actor, thread_id: int, body: str, *, display_name: str, clinic: Clinic
) -> ThreadMessage:
    """Add the team's reply and tell the patient, through the outbox, that a message waits (no content); audited.

    The reply and the notification are one transaction: both are stored, or neither.
    """
    _require({"body": body}, with_subject=False)
    thread = _thread_for_change(uow, thread_id)
    name = f"{display_name} ({actor.role.value.replace('_', ' ')})"
    message = _add_message(
        ThreadRepository(uow.session), thread, kind="staff", author=actor.username, name=name[:200], body=body
    )
    thread.patient_unread = True
    thread.staff_unread = False
    if thread.assignee_user is None and thread.assignee_role is None:
        thread.assignee_user = actor.username  # whoever answers first holds it until it is passed on
    account = uow.portal.account_for_patient(thread.patient_id)
    notified = account is not None and queue_message(
        uow,
        account,
        kind=NOTIFICATION_KIND,
        subject=f"You have a new message from {clinic.name}",
        body=(
            f"You have a new message from {clinic.name} in your patient portal. For your privacy it is not in this "
            f"message: sign in to read it.\n{clinic.portal_url}/portal/messages"
        ),
        dedupe_key=f"thread-message:{message.id}",
        clinic=clinic,
    )
    _staff_audit(
        uow, actor, "create", "thread_message", message.id, thread.patient_id, thread=thread.id, notified=notified
    )
    return message


def assign(uow: UnitOfWork, actor: Actor, thread_id: int, to: str) -> MessageThread:
    """Assign a thread to a colleague (``user:<username>``), a role (``role:<role>``) or no one (``""``); audited."""
    if unprintable(to) or len(to) > 80:
        raise InvalidInput("choose a colleague or a role from the list", field="to")
    thread = _thread_for_change(uow, thread_id)
    user: str | None = None
    role: str | None = None
    if to.startswith("user:"):
        found = ThreadRepository(uow.session).user(to[5:])
        if found is None or not found.active or Role(found.role) not in INBOX_ROLES:
            raise InvalidInput("choose a colleague from the list (an active member of the clinical team)", field="to")
        user = found.username
    elif to.startswith("role:"):
        if to[5:] not in {r.value for r in INBOX_ROLES}:
            raise InvalidInput("choose a role from the list", field="to")
        role = to[5:]
    elif to:
        raise InvalidInput("choose a colleague or a role from the list", field="to")
    thread.assignee_user, thread.assignee_role = user, role
    uow.session.flush()
    _staff_audit(uow, actor, "assign", "message_thread", thread.id, thread.patient_id, to=to or None)
    return thread


def set_status(uow: UnitOfWork, actor: Actor, thread_id: int, status: str) -> MessageThread:
    """Mark a thread done (nothing more to do) or open it again; audited. A patient's answer reopens it."""
    if status not in ("open", "done"):
        raise InvalidInput("the status is open or done", field="status")
    thread = _thread_for_change(uow, thread_id)
    if thread.status == status:
        raise Conflict(f"this conversation is already {'done' if status == 'done' else 'open'}", field="status")
    thread.status = status
    if status == "done":
        thread.staff_unread = False
    uow.session.flush()
    _staff_audit(uow, actor, "update", "message_thread", thread.id, thread.patient_id, status=status)
    return thread


def staff_unread(uow: UnitOfWork) -> int:
    """Return how many open threads have a patient's message no one in the team has opened (the nav's count)."""
    return ThreadRepository(uow.session).staff_unread()


def assignee_words(thread: MessageThread) -> str:
    """Return who holds a thread, in words ("not assigned", a username, or "the nurses")."""
    if thread.assignee_user:
        return thread.assignee_user
    if thread.assignee_role:
        return f"the {ROLE_WORDS.get(Role(thread.assignee_role), thread.assignee_role)}"
    return "not assigned"
