"""Rendering portal pages: the portal layout, the patient disclaimer on every page, plain dates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import pass_context
from sqlalchemy.orm import object_session

from vertebro.clinical.clinic import Clinic
from vertebro.education.content import DISCLAIMER as PATIENT_DISCLAIMER
from vertebro.education.dates import date_time, long_date
from vertebro.errors import VertebroError
from vertebro.intake.answers import DATE_HINT
from vertebro.messaging.repository import ThreadRepository
from vertebro.web.deps import current_policy
from vertebro.web.portal.deps import SignedInPatient
from vertebro.web.templating import TEMPLATES

TEMPLATES.env.filters.setdefault("long_date", long_date)
TEMPLATES.env.filters.setdefault("date_time", date_time)


@pass_context
def _moment(context: Any, value: Any) -> str:
    """Return a stored (UTC) time in the clinic's zone, zone named: '9:30 am GMT on Tuesday 8 December 2026'."""
    clinic: Clinic = current_policy(context["request"].app).clinic
    return clinic.moment(value)


TEMPLATES.env.filters.setdefault("moment", _moment)
TEMPLATES.env.globals.setdefault("portal_date_hint", DATE_HINT)  # one hint for every portal date control


def unread_replies(patient: SignedInPatient | None) -> Callable[[], int]:
    """Return a callable the layout calls for the patient's unread replies (in the request's own session)."""

    def count() -> int:
        session = None if patient is None else object_session(patient.session)
        return (
            0
            if session is None or patient is None
            else ThreadRepository(session).patient_unread(patient.actor.patient_id)
        )

    return count


def portal_page(
    request: Request, template: str, patient: SignedInPatient | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a portal page in the portal layout (with the disclaimer and, when signed in, the CSRF token)."""
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(
        request,
        f"portal/{template}",
        {
            "patient": patient,
            "csrf_token": None if patient is None else patient.csrf_token,
            "disclaimer": PATIENT_DISCLAIMER,
            "demo_mode": settings.demo_mode,
            "clinic": current_policy(request.app).clinic,
            "messages_unread": unread_replies(patient),
            **context,
        },
        status_code=status_code,
    )


PORTAL_TITLES = {
    403: "This page is not for this account",
    404: "We could not find this page",
    409: "This cannot be done now",
    410: "This link has expired",
    422: "Please check what you typed",
    429: "Please wait a little",
}


def portal_error(request: Request, error: VertebroError) -> Response:
    """Return a portal error page in plain words (401: the sign-in page)."""
    if error.status_code == 401:
        return RedirectResponse("/portal/login", status_code=303)
    title = PORTAL_TITLES.get(error.status_code, "Something went wrong")
    return portal_page(request, "error.html", None, error.status_code, title=title, message=error.message)
