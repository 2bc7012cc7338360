"""For admins: the registered SMART clients and apps, and their revocation (decision 0039).

``/admin/smart`` lists every system client and app (kind, scopes, role, web origins, live tokens, who registered
it); revoking one asks first, then ends every token it was given at once and refuses it new ones
(:func:`vertebro.fhir.smart.revoke_client`, as ``vertebro fhir revoke-client`` does). Registering stays on the
command line (keys and redirect URIs are files and URLs an administrator has at hand there).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import NotFound
from vertebro.fhir.smart import registered_clients, revoke_client
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.pathway.machine import Role
from vertebro.web.deps import Staff, UoW, allow
from vertebro.web.flash import done_url
from vertebro.web.templating import page

router = APIRouter(tags=["admin"])  # staff pages: in /openapi.json with the other admin pages
CLIENT_ID = r"^[A-Za-z0-9._~-]{1,128}$"


@router.get("/admin/smart", response_class=HTMLResponse)
def smart_clients(request: Request, uow: UoW, staff: Annotated[Staff, Depends(allow(Role.ADMIN))]) -> HTMLResponse:
    """Every registered SMART client and app, with a way to revoke each active one (the viewing is audited)."""
    clients = registered_clients(uow, actor=staff.actor.username, source=staff.actor.source)
    uow.commit()
    return page(request, "admin_smart.html", staff, clients=clients)


@router.get("/admin/smart/{client_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    client_id: Annotated[str, Path(pattern=CLIENT_ID)],
) -> HTMLResponse:
    """Ask before revoking: what it ends, and that it cannot be undone."""
    client = SmartRepository(uow.session).client(client_id)
    if client is None:
        raise NotFound(f"there is no registered client {client_id!r}", field="client_id")
    return page(request, "admin_smart_revoke.html", staff, client=client)


@router.post("/admin/smart/{client_id}/revoke", response_model=None)
def revoke(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    client_id: Annotated[str, Path(pattern=CLIENT_ID)],
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Revoke the client or app (after the confirmation): its tokens end now; back to the list."""
    if confirmed != "yes":
        return RedirectResponse(f"/admin/smart/{client_id}/revoke", status_code=303)
    revoke_client(uow, client_id=client_id, actor=staff.actor.username, source=staff.actor.source)
    uow.commit()
    return RedirectResponse(done_url("/admin/smart", "smart-revoked"), status_code=303)
