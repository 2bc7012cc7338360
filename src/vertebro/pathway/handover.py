"""Who must act next on a case, and for what: the chart's hand-over line and the worklist's "for you".

Two sources, both derived (decision 0033):

* the case's **state**: the next step on the path (``NEXT_STEP``) is taken by the roles the pathway's
  permission map gives that step (``TRANSITIONS``); the worklist filters on the state alone;
* the **facts** another role must record before the step's owner can go on (``fact_handovers``): the imaging
  (date and findings of the MRI or bone scan) only the radiologist records, and the prescriber's decisions and
  facts a medication hold waits for, which the nurse or radiologist records (``RECORD_ROLES``). The store keeps
  their summary on the case whenever it is assessed, so the worklist can select them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertebro.clinical.medications import HoldAction
from vertebro.clinical.preparation import Status
from vertebro.pathway.machine import RECORD_ROLES, TRANSITIONS, Action, Role, State, who_can


@dataclass(frozen=True, slots=True)
class Step:
    """The next step on a case in one state: what it is and the roles that take it."""

    what: str
    roles: frozenset[Role]
    action: Action | None = None


def _step(action: Action, what: str) -> Step:
    return Step(what, TRANSITIONS[action].roles, action)


NEXT_STEP: dict[State, Step] = {
    State.REQUESTED: _step(Action.START_SCREENING, "start the screening"),
    State.SCREENING: _step(Action.ACCEPT, "review the evidence and decide (accept or decline)"),
    State.ELIGIBLE: _step(Action.COMPLETE_PREPARATION, "the pre-procedure call and the preparation checklist"),
    State.PREPARED: Step("book a slot in the calendar", RECORD_ROLES["booking"], Action.BOOK),
    State.SCHEDULED: _step(Action.START_PROCEDURE, "start the procedure on the day"),
    State.IN_PROCEDURE: _step(Action.SIGN_PROCEDURE, "complete and sign the procedure record"),
    State.MONITORING: _step(Action.DISCHARGE, "observations, then discharge"),
    State.DISCHARGED: _step(Action.START_FOLLOW_UP, "start the follow-up"),
    State.FOLLOW_UP: Step("record the follow-up questionnaires", RECORD_ROLES["follow-up questionnaires"]),
    State.DECLINED: _step(Action.CLOSE, "close the declined case"),
}
# the states before the procedure, where the facts another role records can hold the next step back
BEFORE_PROCEDURE = frozenset({State.REQUESTED, State.SCREENING, State.ELIGIBLE, State.PREPARED})


@dataclass(frozen=True, slots=True)
class Handover:
    """Something one or more roles must record before the case can go on."""

    roles: frozenset[Role]
    what: str

    @property
    def summary(self) -> str:
        """The hand-over in words: "needs the radiologist: L1: date of the MRI or bone scan"."""
        return f"needs {who_can(self.roles)}: {self.what}"


def fact_handovers(assessment: Mapping[str, Any]) -> tuple[Handover, ...]:
    """Return what the imaging and the medication holds still need, with the roles that record each.

    Reads the assessment as stored (``clinical.assessment_json``), so the store, the chart and the migration
    that filled existing cases share it. Rules preparation.imaging_recent and medications.*_decision: the
    imaging date and findings are the radiologist's (the imaging facts form); a prescriber's decision, a hold to
    check and a fact a hold waits for (e.g. the creatinine clearance of a DOAC) are the nurse's or radiologist's.
    """
    prep = assessment.get("preparation") or {}
    found: list[Handover] = []
    imaging = [
        str(item.get("instruction"))
        for item in prep.get("items") or ()
        if item.get("kind") == "imaging" and item.get("status") != Status.DONE.value and item.get("blocking", True)
    ]
    if imaging:
        found.append(Handover(RECORD_ROLES["imaging facts"], "imaging: " + "; ".join(imaging)))
    holds: list[str] = []
    for hold in prep.get("medication_holds") or ():
        drug = hold.get("drug")
        if hold.get("action") == HoldAction.SHARED_DECISION.value:
            holds.append(f"the prescriber's decision on {drug}")
        elif hold.get("action") == HoldAction.CHECK.value:
            holds.append(f"{drug} checked with the prescriber")
        holds.extend(f"{fact} (to date the {drug} hold)" for fact in hold.get("missing") or ())
    if holds:
        found.append(Handover(RECORD_ROLES["prescriber decisions"], "medicines: " + "; ".join(holds)))
    return tuple(found)


def stored_handover(handovers: tuple[Handover, ...]) -> tuple[str | None, str | None]:
    """Return the (roles, text) the store keeps on the case for the worklist: roles as "nurse,radiologist"."""
    if not handovers:
        return None, None
    roles = sorted({r.value for h in handovers for r in h.roles})
    text = "; ".join(h.summary for h in handovers)
    return ",".join(roles), text[:500]


def waiting_on(state: State, handovers: tuple[Handover, ...]) -> tuple[Handover, ...]:
    """Return who the case waits for now: the facts before the procedure first, then the state's next step."""
    waiting = list(handovers) if state in BEFORE_PROCEDURE else []
    step = NEXT_STEP.get(state)
    if step is not None:
        waiting.append(Handover(step.roles, step.what))
    return tuple(waiting)


def states_for(role: Role) -> frozenset[State]:
    """Return the states whose next step ``role`` takes (the worklist's "for you" by state)."""
    return frozenset(state for state, step in NEXT_STEP.items() if role in step.roles)
