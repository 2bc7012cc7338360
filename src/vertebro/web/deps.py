"""Request dependencies: the unit of work, the signed-in user, role checks and CSRF protection.

Each endpoint is its own transaction boundary: it calls services and then ``uow.commit()``, so the
audit rows of a read are committed with the response, and a failed commit is an error response.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from vertebro.clinical import ClinicPolicy
from vertebro.pathway.machine import Role
from vertebro.store.clinic_settings import stored_policy
from vertebro.store.db import UnitOfWork
from vertebro.store.models import WebSession
from vertebro.store.staff_service import Forbidden, NotAuthenticated, signed_in
from vertebro.store.workflow import Actor

SESSION_COOKIE = "vertebro_session"
PENDING_COOKIE = "vertebro_pending"
RESUME_COOKIE = "vertebro_resume"  # where to go after signing in: an EHR launch link (/smart/open/...)
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """Yield a unit of work for this request; whatever the endpoint does not commit is rolled back.

    Opening a unit of work touches no database, so it runs on the event loop instead of costing a trip
    through the thread pool. Closing it is free after a commit (the connection is idle); when a
    transaction is still open (an error before the commit) the rollback runs in a worker thread.
    """
    uow = UnitOfWork(request.app.state.session_factory).__enter__()
    try:
        yield uow
    finally:
        if uow.session.in_transaction():
            await run_in_threadpool(uow.__exit__, None, None, None)
        else:
            uow.__exit__(None, None, None)


UoW = Annotated[UnitOfWork, Depends(unit_of_work)]


CLINIC_REFRESH_SECONDS = 30.0  # another server process sees an admin's change of the clinic settings within this


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """The clinic policy with the stored clinic settings, and when it was read (``time.monotonic``)."""

    policy: ClinicPolicy
    loaded_at: float


def current_policy(app: Any) -> ClinicPolicy:
    """Return the clinic policy with the admin's clinic settings as last read (the environment's before)."""
    loaded: LoadedPolicy | None = getattr(app.state, "clinic_policy", None)
    value: ClinicPolicy = app.state.policy if loaded is None else loaded.policy
    return value


def remember_policy(app: Any, value: ClinicPolicy) -> None:
    """Keep ``value`` as the app's clinic policy (after reading or saving the clinic settings)."""
    app.state.clinic_policy = LoadedPolicy(value, time.monotonic())


def _read_policy(app: Any) -> ClinicPolicy | None:
    """Return the policy with the stored clinic settings, read in a short unit of work of its own; None when the
    database cannot answer (down, or not migrated)."""
    try:
        with UnitOfWork(app.state.session_factory) as uow:
            return stored_policy(uow, app.state.policy)
    except SQLAlchemyError:
        return None


async def fresh_clinic_settings(request: Request) -> None:
    """Re-read the stored clinic settings when the copy is older than ``CLINIC_REFRESH_SECONDS`` (every route).

    The read has its own short unit of work, closed before the route runs: routes open theirs from different
    dependencies (``/fhir`` has its own), and a unit of work held open across the request beside the route's
    would be a second transaction for the length of the request. A database that cannot answer keeps the last
    settings read: the route itself reports the database's state.
    """
    loaded: LoadedPolicy | None = getattr(request.app.state, "clinic_policy", None)
    if loaded is not None and time.monotonic() - loaded.loaded_at < CLINIC_REFRESH_SECONDS:
        return
    value = await run_in_threadpool(_read_policy, request.app)
    if value is not None:
        remember_policy(request.app, value)


async def policy(request: Request) -> ClinicPolicy:
    """Return the clinic policy: the environment's choices with the stored clinic settings (decision 0035)."""
    return current_policy(request.app)


Policy = Annotated[ClinicPolicy, Depends(policy)]


def client_address(request: Request) -> str | None:
    """Return the client's address (for the audit log and rate limits)."""
    return request.client.host if request.client else None


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in member of staff for this request."""

    session: WebSession
    actor: Actor
    bearer: bool

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.actor.role


def _token(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), True
    return request.cookies.get(SESSION_COOKIE), False


async def form_csrf_token(request: Request) -> str | None:
    """Return the CSRF token sent in a form body (forms post it as the hidden field ``csrf_token``)."""
    if request.method not in UNSAFE_METHODS:
        return None
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get("csrf_token")
    return value if isinstance(value, str) else None


def current_staff(request: Request, uow: UoW, form_token: Annotated[str | None, Depends(form_csrf_token)]) -> Staff:
    """Return the signed-in staff member, or raise 401. Checks CSRF on unsafe cookie-authenticated requests."""
    token, bearer = _token(request)
    web_session = signed_in(uow, token)
    if web_session is None:
        uow.commit()  # keep a timeout's revocation and audit entry
        raise NotAuthenticated("sign in to continue")
    if web_session.scope is not None:  # a scoped token (an app's, or POST /api/token with scope): /fhir only
        scope = web_session.scope
        raise Forbidden(f"this token's scopes ({scope}) are for /fhir only: the rest of vertebro is closed to it")
    if request.method in UNSAFE_METHODS and not bearer:
        sent = request.headers.get(CSRF_HEADER) or form_token
        if not sent or not hmac.compare_digest(sent, web_session.csrf_token):
            raise Forbidden("the form is out of date (CSRF check failed): reload the page and try again")
    actor = Actor(web_session.user.username, Role(web_session.user.role), client_address(request))
    return Staff(web_session, actor, bearer)


def allow(*roles: Role) -> Callable[..., Awaitable[Staff]]:
    """Return a dependency that admits only the given roles (every page and API route declares one)."""
    allowed = frozenset(roles)

    async def dependency(staff: Annotated[Staff, Depends(current_staff)]) -> Staff:  # pure: no thread needed
        if staff.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"the {staff.role.value} role cannot open this (allowed: {names})")
        return staff

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


ALL_STAFF = tuple(Role)
CLINICAL_STAFF = (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD)
