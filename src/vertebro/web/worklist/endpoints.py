"""The worklist: cases by pathway state, with counts, a state filter and search by name or identifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from vertebro.pathway.machine import State
from vertebro.store import workflow
from vertebro.web.deps import CLINICAL_STAFF, Staff, UoW, allow
from vertebro.web.templating import page

router = APIRouter()
PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
def worklist(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    state: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Cases by state with counts; every patient shown is recorded as read in the audit log."""
    chosen = state if state in {s.value for s in State} else None
    entries = workflow.worklist(uow, staff.actor, state=chosen, query=q, limit=PAGE_SIZE)
    counts = uow.workflows.state_counts()
    uow.commit()
    return page(
        request,
        "worklist.html",
        staff,
        entries=entries,
        counts=counts,
        states=[s.value for s in State],
        state=chosen,
        q=q or "",
    )
