"""Request dependencies of the /fhir routes: the unit of work and the signed-in clinical staff member.

The same sessions as the app (a bearer token from ``POST /api/token`` or the staff session cookie),
checked by :func:`vertebro.store.staff_service.signed_in`. The fhir layer sits below web, so it cannot
use ``web.deps``; this module repeats its two small dependencies. /fhir has no unsafe methods yet, so
there is no CSRF check to repeat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.staff_service import Forbidden, NotAuthenticated, signed_in
from vertebro.store.workflow import Actor

SESSION_COOKIE = "vertebro_session"  # the staff app's cookie (vertebro.web.deps.SESSION_COOKIE)
CLINICAL_ROLES = frozenset({Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD})


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """Yield a unit of work for this request; whatever the endpoint does not commit is rolled back."""
    with UnitOfWork(request.app.state.session_factory) as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(unit_of_work)]


def clinical_actor(request: Request, uow: UoW) -> Actor:
    """Return the signed-in clinical staff member; 401 without a session, 403 for other roles (admin)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    web_session = signed_in(uow, token)
    if web_session is None:
        uow.commit()  # keep a timeout's revocation and audit entry
        raise NotAuthenticated("a bearer token (POST /api/token) or a staff session is required")
    role = Role(web_session.user.role)
    if role not in CLINICAL_ROLES:
        raise Forbidden(f"the {role.value} role cannot read patient data")
    return Actor(web_session.user.username, role, request.client.host if request.client else None)


Clinical = Annotated[Actor, Depends(clinical_actor)]
