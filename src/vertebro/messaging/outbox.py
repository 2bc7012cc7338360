"""One interface for every message to a patient: ``Outbox.deliver``; adapters for SMTP and for the demo.

Messages are first queued in the database (``outbox_messages``) in the same transaction as whatever
caused them, then :func:`deliver_pending` hands each to the configured outbox and records the result.
A failed delivery stays queued with its error and is tried again next time. In demo mode nothing leaves
the machine: the demo outbox keeps messages for the ``/outbox`` page.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from vertebro.config import Settings
from vertebro.store.db import UnitOfWork
from vertebro.store.portal.outbox import mark_failed, mark_sent


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready to deliver."""

    channel: str
    recipient: str
    subject: str
    body: str
    attachment: str | None = None  # an iCalendar file, sent as appointment.ics (text/calendar)


class UndeliverableError(Exception):
    """The outbox cannot deliver this message (it stays queued with the reason)."""


class Outbox(Protocol):
    """Delivers one message or raises :class:`UndeliverableError` (or an ``OSError``) saying why not."""

    name: str

    def deliver(self, message: Outgoing) -> None:
        """Deliver one message."""


class DemoOutbox:
    """Delivers nothing: in demo mode the ``/outbox`` page shows what would have been sent."""

    name = "demo"

    def deliver(self, message: Outgoing) -> None:
        """Accept the message (it is shown on the demo outbox page)."""


class QueueOnlyOutbox:
    """No delivery configured: every message stays queued until an SMTP server is set."""

    name = "none"

    def deliver(self, message: Outgoing) -> None:
        """Refuse: nothing is configured to deliver messages."""
        raise UndeliverableError("no SMTP server configured (VERTEBRO_SMTP_HOST)")


class SmtpOutbox:
    """Sends e-mail through an SMTP server (STARTTLS by default); cannot send SMS."""

    name = "smtp"

    def __init__(self, host: str, port: int, sender: str, *, user: str | None, password: str | None, starttls: bool):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls = user, password, starttls

    def deliver(self, message: Outgoing) -> None:
        """Send one e-mail."""
        if message.channel != "email":
            raise UndeliverableError(f"the SMTP outbox cannot send {message.channel} messages")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        if message.attachment:
            mail.add_attachment(
                message.attachment.encode(),
                maintype="text",
                subtype="calendar",
                filename="appointment.ics",
                params={"method": calendar_method(message.attachment)},
            )
        with smtplib.SMTP(self.host, self.port, timeout=20) as server:
            if self.starttls:
                server.starttls()
            if self.user:
                server.login(self.user, self.password or "")
            server.send_message(mail)


def calendar_method(ics: str) -> str:
    """Return the iCalendar file's METHOD (REQUEST, CANCEL, PUBLISH), as the e-mail's ``text/calendar`` names it."""
    for line in ics.splitlines():
        if line.startswith("METHOD:"):
            return line.removeprefix("METHOD:").strip()
    return "PUBLISH"


def outbox_from_settings(settings: Settings) -> Outbox:
    """Return the outbox the settings call for: demo, SMTP, or queue-only."""
    if settings.demo_mode:
        return DemoOutbox()
    if settings.smtp_host:
        return SmtpOutbox(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return QueueOnlyOutbox()


@dataclass(frozen=True, slots=True)
class Delivery:
    """The result of one delivery run."""

    sent: int
    failed: int


def deliver_pending(uow: UnitOfWork, outbox: Outbox, *, limit: int = 100) -> Delivery:
    """Hand every pending message (up to ``limit``) to the outbox and record each result (caller commits)."""
    sent = failed = 0
    for message in uow.portal.pending(limit):
        try:
            outbox.deliver(
                Outgoing(message.channel, message.recipient, message.subject, message.body, message.attachment)
            )
        except (UndeliverableError, OSError, smtplib.SMTPException) as error:
            mark_failed(message, f"{outbox.name}: {error}")
            failed += 1
        else:
            mark_sent(message)
            sent += 1
    uow.session.flush()
    return Delivery(sent, failed)
