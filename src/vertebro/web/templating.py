"""Jinja2 templates (autoescaped) and the helpers every page uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlalchemy.orm import object_session

from vertebro.clinical.allergens import allergy_labels
from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.messaging.repository import ThreadRepository
from vertebro.messaging.service import INBOX_ROLES
from vertebro.web.deps import Staff, current_policy
from vertebro.web.flash import flash_of
from vertebro.web.safety_forms import YES_NO_FACTS

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().with_name("templates")))
TEMPLATES.env.auto_reload = False  # templates ship with the package: no file-system check on every render
DISCLAIMER = "Decision support for clinicians: it does not replace clinical judgement."


def _zone_name(context: Any) -> str | None:
    """The clinic's time zone by name, from the settings of the app serving the request (None outside a request)."""
    request = context.get("request")
    return current_policy(request.app).time_zone if request is not None else None


@pass_context
def _when(context: Any, value: dt.datetime | dt.date | str | None) -> str:
    """A stored time in the clinic's zone (the clinic settings), zone named: '2026-12-08 09:30 GMT' (decision 0026).

    A string is a time read back from a stored assessment: a naive one is the clinic's wall-clock time already
    (clinical/clock.py), so it gets the zone's name for that moment; a date alone stays a date.
    """
    if value is None:
        return "-"
    name = _zone_name(context)
    zone = zone_of(name) if name is not None else None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if "T" not in value and " " not in value:
            return parsed.date().isoformat()
        if parsed.tzinfo is None and zone is None:
            return parsed.strftime("%Y-%m-%d %H:%M")
        value = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    return value.isoformat()


@pass_context
def _clinic_zone(context: Any) -> str:
    """The clinic's time zone by name ('Europe/London'), for labels of time inputs typed in clinic time."""
    return _zone_name(context) or DEFAULT_TIME_ZONE


def yes_no(value: bool | None) -> str:
    """Return a recorded yes/no fact in words: "yes", "no", or "not recorded" when unknown (never None)."""
    if value is None:
        return "not recorded"
    return "yes" if value else "no"


def sentence(value: object) -> str:
    """Return a text with its first letter a capital and every other letter as written ("38 C", "ID", "MRI"):
    Jinja's ``capitalize`` lowers the rest."""
    text = str(value)
    return text[:1].upper() + text[1:]


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["sentence"] = sentence
TEMPLATES.env.globals["clinic_zone"] = _clinic_zone
TEMPLATES.env.filters["yes_no"] = yes_no
TEMPLATES.env.filters["words"] = lambda value: str(value).replace("_", " ")
TEMPLATES.env.filters["zip"] = lambda left, right: zip(left, right, strict=True)
TEMPLATES.env.globals["safety_facts"] = YES_NO_FACTS
TEMPLATES.env.globals["allergy_words"] = lambda entries: ", ".join(allergy_labels(entries))


def inbox_count(staff: Staff | None) -> Callable[[], int | None]:
    """Return a callable the layout calls for the inbox's unread count (None for roles without an inbox).

    It runs one count in the request's own database session (the one that loaded the staff session), and only
    when the navigation is rendered: a page fragment costs nothing.
    """

    def count() -> int | None:
        if staff is None or staff.role not in INBOX_ROLES:
            return None
        session = object_session(staff.session)
        return None if session is None else ThreadRepository(session).staff_unread()

    return count


def page(request: Request, template: str, staff: Staff | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the layout's context (the user, role, CSRF token and the inbox's unread count).

    Without a message of its own (``flash``), a page shows the success message its address asks for
    (``?done=<code>``, web.flash): every redirect after a change gets one the same way.
    """
    if not context.get("flash"):
        done = flash_of(request)
        if done is not None:
            context.update(flash=done.text, flash_kind="ok", done=done)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "csrf_token": None if staff is None else staff.session.csrf_token,
            "disclaimer": DISCLAIMER,
            "inbox_unread": inbox_count(staff),
            **context,
        },
        status_code=status_code,
    )
