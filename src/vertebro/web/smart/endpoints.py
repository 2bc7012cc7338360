"""The routes of vertebro the SMART app: ``/smart/launch``, ``/smart/callback`` and ``/smart/open/{link}``.

The EHR's browser window arrives from another site, so vertebro's staff session cookie (SameSite=Strict) is not
sent on the launch or the callback; neither needs it. The callback answers a page of vertebro's own whose link
(and automatic refresh) opens ``/smart/open/{link}`` from vertebro's site, where the session is seen; without one
the clinician signs in first and is brought back to the link (:data:`RESUME_COOKIE`). Steps in
:mod:`vertebro.fhir.smart_launch`.
"""

from __future__ import annotations

import re
from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import VertebroError
from vertebro.fhir.smart_launch import TIMEOUT, LaunchFailed, begin_launch, complete_launch, ehr_of, open_launch
from vertebro.store.staff_service import Forbidden, NotAuthenticated
from vertebro.web.deps import CLINICAL_STAFF, RESUME_COOKIE, UoW, current_staff
from vertebro.web.templating import page

router = APIRouter(tags=["SMART app"])
LINK = r"^[A-Za-z0-9_-]{20,100}$"
RESUME = re.compile(r"^/smart/open/[A-Za-z0-9_-]{20,100}$")


def _callback_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/smart/callback"


@router.get("/smart/launch", include_in_schema=False)
def launch(
    request: Request,
    uow: UoW,
    iss: Annotated[str, Query(max_length=500)],
    launch: Annotated[str, Query(max_length=2000)],
) -> RedirectResponse:
    """An EHR launches vertebro: redirect to the EHR's authorization endpoint (state and PKCE kept here)."""
    ehr = ehr_of(request.app.state.settings.smart_ehrs, iss)
    with httpx.Client(timeout=TIMEOUT) as http:
        url = begin_launch(uow, http, ehr, launch, _callback_url(request))
    uow.commit()
    return RedirectResponse(url, status_code=302)


@router.get("/smart/callback", response_class=HTMLResponse, include_in_schema=False)
def callback(
    request: Request,
    uow: UoW,
    state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The EHR sends the browser back with a code: exchange it, then offer the one-use link to the chart."""
    if error is not None or not code:
        raise LaunchFailed(f"the EHR did not authorize vertebro ({error or 'no code'}): launch it again from the EHR")
    ehrs = request.app.state.settings.smart_ehrs
    try:
        with httpx.Client(timeout=TIMEOUT) as http:
            link = complete_launch(uow, http, ehrs, code, state, _callback_url(request))
    except VertebroError:
        uow.commit()  # the launch is spent either way
        raise
    uow.commit()
    return page(request, "smart_open.html", None, link=f"/smart/open/{link}")


@router.get("/smart/open/{link}", include_in_schema=False, response_model=None)
def open_chart(request: Request, uow: UoW, link: Annotated[str, Path(pattern=LINK)]) -> Response:
    """Open the launched patient's chart for a signed-in member of clinical staff (signing in first if needed)."""
    try:
        staff = current_staff(request, uow, None)
    except NotAuthenticated:
        response = RedirectResponse("/login", status_code=303)
        secure = request.app.state.settings.secure_cookies
        response.set_cookie(
            RESUME_COOKIE, f"/smart/open/{link}", max_age=600, httponly=True, samesite="strict", secure=secure
        )
        return response
    if staff.role not in CLINICAL_STAFF:
        raise Forbidden(f"the {staff.role.value} role cannot open a patient's chart")
    try:
        patient_id = open_launch(uow, link, staff.actor)
    except VertebroError:
        uow.commit()  # the attempt stays in the audit log
        raise
    uow.commit()
    response = RedirectResponse(f"/patients/{patient_id}", status_code=303)
    response.delete_cookie(RESUME_COOKIE, path="/")
    return response


def resume_after_sign_in(request: Request, role: str) -> str | None:
    """Return the EHR launch link a member of clinical staff was sent to sign in from, or None."""
    value = request.cookies.get(RESUME_COOKIE, "")
    return value if RESUME.match(value) and role in {r.value for r in CLINICAL_STAFF} else None
