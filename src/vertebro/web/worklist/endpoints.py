"""The worklist: cases by pathway state, with counts, a state filter, sortable columns and search by name,
date of birth or identifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from vertebro.clinical.profiles import PROFILE_NAMES, PROFILE_TITLES
from vertebro.pathway.machine import State
from vertebro.store import workflow
from vertebro.store.workflow_repository import WORKLIST_SORTS
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.templating import page

router = APIRouter()
# (sort key or None, heading) of each column, in order
COLUMNS: tuple[tuple[str | None, str], ...] = (
    ("name", "Patient"),
    ("birth_date", "Date of birth"),
    ("requested", "Requested"),
    ("source", "Source"),
    ("state", "State"),
    ("intake", "Intake"),
    ("fracture_age", "Newest fracture"),
    (None, "Rules recommend"),
    (None, "Default profile"),
    ("updated", "Updated"),
)
CHANNELS = {"portal": "Patient portal", "staff": "Staff", "fhir": "FHIR"}
CHANGE_WORDS = {"cancel": "Patient asks to cancel", "reschedule": "Patient asks to move"}  # an open request (0040)
PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
def worklist(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    state: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[str | None, Query(max_length=32)] = None,
    order: Annotated[str | None, Query(max_length=4)] = None,
    waiting: Annotated[str | None, Query(alias="for", max_length=8)] = None,
    change: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    """Cases by state with counts, sorted by a whitelisted column; every patient shown is audited as read.

    ``?for=you`` keeps the cases waiting for the signed-in role: the next step is its own, or a hand-over names
    it (e.g. the radiologist for a missing MRI date; decision 0033). ``?change=open`` keeps the cases whose patient
    waits for an answer to a request to cancel or move the appointment (decision 0040)."""
    for_you = waiting == "you"
    change_asked = change == "open"
    chosen = state if state in {s.value for s in State} else None
    key = sort if sort in WORKLIST_SORTS else "updated"
    descending = order != "asc"
    entries = workflow.worklist(
        uow,
        staff.actor,
        state=chosen,
        query=q,
        limit=PAGE_SIZE,
        sort=key,
        descending=descending,
        for_you=for_you,
        change_asked=change_asked,
    )
    counts = uow.workflows.state_counts()
    waiting_count = uow.workflows.count_for(workflow.for_role(staff.role))
    change_count = uow.workflows.count_change_asked()
    overdue = workflow.overdue_checks(uow, [e.case_id for e in entries if e.state == State.MONITORING.value], policy)
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
        sort=key,
        descending=descending,
        columns=COLUMNS,
        profile_names=PROFILE_NAMES,
        profile_titles=PROFILE_TITLES,
        channels=CHANNELS,
        for_you=for_you,
        waiting_count=waiting_count,
        change_asked=change_asked,
        change_count=change_count,
        change_words=CHANGE_WORDS,
        overdue=overdue,
    )
