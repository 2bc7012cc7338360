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
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import VertebroError
from vertebro.fhir.smart_apps import AuthorizationError, approved, checked_authorization, denied
from vertebro.fhir.smart_launch import TIMEOUT, LaunchFailed, begin_launch, complete_launch, ehr_of, open_launch
from vertebro.store.staff_service import Forbidden, NotAuthenticated
from vertebro.web.deps import CLINICAL_STAFF, RESUME_COOKIE, Staff, UoW, allow, client_address, current_staff
from vertebro.web.templating import page

router = APIRouter(tags=["SMART app"])
LINK = r"^[A-Za-z0-9_-]{20,100}$"
RESUME = re.compile(r"^/(smart/open/[A-Za-z0-9_-]{20,100}|auth/authorize\?[^\s\\]{1,3000})$")
AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "aud", "code_challenge")


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


def _sign_in_first(request: Request, back_to: str) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(RESUME_COOKIE, back_to, max_age=600, httponly=True, samesite="strict", secure=secure)
    return response


def _clinical(request: Request, uow: UoW) -> Staff | None:
    """Return the signed-in member of clinical staff, None without a session; Forbidden for other roles."""
    try:
        staff = current_staff(request, uow, None)
    except NotAuthenticated:
        return None
    if staff.role not in CLINICAL_STAFF:
        raise Forbidden(f"the {staff.role.value} role cannot read patient data")
    return staff


@router.get("/smart/open/{link}", include_in_schema=False, response_model=None)
def open_chart(request: Request, uow: UoW, link: Annotated[str, Path(pattern=LINK)]) -> Response:
    """Open the launched patient's chart for a signed-in member of clinical staff (signing in first if needed)."""
    staff = _clinical(request, uow)
    if staff is None:
        return _sign_in_first(request, f"/smart/open/{link}")
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


def _fhir_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


@router.get("/auth/authorize", include_in_schema=False, response_model=None)
def authorize(request: Request, uow: UoW) -> Response:
    """An app asks a member of clinical staff for access (SMART standalone launch): show what it asks for."""
    params = {k: v for k, v in request.query_params.items() if len(v) <= 2000}
    try:
        authorization = checked_authorization(uow, params, _fhir_base(request))
    except AuthorizationError as refused:
        return RedirectResponse(refused.location, status_code=302)
    staff = _clinical(request, uow)
    if staff is None:
        return _sign_in_first(request, f"/auth/authorize?{request.url.query}")
    fields = {name: params.get(name, "") for name in AUTHORIZE_FIELDS}
    fields["code_challenge_method"] = "S256"
    scopes = authorization.scopes()
    return page(request, "smart_authorize.html", staff, app=authorization.app, scopes=scopes, fields=fields)


@router.post("/auth/authorize", include_in_schema=False, response_model=None)
def authorize_decision(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    response_type: Annotated[str, Form(max_length=20)] = "",
    client_id: Annotated[str, Form(max_length=128)] = "",
    redirect_uri: Annotated[str, Form(max_length=1000)] = "",
    scope: Annotated[str, Form(max_length=1000)] = "",
    state: Annotated[str, Form(max_length=500)] = "",
    aud: Annotated[str, Form(max_length=500)] = "",
    code_challenge: Annotated[str, Form(max_length=128)] = "",
    code_challenge_method: Annotated[str, Form(max_length=10)] = "",
    decision: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The member of staff allows or refuses: back to the app with a code, or with ``access_denied``.

    The way back is a page of ours with a link (and refresh), not a redirect: the staff pages' CSP
    (``form-action 'self'``) would stop a form's redirect to the app's site.
    """
    params = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "aud": aud,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
    }
    try:
        authorization = checked_authorization(uow, params, _fhir_base(request))
    except AuthorizationError as refused:
        return page(request, "smart_return.html", staff, location=refused.location, app_name=client_id)
    source = client_address(request)
    if decision == "allow":
        location = approved(uow, authorization, staff.session.user, source)
    else:
        location = denied(uow, authorization, staff.session.user, source)
    uow.commit()
    return page(request, "smart_return.html", staff, location=location, app_name=authorization.app.name)
