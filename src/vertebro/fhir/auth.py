"""Request dependencies of the /fhir routes: the unit of work and the signed-in clinical staff member.

The same sessions as the app (a bearer token from ``POST /api/token`` or the staff session cookie),
checked by :func:`vertebro.store.staff_service.signed_in`, or an access token of a SMART Backend Services
client (:mod:`vertebro.fhir.smart`), whose actor is ``client:<client id>`` in the client's registered role.
The token of a SMART app is a session of the member of staff who allowed it; on every request it is refused once
the app is revoked (:func:`vertebro.fhir.smart_apps.app_still_allowed`), as a client's token is once the client is.
A bearer token that is not valid is answered 401 with ``WWW-Authenticate: Bearer error="invalid_token"``.
The fhir layer sits below web, so it cannot use ``web.deps``; this module repeats its two small dependencies.
A token's SMART-style scopes (:mod:`vertebro.fhir.scopes`) come with the signed-in member of staff as a
:class:`FhirUser`.

Writes (POST, PUT, DELETE) with the session cookie must send the session's CSRF token in ``X-CSRF-Token``
(as the JSON API does); bearer tokens need none. Before a write the authentication's own updates are
committed, so that the write transaction starts with its lock (on SQLite the write lock must be its first
statement).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from vertebro.fhir.errors import InvalidToken
from vertebro.fhir.responses import check_negotiation
from vertebro.fhir.scopes import Grant, parse_scopes
from vertebro.fhir.smart import client_actor, client_session
from vertebro.fhir.smart_apps import app_still_allowed
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.staff_service import Forbidden, NotAuthenticated, signed_in
from vertebro.store.workflow import Actor

CSRF_HEADER = "x-csrf-token"  # vertebro.web.deps.CSRF_HEADER
SESSION_COOKIE = "vertebro_session"  # the staff app's cookie (vertebro.web.deps.SESSION_COOKIE)
CLINICAL_ROLES = frozenset({Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD})


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """Yield a unit of work for this request; whatever the endpoint does not commit is rolled back."""
    with UnitOfWork(request.app.state.session_factory) as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(unit_of_work)]


@dataclass(frozen=True, slots=True)
class FhirUser:
    """The signed-in member of staff of a /fhir request and what the token's scopes grant."""

    actor: Actor
    grant: Grant
    bearer: bool
    csrf_token: str


def fhir_user(request: Request, uow: UoW) -> FhirUser:
    """Return the signed-in clinical staff member; 401 without a session, 403 for other roles (admin)."""
    header = request.headers.get("authorization", "")
    bearer = header.lower().startswith("bearer ")
    token = header[7:].strip() if bearer else request.cookies.get(SESSION_COOKIE)
    source = request.client.host if request.client else None
    web_session = signed_in(uow, token)
    if web_session is None and bearer:
        client = client_session(uow, token)
        if client is not None:  # a SMART Backend Services client (fhir.smart)
            check_negotiation(request)
            actor = Actor(client_actor(client.client_id), client.role, source)
            return FhirUser(actor, Grant(parse_scopes(client.scope)), True, "")
    if web_session is not None and not app_still_allowed(uow, web_session, source):
        web_session = None  # the token of an app revoked since it was issued: ended now, on this request
    if web_session is None:
        uow.commit()  # keep a timeout's or a revoked app's ending and its audit entry
        if bearer:  # RFC 6750 3.1: a token was sent and is not (or no longer) valid
            raise InvalidToken(
                "the access token is not valid: unknown, expired, ended, or its app or client was revoked; "
                "ask the token endpoint (/auth/token) or POST /api/token for a new one"
            )
        raise NotAuthenticated(
            "a bearer token (POST /api/token or the SMART token endpoint /auth/token) or a staff session is required"
        )
    role = Role(web_session.user.role)
    if role not in CLINICAL_ROLES:
        raise Forbidden(f"the {role.value} role cannot read patient data")
    actor = Actor(web_session.user.username, role, source)
    scopes = parse_scopes(web_session.scope) if web_session.scope else None
    check_negotiation(request)  # 406/415 once the caller is known to be allowed in (401/403 first)
    return FhirUser(actor, Grant(scopes, web_session.launch_patient_id), bearer, web_session.csrf_token)


fhir_user.checks_negotiation = True  # type: ignore[attr-defined]  # read by FhirRoute


Clinical = Annotated[FhirUser, Depends(fhir_user)]


def fhir_writer(request: Request, user: Clinical, uow: UoW) -> FhirUser:
    """Return the signed-in member of staff for a write (CSRF checked for cookie sessions); commits the
    sign-in's own updates so that the write transaction starts with its lock."""
    if not user.bearer:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, user.csrf_token):
            raise Forbidden("the CSRF check failed: send the session's token in X-CSRF-Token (or use a bearer token)")
    uow.commit()
    return user


Writer = Annotated[FhirUser, Depends(fhir_writer)]
