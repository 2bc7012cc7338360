"""The clinic's contact details as the admin stored them, over the environment's defaults (decision 0035).

The environment (``VERTEBRO_CLINIC_*``, ``VERTEBRO_TIMEZONE``) gives the defaults; once the admin saves the
settings page, the one ``clinic_settings`` row holds every value and wins. :func:`stored_policy` is the one
place a running service turns the row into the :class:`~vertebro.clinical.clinic.Clinic` every patient page,
message and document uses; the clinical core receives it on ``ClinicPolicy.clinic`` and stays pure.
"""

from __future__ import annotations

import dataclasses
import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vertebro.clinical import ClinicPolicy
from vertebro.clinical.clinic import Clinic, plausible_email
from vertebro.errors import Conflict
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, ClinicSettingsRow

SETTINGS_ID = 1


@dataclass(frozen=True, slots=True)
class Field:
    """One editable setting: its label, its longest value, and whether it may be left empty."""

    name: str
    label: str
    max_length: int
    required: bool
    hint: str = ""


FIELDS = (
    Field("name", "Name of the service", 120, True, "As patients read it: 'the spinal procedures team'"),
    Field("site", "Site", 200, True, "The unit and hospital patients come to"),
    Field("address", "Address", 300, True, "Street, town and postcode"),
    Field("phone", "Phone number", 40, False, "The number patients call in opening hours"),
    Field("opening_hours", "Opening hours", 200, True, "For example: Monday to Friday, 8:00 to 17:00"),
    Field("out_of_hours", "Out-of-hours number", 200, False, "Whom to call when the team is closed"),
    Field("directions", "Directions", 1000, False, "Entrance, parking, public transport"),
    Field("time_zone", "Time zone", 64, True, "An IANA name such as Europe/London"),
    Field(
        "team_email",
        "Team e-mail",
        254,
        False,
        "The team's shared address: it is told when a patient's message is waiting, with no name and no content. "
        "Patients never see it",
    ),
)
PHONE_CHARACTERS = frozenset("0123456789 +-()")


@functools.cache
def known_zones() -> frozenset[str]:
    """Return every IANA time zone name this machine's zoneinfo knows."""
    return frozenset(zoneinfo.available_timezones())


def clinic_values(clinic: Clinic) -> dict[str, str]:
    """Return a clinic's settings as the form shows them (empty text for a setting not given)."""
    return {f.name: str(getattr(clinic, f.name) or "") for f in FIELDS}


def checked_values(form: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """Return the cleaned settings and every problem at once, by field (bounded lengths, phone, known zone)."""
    values: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for f in FIELDS:
        value = " ".join(str(form.get(f.name, "")).split()) if f.name != "directions" else form.get(f.name, "").strip()
        if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
            errors[f.name] = f"{f.label}: remove the control characters (they cannot be stored)"
        elif len(value) > f.max_length:
            errors[f.name] = f"{f.label}: at most {f.max_length} characters (this has {len(value)})"
        elif not value and f.required:
            errors[f.name] = f"{f.label}: enter a value (patients are shown it on every page and message)"
        values[f.name] = value or None
    phone = values.get("phone")
    if phone and "phone" not in errors and (not set(phone) <= PHONE_CHARACTERS or sum(c.isdigit() for c in phone) < 3):
        errors["phone"] = "Phone number: digits, spaces, + - ( ) only, for example 01632 960 123"
    team = values.get("team_email")
    if team and "team_email" not in errors and not plausible_email(team):
        errors["team_email"] = "Team e-mail: one address such as spinal.team@hospital.example (or leave it empty)"
    zone = values.get("time_zone")
    if zone and "time_zone" not in errors and zone not in known_zones():
        errors["time_zone"] = f"Time zone: {zone!r} is not a time zone name; use one such as Europe/London"
    return values, errors


def stored_clinic(session: Session, defaults: Clinic) -> Clinic:
    """Return the clinic as stored by the admin, or ``defaults`` (the environment's) when nothing is stored."""
    row = session.get(ClinicSettingsRow, SETTINGS_ID)
    if row is None:
        return defaults
    return dataclasses.replace(
        defaults,
        name=row.name,
        site=row.site,
        address=row.address,
        phone=row.phone,
        opening_hours=row.opening_hours,
        out_of_hours=row.out_of_hours,
        directions=row.directions,
        time_zone=row.time_zone,
        team_email=row.team_email,
    )


def with_clinic(policy: ClinicPolicy, clinic: Clinic) -> ClinicPolicy:
    """Return the policy carrying ``clinic`` (its time zone becomes the policy's: one zone everywhere)."""
    return dataclasses.replace(policy, clinic=clinic, time_zone=clinic.time_zone)


def stored_policy(uow: UnitOfWork, defaults: ClinicPolicy) -> ClinicPolicy:
    """Return the clinic policy with the stored clinic settings (the environment's where none are stored)."""
    return with_clinic(defaults, stored_clinic(uow.session, defaults.clinic))


def _future_bookings(session: Session) -> int:
    statement = select(func.count()).where(Booking.status == "booked", Booking.starts_at > utc_now())
    return int(session.execute(statement).scalar_one())


def save_clinic(
    uow: UnitOfWork, values: Mapping[str, str | None], *, defaults: Clinic, actor: str, source: str | None
) -> Clinic:
    """Store the checked settings (from :func:`checked_values`) and audit which fields changed.

    The time zone cannot change while appointments are booked ahead: booked times are the clinic's wall-clock
    times, and a new zone would move every one of them (refused with 409 naming ``time_zone``).
    """
    before = stored_clinic(uow.session, defaults)
    row = uow.session.get(ClinicSettingsRow, SETTINGS_ID, with_for_update=True)
    zone = str(values["time_zone"])
    if zone != before.time_zone and (booked := _future_bookings(uow.session)):
        raise Conflict(
            f"Time zone: {booked} appointment(s) are booked ahead in {before.time_zone}; changing the zone would "
            "move them. Keep the zone, or move those appointments first.",
            field="time_zone",
        )
    if row is None:
        row = ClinicSettingsRow(id=SETTINGS_ID)
        uow.session.add(row)
    for f in FIELDS:
        setattr(row, f.name, values[f.name])
    row.updated_at = utc_now()
    row.updated_by = actor
    uow.session.flush()
    after = stored_clinic(uow.session, defaults)
    changed = [f.name for f in FIELDS if getattr(before, f.name) != getattr(after, f.name)]
    uow.audit.append(
        actor=actor,
        action="update",
        entity_type="clinic_settings",
        entity_id=SETTINGS_ID,
        detail={"fields": changed, "time_zone": after.time_zone},
        source=source,
    )
    return after
