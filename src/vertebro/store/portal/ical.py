"""The appointment as an iCalendar file (RFC 5545) that a patient's phone or computer calendar opens.

Written by hand (a few properties; no library earns its place for this): CRLF line ends, lines folded
at 75 octets (RFC 5545 3.1), text escaped (3.3.11), times in UTC with the ``Z`` suffix (3.3.5, form #2),
so no calendar has to know the clinic's zone to put the appointment at the right moment. The same
``UID`` across booked, moved and cancelled versions, with a rising ``SEQUENCE``, lets the calendar
replace or remove the entry it already holds. A file sent by e-mail is an iTIP message (RFC 5546): it names
the clinic as ``ORGANIZER`` and the patient as ``ATTENDEE``, and is ``METHOD:REQUEST`` (a new or moved
appointment: the calendar adds it or updates the event with that UID) or ``METHOD:CANCEL`` (decision 0038);
the file a patient downloads from the portal has neither and is ``METHOD:PUBLISH``.
The summary names no condition or procedure: calendars are often shared or shown on a lock screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRODUCT = "-//vertebro//patient appointments//EN"


def escaped(text: str) -> str:
    """Return text escaped for an iCalendar TEXT value (backslash, semicolon, comma, new line)."""
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def folded(line: str) -> str:
    """Return one content line folded into chunks of at most 75 octets (continuations start with a space)."""
    pieces: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not pieces else 74  # a continuation line's leading space counts
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def parameter(text: str) -> str:
    """Return text as a quoted iCalendar parameter value (RFC 5545 3.2: no double quotes or control characters)."""
    return '"' + "".join(c for c in text if c != '"' and ord(c) >= 32 and c != "\x7f") + '"'


def utc_stamp(moment: dt.datetime) -> str:
    """Return an aware moment as an iCalendar UTC date-time ('20261208T093000Z')."""
    if moment.tzinfo is None:
        raise ValueError("an appointment time must carry its zone")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One appointment as the calendar file describes it."""

    uid: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    location: str
    description: str
    sequence: int = 0
    cancelled: bool = False
    organizer: tuple[str, str] | None = None  # (name, e-mail) of the clinic: with an attendee, an iTIP message
    attendee: str | None = None  # the patient's e-mail address

    @property
    def method(self) -> str:
        """Return the iCalendar METHOD: CANCEL, REQUEST (sent to an attendee), or PUBLISH (a plain file)."""
        if self.cancelled:
            return "CANCEL"
        return "REQUEST" if self.organizer and self.attendee else "PUBLISH"


def calendar_text(event: CalendarEvent, *, stamp: dt.datetime) -> str:
    """Return the iCalendar file of one appointment (a reminder alarm the day before unless cancelled)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{event.method}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        f"SUMMARY:{escaped(event.summary)}",
        f"LOCATION:{escaped(event.location)}",
        f"DESCRIPTION:{escaped(event.description)}",
    ]
    if event.organizer and event.attendee:
        name, address = event.organizer
        lines += [
            f"ORGANIZER;CN={parameter(name)}:mailto:{address}",
            f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{event.attendee}",
        ]
    if not event.cancelled:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-P1D",
            f"DESCRIPTION:{escaped(event.summary)}",
            "END:VALARM",
        ]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(f"{folded(line)}\r\n" for line in lines)
