"""Who patients reach and where they go: the clinic's name, site, address, phones, opening hours, time zone.

One value (:class:`Clinic`) used by every patient page, message and document, so a patient told to
"call us" is always given the number. The defaults are a demo clinic: the phone numbers are in Ofcom's
range reserved for drama (01632 960xxx), so no real person is ever called from a demo document.
Deployments set them with ``VERTEBRO_CLINIC_*`` (see :mod:`vertebro.config`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of

DEMO_NAME = "the vertebroplasty team"
DEMO_SITE = "Interventional Radiology Day Unit, Example General Hospital"
DEMO_ADDRESS = "Level 2, Example General Hospital, 1 Example Road, Exampletown EX1 2AB"
DEMO_PHONE = "01632 960 123"
DEMO_HOURS = "Monday to Friday, 8:00 to 17:00"
DEMO_OUT_OF_HOURS = "01632 960 999 (the hospital switchboard: ask for the on-call radiologist)"


EMAIL_SHAPE = re.compile(r"[^@\s\"<>,;:]+@[^@\s\"<>,;:]+\.[^@\s\"<>,;:.]+")


def plausible_email(text: str) -> bool:
    """Return whether text is shaped like one e-mail address (name@domain.tld; no spaces, quotes or lists)."""
    return len(text) <= 254 and EMAIL_SHAPE.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Clinic:
    """The service as patients reach it; every patient-facing text takes its contact details from here."""

    name: str = DEMO_NAME
    phone: str | None = DEMO_PHONE
    site: str = DEMO_SITE
    address: str = DEMO_ADDRESS
    opening_hours: str = DEMO_HOURS
    out_of_hours: str | None = DEMO_OUT_OF_HOURS
    time_zone: str = DEFAULT_TIME_ZONE
    directions: str | None = None  # how to get there (entrance, parking, public transport), shown with the address
    portal_url: str = "http://127.0.0.1:8000"  # where patients reach the portal (links in messages)
    team_email: str | None = None  # the team is told here that a patient's message waits (never what it says)
    sender: str = "vertebro@localhost"  # the address messages come from: the organizer of the calendar files

    @property
    def call(self) -> str:
        """How to reach the team, in words (with the number whenever one is set)."""
        if self.phone:
            return f"{self.name} on {self.phone}"
        return f"{self.name} (the number is at the top of your appointment message)"

    @property
    def place(self) -> str:
        """Where the patient comes: the site and its address on one line."""
        return f"{self.site}, {self.address}"

    @property
    def when_closed(self) -> str:
        """What to do outside opening hours, in words."""
        if self.out_of_hours:
            return f"Outside these hours, call {self.out_of_hours}. In an emergency, call 999."
        return "Outside these hours, call NHS 111. In an emergency, call 999."

    def local(self, moment: dt.datetime) -> dt.datetime:
        """Return an aware moment in the clinic's time zone (a naive one is taken as UTC, as stored)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(zone_of(self.time_zone))

    def moment(self, moment: dt.datetime) -> str:
        """Return a time as every patient page, message and document writes it: "9:30 am GMT on Tuesday 8 December".

        The same words as the documents' ``date_time`` (education.dates), always with the zone named.
        """
        local = self.local(moment)
        hour = local.hour % 12 or 12
        clock = f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
        if (local.hour, local.minute) == (12, 0):
            clock = "12:00 noon"
        return f"{clock} {local.tzname()} on {local:%A} {local.day} {local:%B %Y}"

    def day(self, moment: dt.datetime) -> str:
        """Return the clinic-local day of a moment as 'Tuesday 8 December 2026'."""
        local = self.local(moment)
        return f"{local:%A} {local.day} {local:%B %Y}"
