"""For admins: the audit log (browse with filters, export as CSV; it cannot be edited here or anywhere), staff
roles (a role change ends the account's sessions) and the clinic settings patients see (decision 0035)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vertebro.errors import VertebroError
from vertebro.ids import RecordId
from vertebro.pathway.machine import Role
from vertebro.store import staff_service
from vertebro.store.clinic_settings import FIELDS, checked_values, clinic_values, save_clinic, stored_policy
from vertebro.web.deps import Staff, UoW, allow, current_policy, remember_policy
from vertebro.web.forms import FormData, form_data
from vertebro.web.templating import page

router = APIRouter()
COLUMNS = ("id", "occurred_at", "actor", "action", "entity_type", "entity_id", "patient_id", "source", "detail")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    patient_id: Annotated[RecordId | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """Browse the audit log (newest last); the viewing itself is audited."""
    entries = uow.audit.entries(
        patient_id=patient_id, actor=actor or None, action=action or None, limit=500, latest=True
    )
    uow.audit.append(
        actor=staff.actor.username,
        action="read",
        entity_type="audit_log",
        entity_id=None,
        detail={"patient_id": patient_id, "rows": len(entries)},
        source=staff.actor.source,
    )
    uow.commit()
    return page(
        request,
        "audit.html",
        staff,
        entries=entries,
        patient_id=patient_id or "",
        actor=actor or "",
        action=action or "",
    )


@router.get("/admin/audit.csv")
def audit_export(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    patient_id: Annotated[RecordId | None, Query()] = None,
) -> Response:
    """Export the audit log (or one patient's entries) as CSV."""
    entries = uow.audit.entries(patient_id=patient_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.id,
                e.occurred_at.isoformat(),
                e.actor,
                e.action,
                e.entity_type,
                e.entity_id or "",
                e.patient_id or "",
                e.source or "",
                e.detail,
            ]
        )
    uow.audit.append(
        actor=staff.actor.username,
        action="export",
        entity_type="audit_log",
        entity_id=None,
        detail={"patient_id": patient_id, "rows": len(entries)},
        source=staff.actor.source,
    )
    uow.commit()
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="vertebro-audit.csv"'},
    )


class RoleChange(BaseModel):
    """The role a staff account is to have."""

    model_config = ConfigDict(strict=True, extra="forbid")

    role: Role = Field(strict=False)  # the role's name (JSON has no enum type)


class StaffRole(BaseModel):
    """A staff account's role after a change; every session it had has ended."""

    username: str
    role: Role


@router.put("/api/admin/users/{username}/role", response_model=StaffRole, tags=["admin"])
def change_role(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    username: Annotated[str, Path(min_length=1, max_length=64)],
    body: RoleChange,
) -> StaffRole:
    """Give a staff account another role; its sessions end, so the new role starts with a new sign-in."""
    user = staff_service.change_role(uow, username=username, role=body.role, actor=staff.actor.username)
    uow.commit()
    return StaffRole(username=user.username, role=Role(user.role))


def _clinic_page(
    request: Request,
    staff: Staff,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    *,
    team_email: str | None,
) -> HTMLResponse:
    return page(
        request,
        "admin_clinic.html",
        staff,
        status,
        fields=FIELDS,
        values=values,
        errors=errors,
        team_email=team_email,  # as stored: the page says when no one is told of patients' messages
        flash="The clinic settings are saved: patients see them now." if request.query_params.get("saved") else None,
    )


@router.get("/admin/clinic", response_class=HTMLResponse)
def clinic_settings(request: Request, uow: UoW, staff: Annotated[Staff, Depends(allow(Role.ADMIN))]) -> HTMLResponse:
    """The clinic's name, site, address, phones, hours, directions and time zone, as patients see them, and the
    team's e-mail address (told that a patient's message waits; the page says so when none is set)."""
    policy = stored_policy(uow, request.app.state.policy)
    uow.audit.append(
        actor=staff.actor.username, action="read", entity_type="clinic_settings", entity_id=1, source=staff.actor.source
    )
    uow.commit()
    return _clinic_page(request, staff, clinic_values(policy.clinic), {}, team_email=policy.clinic.team_email)


@router.post("/admin/clinic", response_model=None)
def save_clinic_settings(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.ADMIN))],
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Save the clinic settings (every problem shown at once, by its field; nothing saved until all are right)."""
    values, errors = checked_values(form.raw)
    status = 422
    if not errors:
        try:
            save_clinic(
                uow,
                values,
                defaults=request.app.state.policy.clinic,
                actor=staff.actor.username,
                source=staff.actor.source,
            )
            policy = stored_policy(uow, request.app.state.policy)
            uow.commit()
        except VertebroError as error:
            uow.rollback()
            errors, status = {error.field or "form": error.message}, error.status_code
        else:
            remember_policy(request.app, policy)  # this process at once; the others within 30 seconds
            return RedirectResponse("/admin/clinic?saved=1", status_code=303)
    shown = {f.name: form.raw.get(f.name, "") for f in FIELDS}
    return _clinic_page(request, staff, shown, errors, status, team_email=current_policy(request.app).clinic.team_email)
