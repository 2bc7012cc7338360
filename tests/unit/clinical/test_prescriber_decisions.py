"""Holds that wait for the prescriber, holds that wait for a fact, and the DOAC kidney-function intervals.

The base case's procedure starts on 2026-12-14 at 08:00 and ends at 09:30 (one level).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import assessed, make_case
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.medications import HoldAction, MedicationHold, medication_holds
from vertebro.clinical.policy import DEFAULT_POLICY

ASRA = "asra-2018"
PAUSE = ClinicPolicy(doac_protocol="pause")
START = dt.datetime(2026, 12, 14, 8, 0)
END = dt.datetime(2026, 12, 14, 9, 30)
AGREED = {"agreed_on": "2026-12-01", "recorded_by": "dr.rad"}


def plan(*meds: dict[str, Any], crcl: float | None = None, policy: ClinicPolicy = DEFAULT_POLICY) -> Any:
    labs: dict[str, Any] = {"inr": 1.0, "platelets": 220.0}
    if crcl is not None:
        labs["creatinine_clearance_ml_min"] = crcl
    return assessed({"medications": list(meds), "labs": labs}, policy=policy)


def only(*meds: dict[str, Any], crcl: float | None = None, policy: ClinicPolicy = DEFAULT_POLICY) -> MedicationHold:
    [h] = plan(*meds, crcl=crcl, policy=policy).preparation.medication_holds
    return h


def undated(h: MedicationHold) -> bool:
    return (h.last_dose_on, h.last_dose_by, h.restart_from, h.restart_until) == (None, None, None, None)


# --- antiplatelets for secondary prevention -------------------------------------------------------


@pytest.mark.rule("medications.antiplatelet_secondary_decision")
@pytest.mark.parametrize("name", ["clopidogrel", "Plavix", "prasugrel", "ticagrelor", "aspirin"])
@pytest.mark.parametrize("purpose", ["secondary_prevention", None])
def test_secondary_prevention_antiplatelets_wait_for_the_prescriber(name: str, purpose: str | None) -> None:
    """ASRA 2018 high-risk table: "Aspirin (secondary prophylaxis) | shared assessment & risk stratification";
    ACCP 2012: "In patients with a coronary stent who require surgery, we recommend deferring surgery > 6 weeks"
    (bare-metal) and 6 months (drug-eluting) — stopping is never an automatic date."""
    med: dict[str, Any] = {"name": name}
    if purpose:
        med["purpose"] = purpose
    a = plan(med)
    [h] = a.preparation.medication_holds
    assert h.action is HoldAction.SHARED_DECISION
    assert h.decision_required
    assert undated(h)
    assert h.outstanding == (f"prescriber's decision on {name}",)
    assert a.profiles[ASRA].category.value == "uncertain"
    assert a.profiles[ASRA].label != "Bleeding-risk plan complete for the planned date"
    assert any("prescriber decision" in m for m in a.profiles[ASRA].missing)


@pytest.mark.rule("medications.antiplatelet_secondary_decision")
@pytest.mark.rule("medications.prescriber_decision_recorded")
def test_once_the_prescriber_agrees_to_hold_the_dates_follow() -> None:
    """ASRA 2018: "Clopidogrel | 7 days | 12–24 h" applies once the shared assessment with the prescriber
    agreed to stop it; the plan shows the date the prescriber agreed and who recorded it."""
    med = {
        "name": "clopidogrel",
        "purpose": "secondary_prevention",
        "prescriber_decision": {"decision": "hold", **AGREED},
    }
    a = plan(med)
    [h] = a.preparation.medication_holds
    assert h.action is HoldAction.HOLD
    assert h.last_dose_on == dt.date(2026, 12, 6)
    assert h.restart_from == dt.datetime(2026, 12, 14, 21, 30)
    assert h.note is not None
    assert "2026-12-01" in h.note
    assert "dr.rad" in h.note
    assert h.outstanding == ()
    assert a.profiles[ASRA].category.value == "appropriate"


@pytest.mark.rule("medications.prescriber_decision_recorded")
def test_a_decision_to_continue_keeps_the_medicine_with_a_caution() -> None:
    """ASRA 2018: secondary prophylaxis is held only "after shared assessment and risk stratification"; a
    decision to continue is the prescriber's, shown as a caution for a high bleeding-risk procedure."""
    med = {
        "name": "ticagrelor",
        "purpose": "secondary_prevention",
        "prescriber_decision": {"decision": "continue", **AGREED},
    }
    a = plan(med)
    [h] = a.preparation.medication_holds
    assert h.action is HoldAction.CONTINUE
    assert undated(h)
    assert "continued" in (h.note or "")
    reasons = [r for r in a.profiles[ASRA].reasons if r.rule.id == "medications.prescriber_decision_recorded"]
    assert reasons
    assert reasons[0].effect.value == "caution"


@pytest.mark.rule("medications.prescriber_decision_recorded")
def test_the_prescribers_interval_never_shortens_the_table() -> None:
    """Rule statement: "hold as the table plans (never shorter than the table)"."""
    shorter = {"name": "clopidogrel", "prescriber_decision": {"decision": "hold", "stop_days_before": 3, **AGREED}}
    longer = {"name": "clopidogrel", "prescriber_decision": {"decision": "hold", "stop_days_before": 9, **AGREED}}
    assert only(shorter).stop_days_before == 7
    assert only(longer).stop_days_before == 9
    assert only(longer).last_dose_on == dt.date(2026, 12, 4)


@pytest.mark.rule("asra.p2y12")
def test_p2y12_for_primary_prevention_keeps_the_table() -> None:
    """ASRA 2018 table: "Clopidogrel | 7 days | 12–24 h" when it is not secondary prevention."""
    h = only({"name": "clopidogrel", "purpose": "primary_prevention"})
    assert (h.action, h.last_dose_on, h.decision_required) == (HoldAction.HOLD, dt.date(2026, 12, 6), False)


# --- anticoagulation and thrombotic risk ------------------------------------------------------------


@pytest.mark.rule("medications.thrombotic_risk_decision")
def test_warfarin_asks_for_the_thrombotic_risk() -> None:
    """ACCP 2012: "In patients with a mechanical heart valve, atrial fibrillation, or VTE at high risk for
    thromboembolism, we suggest bridging"; the risk must be known before warfarin is stopped."""
    a = plan({"name": "warfarin"})
    [h] = a.preparation.medication_holds
    assert h.missing
    assert "thrombotic risk" in h.missing[0]
    assert undated(h)
    assert a.profiles[ASRA].category.value == "uncertain"
    assert any("thrombotic risk" in m for m in a.profiles[ASRA].missing)


@pytest.mark.rule("medications.thrombotic_risk_decision")
def test_high_thrombotic_risk_needs_the_prescribers_decision_and_mentions_bridging() -> None:
    """ACCP 2012: "we suggest bridging anticoagulation instead of no bridging during VKA interruption" at high
    risk; ASRA 2018 defers that to the prescriber."""
    h = only({"name": "warfarin", "thrombotic_risk": "high"})
    assert h.action is HoldAction.SHARED_DECISION
    assert undated(h)
    assert "bridge" in (h.note or "")


@pytest.mark.rule("medications.thrombotic_risk_decision")
@pytest.mark.rule("asra.warfarin")
def test_a_bridging_decision_dates_warfarin_and_names_the_bridge() -> None:
    """ASRA 2018 table: "Warfarin | 5 days, normal INR | 6 h"; ACCP 2012: bridging at high risk."""
    med = {"name": "warfarin", "thrombotic_risk": "high", "prescriber_decision": {"decision": "bridge", **AGREED}}
    h = only(med)
    assert h.action is HoldAction.HOLD
    assert h.last_dose_on == dt.date(2026, 12, 8)
    assert "LMWH" in (h.note or "")
    assert h.condition is not None


@pytest.mark.rule("medications.thrombotic_risk_decision")
def test_high_risk_on_a_doac_also_waits_for_the_prescriber() -> None:
    """Rule statement: at high risk "stopping any anticoagulant ... [is] decided with the prescriber"."""
    h = only({"name": "apixaban", "thrombotic_risk": "high"}, crcl=80)
    assert h.action is HoldAction.SHARED_DECISION
    assert undated(h)


# --- DOACs and kidney function ----------------------------------------------------------------------


@pytest.mark.rule("asra.doac")
@pytest.mark.parametrize("name", ["apixaban", "rivaroxaban", "edoxaban", "dabigatran"])
@pytest.mark.parametrize("policy", [DEFAULT_POLICY, PAUSE], ids=["asra", "pause"])
def test_a_doac_without_creatinine_clearance_gets_no_date(name: str, policy: ClinicPolicy) -> None:
    """ASRA 2018: DOACs are held "five half-lives", and the half-lives depend on kidney function; PAUSE: dabigatran
    "2 days (CrCl ≥ 50) or 4 days (CrCl < 50)" — the creatinine clearance is needed before any date."""
    a = plan({"name": name}, policy=policy)
    [h] = a.preparation.medication_holds
    assert h.missing == ("creatinine clearance",)
    assert undated(h)
    assert any("creatinine clearance" in m for m in a.profiles[ASRA].missing)


@pytest.mark.rule("asra.doac")
@pytest.mark.parametrize("name", ["apixaban", "rivaroxaban", "edoxaban"])
def test_factor_xa_inhibitors_below_30_ml_min_wait_for_the_prescribers_interval(name: str) -> None:
    """ASRA 2018 "five half-lives": below 30 mL/min the half-life is longer than the table's 3 days assume."""
    h = only({"name": name}, crcl=25)
    assert h.action is HoldAction.SHARED_DECISION
    assert undated(h)
    decided = only({"name": name, "prescriber_decision": {"decision": "hold", **AGREED}}, crcl=25)
    assert decided.missing == ("stop interval agreed with the prescriber",)
    assert undated(decided)
    dated = only({"name": name, "prescriber_decision": {"decision": "hold", "stop_days_before": 5, **AGREED}}, crcl=25)
    assert (dated.action, dated.last_dose_on) == (HoldAction.HOLD, dt.date(2026, 12, 8))


@pytest.mark.rule("asra.doac")
@pytest.mark.parametrize(("crcl", "days"), [(30.0, 3), (80.0, 3)])
def test_factor_xa_inhibitors_keep_3_days_with_adequate_kidney_function(crcl: float, days: int) -> None:
    """ASRA 2018 table [GK-verify]: "Rivaroxaban / apixaban / edoxaban | 3 days | 24 h"."""
    assert only({"name": "rivaroxaban"}, crcl=crcl).stop_days_before == days


@pytest.mark.rule("pause.doac")
def test_pause_does_not_apply_to_edoxaban() -> None:
    """PAUSE protocol table: "Edoxaban | Not studied" — the ASRA interval applies, with a note."""
    h = only({"name": "edoxaban"}, crcl=80, policy=PAUSE)
    assert h.rule.id == "asra.doac"
    assert h.stop_days_before == 3
    assert "not studied in PAUSE" in (h.note or "")


@pytest.mark.rule("pause.doac")
@pytest.mark.parametrize("name", ["apixaban", "rivaroxaban", "dabigatran"])
def test_pause_below_30_ml_min_falls_back_to_asra(name: str) -> None:
    """PAUSE studied apixaban, rivaroxaban and dabigatran with adequate kidney function only; below 30 mL/min the
    ASRA interval ("dabigatran ... 6 days if renal impairment") applies, with a note."""
    h = only({"name": name}, crcl=20, policy=PAUSE)
    assert h.rule.id == "asra.doac"
    assert "not studied in PAUSE" in (h.note or "")
    if name == "dabigatran":
        assert h.stop_days_before == 6


# --- the INR note -----------------------------------------------------------------------------------


@pytest.mark.rule("sir.labs_high_risk")
def test_a_high_inr_on_a_held_vitamin_k_antagonist_is_rechecked_after_the_hold() -> None:
    """SIR 2019: "correct INR to ≤ 1.5–1.8"; ASRA: warfarin "5 days, normal INR" — the hold itself lowers it."""
    a = assessed({"medications": [{"name": "warfarin", "thrombotic_risk": "low"}], "labs": {"inr": 2.4}})
    [inr] = [i for i in a.preparation.items if i.kind == "lab" and i.instruction.startswith("INR")]
    assert "after the warfarin hold" in inr.instruction
    assert not inr.blocking


@pytest.mark.rule("sir.labs_high_risk")
def test_a_high_inr_with_warfarin_continued_is_not_rechecked_after_a_hold() -> None:
    """SIR 2019: "correct INR to ≤ 1.5–1.8" — when warfarin is continued there is no hold to wait for."""
    med = {"name": "warfarin", "thrombotic_risk": "high", "prescriber_decision": {"decision": "continue", **AGREED}}
    a = assessed({"medications": [med], "labs": {"inr": 2.4}})
    [inr] = [i for i in a.preparation.items if i.kind == "lab" and i.instruction.startswith("INR")]
    assert "after the" not in inr.instruction
    assert inr.blocking


# --- properties -------------------------------------------------------------------------------------

NAMES = ["warfarin", "acenocoumarol", "aspirin", "clopidogrel", "prasugrel", "ticagrelor", "apixaban", "rivaroxaban",
         "edoxaban", "dabigatran", "enoxaparin", "heparin", "fondaparinux", "ibuprofen"]  # fmt: skip
decisions = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "decision": st.sampled_from(["hold", "continue", "bridge"]),
            "agreed_on": st.just("2026-11-30"),
            "recorded_by": st.just("dr.rad"),
            "stop_days_before": st.one_of(st.none(), st.integers(min_value=1, max_value=14)),
        }
    ),
)
meds = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "purpose": st.sampled_from([None, "primary_prevention", "secondary_prevention", "therapeutic", "other"]),
            "thrombotic_risk": st.sampled_from([None, "low", "moderate", "high"]),
            "prescriber_decision": decisions,
        }
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.rule("medications.prescriber_decision_recorded")
@settings(max_examples=200, deadline=None)
@given(
    medications=meds,
    day=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2030, 12, 31)),
    time=st.times(min_value=dt.time(6, 0), max_value=dt.time(20, 0)),
    crcl=st.one_of(st.none(), st.floats(min_value=5, max_value=150)),
    protocol=st.sampled_from(["asra", "pause"]),
)
def test_no_last_dose_after_the_procedure_and_no_date_before_a_required_decision(
    medications: list[dict[str, Any]], day: dt.date, time: dt.time, crcl: float | None, protocol: str
) -> None:
    """ASRA 2018 "Stop before" / "Restart after"; rule statement: "No hold date is given until the decision is
    recorded"."""
    policy = ClinicPolicy(doac_protocol="pause" if protocol == "pause" else "asra")
    case = make_case({"medications": medications, "labs": {"creatinine_clearance_ml_min": crcl}})
    start = dt.datetime.combine(day, time)
    end = start + dt.timedelta(minutes=90)
    for med, h in zip(case.medications, medication_holds(case, policy, start, end), strict=True):
        if h.decision_required and med.prescriber_decision is None:
            assert undated(h)
            assert h.outstanding
        if h.outstanding or h.action is not HoldAction.HOLD:
            assert undated(h)
            continue
        assert (h.last_dose_on is None) != (h.last_dose_by is None)
        if h.last_dose_on is not None:
            assert h.last_dose_on < day
        if h.last_dose_by is not None:
            assert h.last_dose_by < start
        assert h.restart_from is not None
        assert h.restart_from > end - dt.timedelta(hours=1)  # an hour of slack only across a clock change


@pytest.mark.rule("medications.thrombotic_risk_decision")
@pytest.mark.rule("asra.doac")
def test_a_hold_lists_everything_it_waits_for_at_once() -> None:
    """Rule statements: the prescriber decides at high thrombotic risk, and "Creatinine clearance is needed before
    a date is given" — both are listed, not one after the other."""
    h = only({"name": "apixaban", "thrombotic_risk": "high"})
    assert h.outstanding == ("creatinine clearance", "prescriber's decision on apixaban")
    assert undated(h)


@pytest.mark.rule("medications.antiplatelet_secondary_decision")
def test_the_preparation_plan_lists_the_outstanding_decision() -> None:
    """ASRA 2018: secondary prophylaxis is held only after "shared assessment & risk stratification"."""
    a = plan({"name": "clopidogrel", "purpose": "secondary_prevention"})
    [item] = [i for i in a.preparation.items if i.kind == "medication"]
    assert item.instruction == "clopidogrel: prescriber's decision on clopidogrel (no hold date until then)"
    assert item.status.value == "needed"
    decided = plan(
        {
            "name": "clopidogrel",
            "purpose": "secondary_prevention",
            "prescriber_decision": {"decision": "hold", **AGREED},
        }
    )
    assert not [i for i in decided.preparation.items if i.kind == "medication"]
