"""Staff-side portal pages: the demo outbox, and a new one-time sign-in link for a patient who lost theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.errors import NotFound
from vertebro.ids import RecordId
from vertebro.pathway.machine import Role
from vertebro.store.portal.accounts import new_activation
from vertebro.store.portal.outbox import queue_activation
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.templating import page

router = APIRouter()


@router.get("/outbox", response_class=HTMLResponse)
def demo_outbox(request: Request, uow: UoW, staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))]) -> HTMLResponse:
    """The messages queued for patients (demo mode only; each patient shown is recorded as read)."""
    if not request.app.state.settings.demo_mode:
        raise NotFound("the outbox page exists in demo mode only; messages go out through SMTP", field="path")
    messages = uow.portal.messages(100)
    uow.audit.append_reads(
        actor=staff.actor.username,
        patient_ids=sorted({m.patient_id for m in messages if m.patient_id is not None}),
        detail={"role": staff.role.value, "view": "outbox"},
        source=staff.actor.source,
    )
    uow.commit()
    return page(request, "outbox.html", staff, messages=messages)


@router.post("/cases/{case_id}/portal-link", response_model=None)
def new_portal_link(
    request: Request,
    case_id: Annotated[RecordId, Path()],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.COORDINATOR, Role.NURSE))],
    policy: Policy,
) -> Response:
    """Issue a new one-time link to set the portal password (the old one stops working); audited.

    Outside demo mode the link goes to the patient's contact through the outbox; in demo mode it is shown.
    """
    workflow = uow.workflows.get(case_id)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    account = uow.portal.account_for_patient(workflow.case.patient_id)
    if account is None:
        raise NotFound("this patient has no portal account", field="case_id")
    token = new_activation(uow, account, actor=staff.actor.username)
    path = f"/portal/activate/{token}"
    settings = request.app.state.settings
    queue_activation(uow, account, f"{settings.portal_url}{path}", policy.clinic)  # demo mode too: /outbox shows it
    uow.commit()
    if settings.demo_mode:
        return page(request, "portal_link.html", staff, path=path, reference=account.reference)
    return RedirectResponse(f"/patients/{workflow.case.patient_id}?done=portal-link#case-{case_id}", status_code=303)
