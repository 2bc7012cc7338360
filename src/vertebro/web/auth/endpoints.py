"""Sign-in (password, then TOTP), sign-out, and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vertebro.fhir.scopes import checked_scope, grant_scope
from vertebro.ids import RecordId
from vertebro.store import staff_service
from vertebro.web.deps import (
    ALL_STAFF,
    PENDING_COOKIE,
    RESUME_COOKIE,
    SESSION_COOKIE,
    Staff,
    UoW,
    allow,
    client_address,
)
from vertebro.web.smart.endpoints import resume_after_sign_in
from vertebro.web.templating import page

router = APIRouter()


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The sign-in page (open to everyone)."""
    return page(request, "login.html", None, errors={})


@router.post("/login", response_model=None)
def login(
    request: Request, uow: UoW, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = ""
) -> Response:
    """Check the password; on success ask for the TOTP code."""
    try:
        token = staff_service.begin_sign_in(uow, username=username, password=password, ip=client_address(request))
    except (staff_service.NotAuthenticated, staff_service.TooManyAttempts) as error:
        uow.commit()  # the failed attempt counts towards the rate limit and is audited
        status = error.status_code
        return page(request, "login.html", None, status, errors={"form": error.message}, username=username)
    uow.commit()
    response = RedirectResponse("/login/totp", status_code=303)
    _cookie(response, request, PENDING_COOKIE, token, 300)
    return response


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request) -> HTMLResponse:
    """The second-factor page."""
    return page(request, "totp.html", None, errors={})


@router.post("/login/totp", response_model=None)
def totp(request: Request, uow: UoW, code: Annotated[str, Form()] = "") -> Response:
    """Check the TOTP code and finish signing in."""
    token = request.cookies.get(PENDING_COOKIE, "")
    try:
        signed_in = staff_service.complete_sign_in(uow, token=token, code=code, ip=client_address(request))
    except (staff_service.NotAuthenticated, staff_service.TooManyAttempts) as error:
        uow.commit()
        return page(request, "totp.html", None, error.status_code, errors={"code": error.message})
    uow.commit()
    home = "/admin/audit" if signed_in.session.user.role == "admin" else "/"
    response = RedirectResponse(resume_after_sign_in(request, signed_in.session.user.role) or home, status_code=303)
    response.delete_cookie(PENDING_COOKIE, path="/")
    response.delete_cookie(RESUME_COOKIE, path="/")
    max_age = int(staff_service.ABSOLUTE_TIMEOUT.total_seconds())
    _cookie(response, request, SESSION_COOKIE, signed_in.token, max_age)
    return response


@router.post("/logout")
def logout(uow: UoW, staff: Annotated[Staff, Depends(allow(*ALL_STAFF))]) -> RedirectResponse:
    """Sign out (CSRF-checked like every form)."""
    staff_service.sign_out(uow, staff.session)
    uow.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class TokenRequest(BaseModel):
    """Credentials for an API token: password and a current TOTP code."""

    model_config = ConfigDict(strict=True, extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=6, max_length=7)
    scope: str | None = Field(default=None, min_length=1, max_length=1000)  # SMART-style, for /fhir
    patient: RecordId | None = None  # the patient of patient/ scopes


class TokenResponse(BaseModel):
    """A bearer token for the JSON API (same lifetime and idle timeout as a browser session)."""

    access_token: str
    token_type: str = "bearer"
    scope: str | None = None
    patient: int | None = None


@router.post("/api/token", response_model=TokenResponse, tags=["auth"])
def api_token(request: Request, uow: UoW, body: TokenRequest) -> TokenResponse:
    """Sign in for the API with password and TOTP code; returns a bearer token.

    ``scope`` (SMART-style, e.g. ``user/*.read`` or ``patient/Observation.rs`` with ``patient``) limits what the
    token may do on /fhir; without it the token may do what the role allows.
    """
    ip = client_address(request)
    try:
        pending = staff_service.begin_sign_in(uow, username=body.username, password=body.password, ip=ip)
        signed_in = staff_service.complete_sign_in(uow, token=pending, code=body.code, ip=ip)
    except staff_service.NotAuthenticated:
        uow.commit()
        raise
    scope, patient = checked_scope(uow, body.scope, body.patient)  # after sign-in: no oracle for patient ids
    grant_scope(signed_in.session, scope, patient)
    uow.commit()
    return TokenResponse(access_token=signed_in.token, scope=scope, patient=patient)
