"""For admins: the registered SMART clients and apps, and their revocation (decision 0039).

``/admin/smart`` lists every system client and app (kind, scopes, role, web origins, live tokens, who registered
it); revoking one asks first, then ends every token it was given at once and refuses it new ones
(:func:`vertebro.fhir.smart.revoke_client`, as ``vertebro fhir revoke-client`` does). Registering an app
(``/admin/smart/new-app``) or a system client (``/admin/smart/new-client``) takes the same facts as
``vertebro fhir register-app`` and ``register-client``, its public JWKS pasted as JSON, and names every problem at
once beside its field (decision 0044).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import InvalidFields, InvalidInput, NotFound, Problems
from vertebro.fhir.smart import CLIENT_ROLES, register_client, registered_clients, revoke_client
from vertebro.fhir.smart_apps import register_app
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.pathway.machine import Role
from vertebro.web.deps import Staff, UoW, allow
from vertebro.web.flash import done_url
from vertebro.web.forms import FormData, form_data
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


KINDS = {"app": "new-app", "system": "new-client"}
DEFAULT_SCOPES = {"app": "user/*.read", "system": "system/*.read"}
MAX_JWKS = 20_000  # characters of a pasted public JWKS (a few keys)


def _lines(text: str) -> list[str]:
    """The non-empty lines of a text box (one redirect URI or origin per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _jwks(text: str, *, required: bool) -> Any:
    """The pasted JWKS as JSON (None when empty and not required); InvalidInput naming the problem."""
    if len(text) > MAX_JWKS:
        raise InvalidInput(f"at most {MAX_JWKS} characters (this has {len(text)})", field="jwks")
    if not text.strip():
        if required:
            raise InvalidInput('paste the client\'s public JWKS: {"keys": [...]}', field="jwks")
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise InvalidInput(f"this is not JSON ({error})", field="jwks") from None


def _role(text: str) -> Role:
    """The clinical role a system client acts in."""
    for role in CLIENT_ROLES:
        if role.value == text:
            return role
    raise InvalidInput("choose the role its requests act in", field="role")


def _register_page(
    request: Request, staff: Staff, kind: str, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    shown = {"scope": DEFAULT_SCOPES[kind], **values}
    return page(
        request, "admin_smart_register.html", staff, status, kind=kind, values=shown, errors=errors, roles=CLIENT_ROLES
    )


@router.get("/admin/smart/new-app", response_class=HTMLResponse)
def new_app(request: Request, staff: Annotated[Staff, Depends(allow(Role.ADMIN))]) -> HTMLResponse:
    """The form that registers a SMART app staff may authorize (as ``vertebro fhir register-app``)."""
    return _register_page(request, staff, "app", {}, {})


@router.get("/admin/smart/new-client", response_class=HTMLResponse)
def new_client(request: Request, staff: Annotated[Staff, Depends(allow(Role.ADMIN))]) -> HTMLResponse:
    """The form that registers a Backend Services system client (as ``vertebro fhir register-client``)."""
    return _register_page(request, staff, "system", {}, {})


def _registered(request: Request, uow: UoW, staff: Staff, kind: str, form: FormData, register: Any) -> Response:
    """Register from the form, or show it again with every problem beside its field and what was typed."""
    try:
        register()
        uow.commit()
    except InvalidInput as error:
        uow.rollback()
        problems = error.problems if isinstance(error, InvalidFields) else {error.field or "form": error.message}
        return _register_page(request, staff, kind, dict(form.raw), problems, 422)
    return RedirectResponse(done_url("/admin/smart", "smart-registered"), status_code=303)


@router.post("/admin/smart/new-app", response_model=None)
def register_app_page(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Register the app: every problem named at once, nothing stored until all are right (audited)."""
    raw = form.raw

    def register() -> None:
        problems = Problems()
        jwks = problems.check(_jwks, raw.get("jwks", ""), required=False)
        problems.check(
            lambda: register_app(
                uow,
                client_id=raw.get("client_id", ""),
                name=raw.get("name", "")[:200],
                redirect_uris=_lines(raw.get("redirect_uris", "")),
                scope=raw.get("scope", ""),
                jwks=jwks,
                origins=_lines(raw.get("origins", "")) or None,
                actor=staff.actor.username,
                source=staff.actor.source,
            )
        )
        problems.raise_any()

    return _registered(request, uow, staff, "app", form, register)


@router.post("/admin/smart/new-client", response_model=None)
def register_client_page(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Register the system client: every problem named at once, nothing stored until all are right (audited)."""
    raw = form.raw

    def register() -> None:
        problems = Problems()
        jwks = problems.check(_jwks, raw.get("jwks", ""), required=True)
        role = problems.check(_role, raw.get("role", ""))
        problems.check(
            lambda: register_client(
                uow,
                client_id=raw.get("client_id", ""),
                name=raw.get("name", "")[:200],
                jwks=jwks,
                scope=raw.get("scope", ""),
                role=role or Role.NURSE,  # a refused role is noted above
                actor=staff.actor.username,
                source=staff.actor.source,
            )
        )
        problems.raise_any()

    return _registered(request, uow, staff, "system", form, register)
