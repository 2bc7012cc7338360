"""The signed-in patient for a portal request: their own session cookie, CSRF on every form, never a staff role.

A request carrying a staff session but no patient session is refused with 403 (staff use the staff app,
patients the portal); with neither it is asked to sign in.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from vertebro.store.models import PatientSession
from vertebro.store.portal import accounts
from vertebro.store.portal.accounts import PatientActor
from vertebro.store.staff_service import Forbidden, NotAuthenticated
from vertebro.web.deps import CSRF_HEADER, SESSION_COOKIE, UNSAFE_METHODS, UoW, client_address, form_csrf_token

PORTAL_COOKIE = "vertebro_portal"


@dataclass(frozen=True, slots=True)
class SignedInPatient:
    """The signed-in patient for this request."""

    session: PatientSession
    actor: PatientActor

    @property
    def csrf_token(self) -> str:
        """The token every form of this session carries."""
        return self.session.csrf_token


def current_patient(
    request: Request, uow: UoW, form_token: Annotated[str | None, Depends(form_csrf_token)]
) -> SignedInPatient:
    """Return the signed-in patient, or raise 401 (403 for a staff session). Checks CSRF on unsafe requests."""
    web_session = accounts.signed_in(uow, request.cookies.get(PORTAL_COOKIE))
    if web_session is None:
        uow.commit()  # keep a timeout's revocation and its audit entry
        if request.cookies.get(SESSION_COOKIE):
            raise Forbidden("staff accounts cannot open the patient portal: patients sign in with their own account")
        raise NotAuthenticated("sign in to continue")
    if request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or form_token
        if not sent or not hmac.compare_digest(sent, web_session.csrf_token):
            raise Forbidden("the form is out of date: reload the page and try again (your answers were not sent)")
    account = web_session.account
    actor = PatientActor(account.id, account.patient_id, account.reference, client_address(request))
    return SignedInPatient(web_session, actor)


CurrentPatient = Annotated[SignedInPatient, Depends(current_patient)]
