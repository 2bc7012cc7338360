"""The patient's path through the service: states, actions, who may take them and their guards.

```
requested -> screening -> (declined | eligible) -> prepared -> scheduled -> in_procedure
          -> monitoring -> discharged -> follow_up -> closed
```
A decision (eligible or declined) can be undone back to screening by the radiologist who took it, within
``UNDO_WINDOW`` and before the next step (decision 0033); no other step has an undo.
Every action has a guard that looks at a :class:`CaseSnapshot` (pure data, no database) and either
allows it or says, in plain words, everything that is still missing. The store records the transition
and its audit entry in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

# How long the radiologist who accepted or declined a case may undo it (decision 0033).
UNDO_WINDOW = dt.timedelta(minutes=10)


class State(StrEnum):
    """Where a case is on the patient's path."""

    REQUESTED = "requested"
    SCREENING = "screening"
    DECLINED = "declined"
    ELIGIBLE = "eligible"
    PREPARED = "prepared"
    SCHEDULED = "scheduled"
    IN_PROCEDURE = "in_procedure"
    MONITORING = "monitoring"
    DISCHARGED = "discharged"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class Role(StrEnum):
    """Staff roles (the patient portal has its own)."""

    COORDINATOR = "coordinator"
    NURSE = "nurse"
    RADIOLOGIST = "radiologist"
    SERVICE_LEAD = "service_lead"
    ADMIN = "admin"


class Action(StrEnum):
    """A step a member of staff takes on a case."""

    START_SCREENING = "start_screening"
    DECLINE = "decline"
    ACCEPT = "accept"
    COMPLETE_PREPARATION = "complete_preparation"
    BOOK = "book"
    CANCEL_BOOKING = "cancel_booking"
    START_PROCEDURE = "start_procedure"
    SIGN_PROCEDURE = "sign_procedure"
    DISCHARGE = "discharge"
    START_FOLLOW_UP = "start_follow_up"
    CLOSE = "close"
    UNDO_DECISION = "undo_decision"


@dataclass(frozen=True, slots=True)
class Transition:
    """An action's source states, target state and the roles allowed to take it."""

    action: Action
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]


_CLINICAL = frozenset({Role.RADIOLOGIST})
_DESK = frozenset({Role.COORDINATOR, Role.NURSE})
_CARE = frozenset({Role.NURSE, Role.RADIOLOGIST})
# The service lead books too: accepting the planner's schedule books every case in it (decision 0012).
_BOOKING = _DESK | {Role.SERVICE_LEAD}

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.START_SCREENING, frozenset({State.REQUESTED}), State.SCREENING, _DESK),
        Transition(Action.DECLINE, frozenset({State.SCREENING, State.ELIGIBLE}), State.DECLINED, _CLINICAL),
        Transition(Action.ACCEPT, frozenset({State.SCREENING}), State.ELIGIBLE, _CLINICAL),
        Transition(Action.COMPLETE_PREPARATION, frozenset({State.ELIGIBLE}), State.PREPARED, _DESK),
        Transition(Action.BOOK, frozenset({State.PREPARED}), State.SCHEDULED, _BOOKING),
        Transition(Action.CANCEL_BOOKING, frozenset({State.SCHEDULED}), State.PREPARED, _BOOKING),
        Transition(Action.START_PROCEDURE, frozenset({State.SCHEDULED}), State.IN_PROCEDURE, _CARE),
        Transition(Action.SIGN_PROCEDURE, frozenset({State.IN_PROCEDURE}), State.MONITORING, _CLINICAL),
        Transition(Action.DISCHARGE, frozenset({State.MONITORING}), State.DISCHARGED, _CARE),
        Transition(Action.START_FOLLOW_UP, frozenset({State.DISCHARGED}), State.FOLLOW_UP, _CARE | _DESK),
        Transition(
            Action.CLOSE,
            frozenset({State.FOLLOW_UP, State.DECLINED}),
            State.CLOSED,
            frozenset({Role.SERVICE_LEAD, Role.RADIOLOGIST}),
        ),
        Transition(Action.UNDO_DECISION, frozenset({State.ELIGIBLE, State.DECLINED}), State.SCREENING, _CLINICAL),
    )
}
# The actions that reverse another one: the chart offers them only while they are allowed (decision 0033).
UNDO_ACTIONS = frozenset({Action.UNDO_DECISION})

# Who records what on a case outside the transitions: the routes admit these roles and the chart derives its
# forms and its "who can" notes from them (one permission map).
RECORD_ROLES: dict[str, frozenset[Role]] = {
    "imaging facts": _CLINICAL,
    "safety facts": _DESK | _CLINICAL,
    "pre-procedure checklist": _DESK,
    "insurance": _DESK,
    "booking": _DESK,
    "change requests": _DESK,  # how a patient's request to cancel or move the appointment was answered (0040)
    "prescriber decisions": _CARE,
    "procedure record": _CLINICAL,
    "observations": _CARE,
    "discharge": _CARE,
    "follow-up questionnaires": _DESK | _CLINICAL,
    "complications": _CARE,
}


def who_can(roles: frozenset[Role]) -> str:
    """Return the roles in words, e.g. "the coordinator or nurse" (the chart's "who can" notes)."""
    names = sorted(r.value.replace("_", " ") for r in roles)
    return "the " + (" or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1])


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """What the guards need to know about a case, gathered by the store."""

    state: State
    recommended_augmentation: bool = False
    decision_reason: str | None = None
    checklist_missing: tuple[str, ...] = ()
    insurance_cleared: bool = False
    holds_completable: bool = True
    has_booking: bool = False
    procedure_signed: bool = False
    sedated: bool = False
    driver_confirmed: bool = False
    companion_confirmed: bool = False
    discharge_criteria_missing: tuple[str, ...] = ()
    # What holds discharge back while monitoring (pathway.monitoring); a radiologist's written reason overrides.
    monitoring_concerns: tuple[str, ...] = ()
    override_reason: str | None = None
    aftercare_issued: bool = False
    closing_reason: str | None = None
    # how long ago the case was decided (None: no decision recorded) and whether the actor is who decided
    decided_ago: dt.timedelta | None = None
    decided_by_actor: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an action is allowed now, and if not, every reason why."""

    action: Action
    target: State
    refusals: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        """True when nothing stands in the way."""
        return not self.refusals


def _guard(action: Action, s: CaseSnapshot) -> list[str]:
    refusals: list[str] = []
    if action is Action.ACCEPT and not s.recommended_augmentation and not s.decision_reason:
        refusals.append("the assessment does not recommend augmentation: record a written reason to decide against it")
    if action is Action.DECLINE and s.recommended_augmentation and not s.decision_reason:
        refusals.append("the assessment recommends augmentation: record a written reason to decline")
    if action is Action.COMPLETE_PREPARATION:
        refusals.extend(f"checklist: {item}" for item in s.checklist_missing)
    if action is Action.BOOK:
        refusals.extend(f"checklist: {item}" for item in s.checklist_missing)
        if not s.insurance_cleared:
            refusals.append("insurance: pre-approval or a recorded self-pay decision is needed before booking")
        if not s.holds_completable:
            refusals.append("medication holds cannot be completed before this date: choose a later slot")
    if action is Action.START_PROCEDURE and not s.has_booking:
        refusals.append("no booked slot")
    if action is Action.SIGN_PROCEDURE and not s.procedure_signed:
        refusals.append("the procedure record is not signed: complete and sign it in the procedure form")
    if action is Action.DISCHARGE:
        if not s.procedure_signed:
            refusals.append("the procedure record is not signed")
        if s.monitoring_concerns and not s.override_reason:
            refusals.extend(s.monitoring_concerns)
            refusals.append("a radiologist may discharge despite this with a written reason")
        refusals.extend(f"discharge criterion not met: {item}" for item in s.discharge_criteria_missing)
        if s.sedated and not s.driver_confirmed:
            refusals.append("sedated patient: the driver is not confirmed")
        if s.sedated and not s.companion_confirmed:
            refusals.append("sedated patient: the 12-hour companion is not confirmed")
    if action is Action.START_FOLLOW_UP and not s.aftercare_issued:
        refusals.append("the aftercare plan has not been issued")
    if action is Action.CLOSE and s.state is State.FOLLOW_UP and not s.closing_reason:
        refusals.append("record why the follow-up is closed (completed at 12 months, or another reason)")
    if action is Action.UNDO_DECISION:
        refusals.extend(_undo_refusals(s))
    return refusals


def _undo_refusals(s: CaseSnapshot) -> list[str]:
    minutes = int(UNDO_WINDOW.total_seconds() // 60)
    if s.decided_ago is None:
        return ["no decision is recorded to undo"]
    refusals = []
    if not s.decided_by_actor:
        refusals.append("only the radiologist who took the decision can undo it")
    if s.decided_ago > UNDO_WINDOW:
        refusals.append(f"the decision can only be undone within {minutes} minutes: decide again with a reason instead")
    return refusals


def evaluate(action: Action, snapshot: CaseSnapshot, role: Role) -> Verdict:
    """Return whether ``role`` may take ``action`` on a case now, with every reason it may not."""
    transition = TRANSITIONS[action]
    refusals: list[str] = []
    if role not in transition.roles:
        allowed = ", ".join(sorted(r.value for r in transition.roles))
        refusals.append(f"the {role.value} role cannot {action.value.replace('_', ' ')} (allowed: {allowed})")
    if snapshot.state not in transition.sources:
        sources = ", ".join(sorted(s.value for s in transition.sources))
        refusals.append(f"the case is {snapshot.state.value}; this step needs it to be {sources}")
    else:
        refusals.extend(_guard(action, snapshot))
    return Verdict(action, transition.target, tuple(refusals))


def available(snapshot: CaseSnapshot, role: Role) -> list[Verdict]:
    """Return the verdict of every action that starts from the case's current state."""
    return [evaluate(a, snapshot, role) for a, t in TRANSITIONS.items() if snapshot.state in t.sources]
