"""Follow-up questionnaires: planned at 2 weeks, 3 months and 12 months, and their scores."""

from __future__ import annotations

import datetime as dt

from vertebro.clinical.clock import zone_of
from vertebro.errors import NotFound
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    FollowUp,
)
from vertebro.store.workflow.base import (
    Actor,
    load_workflow,
    record_audit,
)
from vertebro.store.workflow.chart import CaseView


def plan_follow_ups(uow: UnitOfWork, view: CaseView, zone_name: str) -> None:
    """Plan the 2-week, 3-month and 12-month follow-ups from the discharge day (the clinic's date, ``zone_name``)."""
    discharged = view.discharge.discharged_at if view.discharge else utc_now()
    start = discharged.astimezone(zone_of(zone_name)).date()
    for visit, (lo, hi) in {"2w": (14, 28), "3m": (84, 105), "12m": (358, 386)}.items():
        if uow.records.follow_up(view.workflow.case_id, visit) is None:
            uow.records.add(
                FollowUp(
                    case_id=view.workflow.case_id,
                    visit=visit,
                    due_from=start + dt.timedelta(days=lo),
                    due_until=start + dt.timedelta(days=hi),
                )
            )


def record_follow_up(
    uow: UnitOfWork, case_id: int, *, visit: str, nrs: int, odi_percent: float | None, rdq: int | None, actor: Actor
) -> FollowUp:
    """Record a follow-up questionnaire's scores."""
    workflow = load_workflow(uow, case_id)
    follow_up = uow.records.follow_up(case_id, visit)
    if follow_up is None:
        raise NotFound(f"no {visit} follow-up is planned for this case", field="visit")
    follow_up.nrs = nrs
    follow_up.odi_percent = odi_percent
    follow_up.rdq = rdq
    follow_up.completed_at = utc_now()
    follow_up.recorded_by = actor.username
    uow.session.flush()
    record_audit(uow, actor, "update", "follow_up", follow_up.id, workflow.case.patient_id, visit=visit)
    return follow_up
