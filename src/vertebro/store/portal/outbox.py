"""Messages to patients: queued in the transaction that causes them, delivered later by an ``Outbox``.

Queuing is idempotent (each message has a ``dedupe_key``), so the reminder command can run as often as
it likes. Messages carry no clinical detail beyond what the patient needs to act (a questionnaire is
waiting, the time of the appointment); the rest is behind the portal's sign-in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vertebro.clinical.clinic import Clinic
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import OutboxMessage, PatientAccount

VISIT_WORDS = {"2w": "2 weeks", "3m": "3 months", "12m": "12 months"}
APPOINTMENT_NOTICE = dt.timedelta(days=3)
RESET_WORDS = "1 hour"


def signature(clinic: Clinic) -> str:
    """The closing of every message: how to reach the team, when, and what to do when it is closed."""
    return (
        f"This message does not replace advice from your own doctor or nurse. If you are worried, call "
        f"{clinic.call} ({clinic.opening_hours}). {clinic.when_closed}\n{clinic.site}, {clinic.address}."
    )


@dataclass(frozen=True, slots=True)
class QueuedReminders:
    """How many reminders a run queued (new ones only) and how many were already queued before."""

    follow_ups: int
    appointments: int
    already_queued: int
    preparation: int = 0
    team: int = 0  # reminders to the team of patients' change requests still open (H130)


def queue_message(
    uow: UnitOfWork,
    account: PatientAccount,
    *,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    clinic: Clinic,
    attachment: str | None = None,
) -> bool:
    """Queue a message to a patient (e-mail if known, else SMS); return False if it was queued before.

    An SMS carries no attachment: the calendar file goes by e-mail only.
    """
    channel, recipient = ("email", account.email) if account.email else ("sms", account.phone)
    if not recipient:
        return False
    return uow.portal.queue(
        {
            "patient_id": account.patient_id,
            "kind": kind,
            "channel": channel,
            "recipient": recipient,
            "subject": subject[:200],
            "body": f"{body}\n\n{signature(clinic)}"[:4000],
            "dedupe_key": dedupe_key[:128],
            "created_at": utc_now(),
            "attempts": 0,
            "attachment": attachment if channel == "email" else None,
        }
    )


TEAM_NOTICE_KIND = "team_message_waiting"
TEAM_CHANGE_KIND = "team_change_request"
TEAM_CHANGE_OPEN_KIND = "team_change_still_open"
TEAM_PRIVACY = "For privacy this e-mail says neither who nor what: sign in to"


def _queue_team_email(uow: UnitOfWork, clinic: Clinic, *, kind: str, subject: str, body: str, dedupe_key: str) -> bool:
    """Queue an e-mail to the team's address (False when none is set, or it was queued before).

    It is the team's e-mail, not a patient's: no patient is stored on it and it carries no patient signature.
    """
    if not clinic.team_email:
        return False
    return uow.portal.queue(
        {
            "patient_id": None,
            "kind": kind,
            "channel": "email",
            "recipient": clinic.team_email,
            "subject": subject,
            "body": body,
            "dedupe_key": dedupe_key[:128],
            "created_at": utc_now(),
            "attempts": 0,
            "attachment": None,
        }
    )


def queue_team_notice(uow: UnitOfWork, clinic: Clinic, *, thread_id: int, message_id: int) -> bool:
    """Queue the e-mail telling the team that a patient's message waits (hazard H123); False when no team address
    is set (nothing is queued) or it was queued before.

    It names no patient and holds none of the message, not even its subject: only the inbox's address and the
    conversation's reference, which mean something to a member of the team once signed in.
    """
    return _queue_team_email(
        uow,
        clinic,
        kind=TEAM_NOTICE_KIND,
        subject="A patient's message is waiting in the inbox",
        body=(
            f"A patient has sent a secure message to {clinic.name} through the patient portal. "
            f"{TEAM_PRIVACY} read it.\n"
            f"Inbox: {clinic.portal_url}/inbox\n"
            f"Reference: conversation {thread_id}\n"
            f"Patients are told that the team reads messages in opening hours ({clinic.opening_hours}) and "
            "that messages are not for urgent problems."
        ),
        dedupe_key=f"team-notice:{message_id}",
    )


@dataclass(frozen=True, slots=True)
class StillOpen:
    """A change request still unanswered: since when, and the clinic day of this reminder (one a day)."""

    since: dt.datetime
    day: dt.date


def queue_team_change_notice(
    uow: UnitOfWork, clinic: Clinic, *, request_id: int, still_open: StillOpen | None = None
) -> bool:
    """Queue the e-mail telling the team that a patient asks to cancel or move an appointment (hazard H130): when
    the patient asks, and (``still_open``) once a clinic day while the request stays unanswered.

    Like the message notice it names no patient, no appointment and not what was asked: the worklist's filter of
    open requests and the request's reference. False when no team address is set or it was queued before.
    """
    since = "" if still_open is None else f" It has been waiting since {clinic.moment(still_open.since)}."
    return _queue_team_email(
        uow,
        clinic,
        kind=TEAM_CHANGE_KIND if still_open is None else TEAM_CHANGE_OPEN_KIND,
        subject=(
            "A patient asks to change an appointment"
            if still_open is None
            else "A patient's request to change an appointment is still open"
        ),
        body=(
            f"A patient has asked {clinic.name}, through the patient portal, to cancel or move an appointment."
            f"{since} {TEAM_PRIVACY} see it.\n"
            f"Open requests: {clinic.portal_url}/?change=open\n"
            f"Reference: change request {request_id}\n"
            "Nothing is cancelled or moved until a member of the team does it; the patient is waiting for an answer, "
            "which is recorded on the chart."
        ),
        dedupe_key=(
            f"team-change:{request_id}"
            if still_open is None
            else f"team-change-open:{request_id}:{still_open.day.isoformat()}"
        ),
    )


def queue_request_received(uow: UnitOfWork, account: PatientAccount, clinic: Clinic) -> bool:
    """Queue the receipt of an appointment request: the reference number and what happens next."""
    return queue_message(
        uow,
        account,
        kind="request_received",
        subject=f"We have your request {account.reference}",
        body=(
            f"Thank you: {clinic.name} has your request for an appointment. Your reference number is "
            f"{account.reference}; please have it ready when you call us.\n"
            "Our team reads every request and will contact you about the next step. A separate message "
            "has the link to set your password for the patient portal."
        ),
        dedupe_key=f"request:{account.id}",
        clinic=clinic,
    )


def queue_activation(uow: UnitOfWork, account: PatientAccount, link: str, clinic: Clinic) -> bool:
    """Queue the one-time activation link of a new request (or a new one staff issued)."""
    return queue_message(
        uow,
        account,
        kind="activation",
        subject=f"Your request {account.reference}: set your password",
        body=(
            f"We have your appointment request. Your reference number is {account.reference}.\n"
            f"Open this link to set your password (it works once, for 7 days):\n{link}"
        ),
        dedupe_key=f"activation:{account.id}:{link[-12:]}",
        clinic=clinic,
    )


def queue_password_reset(uow: UnitOfWork, account: PatientAccount, link: str, clinic: Clinic) -> bool:
    """Queue a one-time link to choose a new password (asked for on the portal's sign-in page)."""
    return queue_message(
        uow,
        account,
        kind="password_reset",
        subject="Choose a new password for your patient portal",
        body=(
            f"Someone asked to reset the password of the portal account {account.reference}. If it was you, open "
            f"this link to choose a new password (it works once, for {RESET_WORDS}):\n{link}\n"
            "If it was not you, you need do nothing: your password has not changed."
        ),
        dedupe_key=f"reset:{account.id}:{link[-12:]}",
        clinic=clinic,
    )


def mark_sent(message: OutboxMessage) -> None:
    """Record a successful delivery."""
    message.sent_at = utc_now()
    message.attempts += 1
    message.last_error = None


def mark_failed(message: OutboxMessage, problem: str) -> None:
    """Record a failed delivery attempt (the message stays pending)."""
    message.attempts += 1
    message.last_error = problem[:500]
