"""Monitoring guards (pure): a case reaches monitoring only signed; discharge waits for the planned time, a
non-escalating last NEWS2 and a done, unchanged neurological check, unless a radiologist writes a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from vertebro.clinical.news2 import Consciousness, Risk
from vertebro.pathway.machine import Action, CaseSnapshot, Role, State, evaluate
from vertebro.pathway.monitoring import NeuroCheck, ObservationSet, monitoring_status, neuro_of

END = dt.datetime(2026, 12, 14, 9, 30, tzinfo=dt.UTC)

observation_sets = st.builds(
    ObservationSet,
    systolic=st.integers(80, 230),
    diastolic=st.integers(40, 79),
    heart_rate=st.integers(30, 160),
    respiration_rate=st.integers(6, 40),
    spo2=st.integers(80, 100),
    on_oxygen=st.booleans(),
    temperature_c=st.integers(340, 410).map(lambda t: t / 10),
    consciousness=st.sampled_from(Consciousness),
    pain_nrs=st.integers(0, 10),
    neuro=st.sampled_from(NeuroCheck),
)


@given(st.booleans(), st.sampled_from(Role))
def test_no_case_reaches_monitoring_unsigned(signed: bool, role: Role) -> None:
    verdict = evaluate(Action.SIGN_PROCEDURE, CaseSnapshot(State.IN_PROCEDURE, procedure_signed=signed), role)
    if not signed:
        assert not verdict.allowed
        assert any("not signed" in r for r in verdict.refusals)


@given(st.lists(observation_sets, max_size=4), st.integers(-300, 300), st.integers(60, 300))
def test_discharge_concerns_follow_the_plan_the_score_and_the_neuro_check(
    sets: list[ObservationSet], minutes_after_end: int, planned: int
) -> None:
    values: list[dict[str, Any]] = [s.stored() for s in sets]
    now = END + dt.timedelta(minutes=minutes_after_end)
    status = monitoring_status(now=now, procedure_end=END, planned_minutes=planned, observations=values)
    waiting = minutes_after_end < planned
    escalating = bool(values) and Risk(values[-1]["news2_risk"]).escalates
    checks = [neuro_of(v) for v in values]
    neuro_concern = bool(values) and (NeuroCheck.CHANGED in checks or NeuroCheck.UNCHANGED not in checks)
    expected_clear = not waiting and bool(values) and not escalating and not neuro_concern
    assert (status.concerns == ()) == expected_clear
    assert any("monitoring: the plan" in c for c in status.concerns) == waiting
    assert status.ends_at == END + dt.timedelta(minutes=planned)
    snapshot = CaseSnapshot(State.MONITORING, procedure_signed=True, monitoring_concerns=status.concerns)
    assert evaluate(Action.DISCHARGE, snapshot, Role.NURSE).allowed == expected_clear
    overridden = CaseSnapshot(
        State.MONITORING, procedure_signed=True, monitoring_concerns=status.concerns, override_reason="reviewed"
    )
    assert evaluate(Action.DISCHARGE, overridden, Role.RADIOLOGIST).allowed


def test_an_unticked_box_of_the_old_form_reads_as_not_done() -> None:
    assert neuro_of({"neuro_unchanged": False}) is NeuroCheck.NOT_DONE
    assert neuro_of({"neuro_unchanged": True}) is NeuroCheck.UNCHANGED
    assert neuro_of({"neuro": "changed"}) is NeuroCheck.CHANGED


def test_the_overridden_guards_never_include_the_unsigned_record() -> None:
    snapshot = CaseSnapshot(State.MONITORING, procedure_signed=False, override_reason="reviewed by me")
    assert not evaluate(Action.DISCHARGE, snapshot, Role.RADIOLOGIST).allowed
