"""Messages to patients: queued in the transaction that causes them, delivered later by an ``Outbox``.

Queuing is idempotent (each message has a ``dedupe_key``), so the reminder command can run as often as
it likes. Messages carry no clinical detail beyond what the patient needs to act (a questionnaire is
waiting, the time of the appointment); the rest is behind the portal's sign-in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vertebro.clinical import ClinicPolicy
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import OutboxMessage, PatientAccount
from vertebro.store.portal.cases import VISIT_WORDS

APPOINTMENT_NOTICE = dt.timedelta(days=3)
SIGNATURE = "This message does not replace advice from your own doctor or nurse. If you are worried, call us."


@dataclass(frozen=True, slots=True)
class QueuedReminders:
    """How many reminders a run queued (new ones only) and how many were already queued before."""

    follow_ups: int
    appointments: int
    already_queued: int


def queue_message(
    uow: UnitOfWork, account: PatientAccount, *, kind: str, subject: str, body: str, dedupe_key: str
) -> bool:
    """Queue a message to a patient (e-mail if known, else SMS); return False if it was queued before."""
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
            "body": f"{body}\n\n{SIGNATURE}"[:4000],
            "dedupe_key": dedupe_key[:128],
            "created_at": utc_now(),
            "attempts": 0,
        }
    )


def queue_activation(uow: UnitOfWork, account: PatientAccount, link: str) -> bool:
    """Queue the one-time activation link of a new request."""
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
    )


def queue_due_reminders(
    uow: UnitOfWork, *, today: dt.date, portal_url: str, policy: ClinicPolicy, now: dt.datetime | None = None
) -> QueuedReminders:
    """Queue a reminder for every follow-up questionnaire now due and every appointment in the next 3 days.

    ``now`` (default: the current time) is the moment the appointment window starts from.
    """
    follow_ups = appointments = repeats = 0
    for follow_up, patient_id in uow.portal.follow_ups_due(today):
        account = uow.portal.account_for_patient(patient_id)
        if account is None or account.activated_at is None:
            continue
        words = VISIT_WORDS[follow_up.visit]
        added = queue_message(
            uow,
            account,
            kind="follow_up_due",
            subject=f"Your {words} questionnaire is ready",
            body=(
                f"It is {words} since your procedure. Please tell us how you are: sign in at {portal_url}/portal "
                f"and answer a few short questions (open until {follow_up.due_until:%d %B %Y})."
            ),
            dedupe_key=f"follow_up:{follow_up.id}",
        )
        follow_ups += added
        repeats += not added
    now = now or utc_now()
    for booking, patient_id in uow.portal.bookings_between(now, now + APPOINTMENT_NOTICE):
        account = uow.portal.account_for_patient(patient_id)
        if account is None:
            continue
        start = booking.starts_at.astimezone()
        arrive = start - dt.timedelta(minutes=policy.arrival_minutes_early)
        added = queue_message(
            uow,
            account,
            kind="appointment",
            subject=f"Your appointment on {start:%A %d %B}",
            body=(
                f"Your appointment is on {start:%A %d %B %Y at %H:%M}. Please arrive by {arrive:%H:%M} "
                f"({policy.arrival_minutes_early} minutes early) to check in. Your preparation plan, with the dates "
                f"for your medicines, is in the portal: {portal_url}/portal"
            ),
            dedupe_key=f"appointment:{booking.id}:{start:%Y%m%d%H%M}",
        )
        appointments += added
        repeats += not added
    return QueuedReminders(follow_ups, appointments, repeats)


def mark_sent(message: OutboxMessage) -> None:
    """Record a successful delivery."""
    message.sent_at = utc_now()
    message.attempts += 1
    message.last_error = None


def mark_failed(message: OutboxMessage, problem: str) -> None:
    """Record a failed delivery attempt (the message stays pending)."""
    message.attempts += 1
    message.last_error = problem[:500]
