"""For admins: the audit log (browse with filters, export as CSV; it cannot be edited here or anywhere) and
staff roles (a role change ends the account's sessions)."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vertebro.ids import RecordId
from vertebro.pathway.machine import Role
from vertebro.store import staff_service
from vertebro.web.deps import Staff, UoW, allow
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
