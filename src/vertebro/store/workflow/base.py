"""What every workflow service shares: the actor, audit entries, loading and version checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from vertebro.clinical import Case, ClinicPolicy, Feasibility, start_feasibility
from vertebro.clinical.clock import zone_of
from vertebro.errors import NotFound, PreconditionFailed, VertebroError
from vertebro.pathway.checklist import Confirmations
from vertebro.pathway.machine import Role, State, Verdict
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    Case as StoredCase,
)
from vertebro.store.models import (
    CaseWorkflow,
)

INSURANCE_CLEARED = ("not_required", "approved", "self_pay")
# Records that only exist from a state on: the chart does not query for them earlier.
BOOKED_OR_LATER = frozenset(
    {State.SCHEDULED, State.IN_PROCEDURE, State.MONITORING, State.DISCHARGED, State.FOLLOW_UP, State.CLOSED}
)


TREATED_OR_LATER = frozenset({State.IN_PROCEDURE, State.MONITORING, State.DISCHARGED, State.FOLLOW_UP, State.CLOSED})


class TransitionRefused(VertebroError):
    """A pathway step whose guard refused it; the message lists every reason (409)."""

    status_code: ClassVar[int] = 409

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("; ".join(verdict.refusals), field="action")
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, in which role, from where."""

    username: str
    role: Role
    source: str | None = None


def record_audit(
    uow: UnitOfWork, actor: Actor, action: str, entity: str, entity_id: object, patient_id: int, **detail: Any
) -> None:
    uow.audit.append(
        actor=actor.username,
        action=action,
        entity_type=entity,
        entity_id=str(entity_id),
        patient_id=patient_id,
        detail={"role": actor.role.value, **detail},
        source=actor.source,
    )


def load_workflow(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> CaseWorkflow:
    workflow = uow.workflows.get(case_id, for_update=for_update)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    return workflow


def check_version(workflow: CaseWorkflow, expected: int | None) -> None:
    if expected is not None and workflow.version != expected:
        raise PreconditionFailed(
            f"this case was changed by someone else (now version {workflow.version}, you saw {expected}); "
            "reload it — your input is kept below",
            field="version",
        )


def facts_of(stored: StoredCase) -> Case:
    """Return the validated facts of a stored case."""
    return Case.model_validate_json(json.dumps(stored.facts))


def confirmations_of(workflow: CaseWorkflow) -> Confirmations:
    """Return the checklist confirmations stored on a workflow."""
    known = {f.name for f in dataclasses.fields(Confirmations)}
    return Confirmations(**{k: v for k, v in (workflow.checklist or {}).items() if k in known})


def feasibility_now(facts: Case, policy: ClinicPolicy, now: dt.datetime | None = None) -> Feasibility:
    """Return the constraints on a case's procedure start at ``now`` (default: this moment), in the clinic's zone.

    The one place the calendar, the booking service, the API and the planner get them from
    (rule booking.feasible_start). Calendar days are the clinic's (``policy.time_zone``, VERTEBRO_TIMEZONE), so
    the calendar, which shows that zone, and the booking service judge every start on the same days.
    """
    return start_feasibility(facts, policy, now or utc_now(), zone_of(policy.time_zone))


def recorded_start(facts: Case, policy: ClinicPolicy) -> dt.datetime | None:
    """Return the case's recorded procedure start (clinic wall-clock time) as an aware moment, or None."""
    if facts.procedure_date is None:
        return None
    start = facts.procedure_time or policy.procedure_start
    return dt.datetime.combine(facts.procedure_date, start, tzinfo=zone_of(policy.time_zone))


def start_allowed(facts: Case, policy: ClinicPolicy, now: dt.datetime | None = None) -> bool:
    """Return whether the recorded procedure start is still feasible now (True when no date is recorded)."""
    start = recorded_start(facts, policy)
    return start is None or feasibility_now(facts, policy, now).allows(start)
