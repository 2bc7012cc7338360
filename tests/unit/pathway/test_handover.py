"""Who acts next (pathway.handover) and the undo of a decision (pathway.machine), as pure functions (decision 0033)."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.handover import NEXT_STEP, fact_handovers, states_for, stored_handover, waiting_on
from vertebro.pathway.machine import (
    RECORD_ROLES,
    TRANSITIONS,
    UNDO_WINDOW,
    Action,
    CaseSnapshot,
    Role,
    State,
    evaluate,
    who_can,
)


def _assessment(**fracture: object) -> dict[str, object]:
    case = Case.model_validate_json(json.dumps(case_data(fracture=dict(fracture))))
    return assessment_json(assess(case))


def test_a_missing_mri_date_is_handed_to_the_radiologist() -> None:
    [handover] = fact_handovers(_assessment(imaging_date=None))
    assert handover.roles == RECORD_ROLES["imaging facts"] == frozenset({Role.RADIOLOGIST})
    assert handover.summary == "needs the radiologist: imaging: L1: date of the MRI or bone scan"
    assert stored_handover((handover,)) == ("radiologist", handover.summary)
    assert fact_handovers(_assessment()) == ()
    assert stored_handover(()) == (None, None)


def test_the_next_step_of_each_state_is_taken_by_the_roles_the_permission_map_names() -> None:
    for state, step in NEXT_STEP.items():
        if step.action is not None and step.action is not Action.BOOK:
            assert step.roles == TRANSITIONS[step.action].roles
            assert state in TRANSITIONS[step.action].sources
    assert State.SCREENING in states_for(Role.RADIOLOGIST)
    assert State.SCREENING not in states_for(Role.COORDINATOR)
    assert State.ELIGIBLE in states_for(Role.NURSE)
    assert State.CLOSED not in {s for role in Role for s in states_for(role)}


def test_the_fact_hand_over_counts_only_before_the_procedure() -> None:
    facts = fact_handovers(_assessment(imaging_date=None))
    assert facts[0] in waiting_on(State.ELIGIBLE, facts)
    assert facts[0] not in waiting_on(State.MONITORING, facts)
    assert who_can(frozenset({Role.NURSE, Role.COORDINATOR})) == "the coordinator or nurse"


@given(
    state=st.sampled_from(list(State)),
    role=st.sampled_from(list(Role)),
    minutes=st.one_of(st.none(), st.integers(min_value=0, max_value=60)),
    by_actor=st.booleans(),
)
def test_an_undo_only_by_who_decided_within_the_window_from_a_decision(
    state: State, role: Role, minutes: int | None, by_actor: bool
) -> None:
    """An undo is allowed exactly for the radiologist who decided, within the window, while the case is still
    eligible or declined; it always returns the case to screening."""
    ago = None if minutes is None else dt.timedelta(minutes=minutes)
    snapshot = CaseSnapshot(state=state, decided_ago=ago, decided_by_actor=by_actor)
    verdict = evaluate(Action.UNDO_DECISION, snapshot, role)
    expected = (
        role is Role.RADIOLOGIST
        and state in (State.ELIGIBLE, State.DECLINED)
        and ago is not None
        and ago <= UNDO_WINDOW
        and by_actor
    )
    assert verdict.allowed is expected
    assert verdict.target is State.SCREENING
