"""Peri-procedural antithrombotic holds (ASRA 2018 high-risk table, PAUSE for DOACs).

The base case's procedure starts on 2026-12-14 at 08:00 and, with one level, ends at 09:30 (30 min set-up +
60 min per level), so restart times below are counted from 09:30.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.clinical.builders import PROCEDURE_DATE, assessed, make_case
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.medications import HoldAction, MedicationHold, medication_holds, normalized_drug
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.procedure import room_minutes

START = dt.datetime(2026, 12, 14, 8, 0)
END = dt.datetime(2026, 12, 14, 9, 30)
PAUSE = ClinicPolicy(doac_protocol="pause")


def holds(
    *meds: dict[str, Any], changes: dict[str, Any] | None = None, policy: ClinicPolicy = DEFAULT_POLICY
) -> tuple[MedicationHold, ...]:
    return assessed({"medications": list(meds), **(changes or {})}, policy=policy).preparation.medication_holds


def hold(
    name: str,
    purpose: str | None = None,
    route: str | None = None,
    *,
    changes: dict[str, Any] | None = None,
    policy: ClinicPolicy = DEFAULT_POLICY,
    **extra: Any,
) -> MedicationHold:
    med: dict[str, Any] = {"name": name, **extra}
    if purpose is not None:
        med["purpose"] = purpose
    if route is not None:
        med["route"] = route
    [only] = holds(med, changes=changes, policy=policy)
    return only


def test_the_procedure_window_used_below() -> None:
    plan = assessed()
    assert plan.preparation.procedure_start.date() == PROCEDURE_DATE  # type: ignore[union-attr]
    assert plan.preparation.procedure_start == START
    assert plan.procedure.room_minutes_per_session == (90,)


# --- vitamin K antagonists ----------------------------------------------------------------------


@pytest.mark.rule("asra.warfarin")
@pytest.mark.parametrize("name", ["Warfarin", "warfarin 5 mg", "Coumadin", "Jantoven"])
def test_warfarin(name: str) -> None:
    """ASRA 2018 high-risk table: "Warfarin (ASRA, high risk) | stop 5 days, normal INR; restart 6 h"."""
    h = hold(name, thrombotic_risk="low")
    assert h.action is HoldAction.HOLD
    assert h.drug == name
    assert h.drug_class == "vitamin K antagonist"
    assert h.stop_days_before == 5
    assert h.last_dose_on == dt.date(2026, 12, 8)
    assert h.hold_complete_by == START
    assert h.restart_after_hours == 6
    assert h.restart_from == dt.datetime(2026, 12, 14, 15, 30)
    assert h.restart_until is None
    assert h.condition is not None
    assert "INR" in h.condition
    assert "normal" in h.condition
    assert h.verify is False
    assert h.rule.id == "asra.warfarin"


@pytest.mark.rule("asra.warfarin")
def test_warfarin_hold_moves_with_the_procedure_date() -> None:
    """ASRA 2018 high-risk table: "Warfarin | 5 days, normal INR | 6 h"."""
    h = hold("warfarin", changes={"procedure_date": "2027-03-02", "procedure_time": "13:00:00"}, thrombotic_risk="low")
    assert h.last_dose_on == dt.date(2027, 2, 24)
    assert h.restart_from == dt.datetime(2027, 3, 2, 20, 30)


@pytest.mark.rule("asra.acenocoumarol")
@pytest.mark.parametrize("name", ["Acenocoumarol", "Sintrom"])
def test_acenocoumarol(name: str) -> None:
    """ASRA 2018 high-risk table: "Acenocoumarol | 3 days, normal INR | 24 h"."""
    h = hold(name, thrombotic_risk="moderate")
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "vitamin K antagonist"
    assert h.stop_days_before == 3
    assert h.last_dose_on == dt.date(2026, 12, 10)
    assert h.restart_after_hours == 24
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.condition is not None
    assert "INR" in h.condition
    assert h.verify is False
    assert h.rule.id == "asra.acenocoumarol"


# --- aspirin ------------------------------------------------------------------------------------


@pytest.mark.rule("asra.aspirin_primary")
@pytest.mark.parametrize("name", ["Aspirin", "aspirin 81 mg", "ASA", "Acetylsalicylic acid"])
def test_aspirin_for_primary_prevention_is_held_6_days(name: str) -> None:
    """ASRA 2018 high-risk table: "Aspirin (primary prophylaxis) | 6 days | 24 h"."""
    h = hold(name, purpose="primary_prevention")
    assert h.action is HoldAction.HOLD
    assert h.stop_days_before == 6
    assert h.last_dose_on == dt.date(2026, 12, 7)
    assert h.restart_after_hours == 24
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.verify is False
    assert h.rule.id == "asra.aspirin_primary"


@pytest.mark.rule("asra.aspirin_secondary")
def test_aspirin_for_secondary_prevention_is_a_shared_decision() -> None:
    """ASRA 2018 high-risk table: "Aspirin (secondary prophylaxis) | shared assessment & risk stratification | 24 h";
    summary: "secondary prophylaxis = shared decision"."""
    h = hold("Aspirin", purpose="secondary_prevention")
    assert h.action is HoldAction.SHARED_DECISION
    assert h.rule.id == "asra.aspirin_secondary"
    assert h.restart_after_hours == 24
    # no date until the prescriber's decision is recorded (tests/unit/clinical/test_prescriber_decisions.py)
    assert (h.last_dose_on, h.last_dose_by, h.restart_from) == (None, None, None)
    assert h.outstanding == ("prescriber's decision on Aspirin",)
    assert h.note is not None
    assert "prescriber" in h.note


@pytest.mark.rule("asra.aspirin_secondary")
@pytest.mark.parametrize("purpose", [None, "pain", "other"])
def test_aspirin_of_unrecorded_purpose_is_a_shared_decision(purpose: str | None) -> None:
    """ASRA 2018 high-risk table: "Aspirin (secondary prophylaxis) | shared assessment & risk stratification" —
    without a recorded purpose aspirin is never simply held or continued."""
    h = hold("aspirin", purpose=purpose)
    assert h.action is HoldAction.SHARED_DECISION
    assert h.rule.id == "asra.aspirin_secondary"
    assert h.note is not None
    assert "purpose" in h.note


# --- NSAIDs -------------------------------------------------------------------------------------


@pytest.mark.rule("asra.nsaid")
@pytest.mark.parametrize(
    ("name", "days", "last_dose"),
    [
        ("diclofenac", 1, dt.date(2026, 12, 12)),
        ("ketorolac", 1, dt.date(2026, 12, 12)),
        ("ibuprofen", 1, dt.date(2026, 12, 12)),
        ("etodolac", 2, dt.date(2026, 12, 11)),
        ("indomethacin", 2, dt.date(2026, 12, 11)),
        ("naproxen", 4, dt.date(2026, 12, 9)),
        ("meloxicam", 4, dt.date(2026, 12, 9)),
        ("nabumetone", 6, dt.date(2026, 12, 7)),
        ("oxaprozin", 10, dt.date(2026, 12, 3)),
        ("piroxicam", 10, dt.date(2026, 12, 3)),
        ("Advil", 1, dt.date(2026, 12, 12)),
        ("Motrin", 1, dt.date(2026, 12, 12)),
        ("Voltaren", 1, dt.date(2026, 12, 12)),
        ("Aleve", 4, dt.date(2026, 12, 9)),
    ],
)
def test_nsaids_are_held_five_half_lives(name: str, days: int, last_dose: dt.date) -> None:
    """ASRA 2018 high-risk table: "NSAIDs | 5 half-lives: diclofenac/ketorolac/ibuprofen 1 d; etodolac/indomethacin
    2 d; naproxen/meloxicam 4 d; nabumetone 6 d; oxaprozin/piroxicam 10 d | 24 h"."""
    h = hold(name)
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "NSAID"
    assert h.stop_days_before == days
    assert h.last_dose_on == last_dose
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.rule.id == "asra.nsaid"


# --- cilostazol, dipyridamole -------------------------------------------------------------------


@pytest.mark.rule("asra.cilostazol_dipyridamole")
@pytest.mark.parametrize("name", ["Cilostazol", "Pletal", "Dipyridamole", "Persantine"])
def test_cilostazol_and_dipyridamole(name: str) -> None:
    """ASRA 2018 high-risk table: "Cilostazol / dipyridamole | 2 days | 24 h"."""
    h = hold(name)
    assert h.action is HoldAction.HOLD
    assert h.stop_days_before == 2
    assert h.last_dose_on == dt.date(2026, 12, 11)
    assert h.restart_after_hours == 24
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.rule.id == "asra.cilostazol_dipyridamole"


# --- heparins -----------------------------------------------------------------------------------


@pytest.mark.rule("asra.unfractionated_heparin")
def test_iv_unfractionated_heparin() -> None:
    """ASRA 2018 high-risk table: "UFH IV | 6 h | 2 h"."""
    h = hold("Heparin", route="iv")
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "unfractionated heparin (IV)"
    assert h.stop_days_before is None
    assert h.stop_hours_before == 6
    assert h.last_dose_on is None
    assert h.last_dose_by == dt.datetime(2026, 12, 14, 2, 0)
    assert h.restart_after_hours == 2
    assert h.restart_from == dt.datetime(2026, 12, 14, 11, 30)
    assert h.rule.id == "asra.unfractionated_heparin"


@pytest.mark.rule("asra.unfractionated_heparin")
def test_subcutaneous_unfractionated_heparin() -> None:
    """ASRA 2018 high-risk table: "UFH SC (BID/TID) | 24 h (high-risk) | 6 h (high-risk)"."""
    h = hold("heparin", purpose="prophylactic", route="sc")
    assert h.drug_class == "unfractionated heparin (subcutaneous)"
    assert h.stop_hours_before == 24
    assert h.last_dose_by == dt.datetime(2026, 12, 13, 8, 0)
    assert h.restart_after_hours == 6
    assert h.restart_from == dt.datetime(2026, 12, 14, 15, 30)
    assert h.note is None
    assert h.rule.id == "asra.unfractionated_heparin"


@pytest.mark.rule("asra.unfractionated_heparin")
def test_heparin_of_unrecorded_route_gets_the_longer_subcutaneous_hold() -> None:
    """ASRA 2018 high-risk table: "UFH IV | 6 h" but "UFH SC (BID/TID) | 24 h (high-risk)" — the longer applies."""
    h = hold("heparin")
    assert h.stop_hours_before == 24
    assert h.last_dose_by == dt.datetime(2026, 12, 13, 8, 0)
    assert h.restart_from == dt.datetime(2026, 12, 14, 15, 30)
    assert h.note is not None
    assert "route" in h.note


@pytest.mark.rule("asra.lmwh")
@pytest.mark.parametrize("name", ["Enoxaparin", "Lovenox", "Clexane", "dalteparin", "Fragmin", "tinzaparin"])
def test_prophylactic_lmwh_is_held_12_hours(name: str) -> None:
    """ASRA summary: "LMWH (ASRA) | prophylactic stop 12 h; therapeutic stop 24 h; restart 12–24 h"."""
    h = hold(name, purpose="prophylactic", route="sc")
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "LMWH (prophylactic dose)"
    assert h.stop_hours_before == 12
    assert h.last_dose_by == dt.datetime(2026, 12, 13, 20, 0)
    assert (h.restart_after_hours, h.restart_after_hours_max) == (12, 24)
    assert h.restart_from == dt.datetime(2026, 12, 14, 21, 30)
    assert h.restart_until == dt.datetime(2026, 12, 15, 9, 30)
    assert h.rule.id == "asra.lmwh"


@pytest.mark.rule("asra.lmwh")
def test_therapeutic_lmwh_is_held_24_hours() -> None:
    """ASRA 2018 high-risk table: "Enoxaparin / dalteparin therapeutic | 24 h | 12–24 h"."""
    h = hold("Enoxaparin", purpose="therapeutic")
    assert h.drug_class == "LMWH (therapeutic dose)"
    assert h.stop_hours_before == 24
    assert h.last_dose_by == dt.datetime(2026, 12, 13, 8, 0)
    assert h.restart_from == dt.datetime(2026, 12, 14, 21, 30)
    assert h.restart_until == dt.datetime(2026, 12, 15, 9, 30)
    assert h.note is None


@pytest.mark.rule("asra.lmwh")
def test_lmwh_of_unrecorded_dose_gets_the_therapeutic_hold() -> None:
    """ASRA summary: "prophylactic stop 12 h; therapeutic stop 24 h" — without the dose the longer applies."""
    h = hold("Lovenox")
    assert h.drug_class == "LMWH (therapeutic dose)"
    assert h.stop_hours_before == 24
    assert h.last_dose_by == dt.datetime(2026, 12, 13, 8, 0)
    assert h.note is not None
    assert "dose" in h.note


# --- P2Y12 inhibitors ---------------------------------------------------------------------------


@pytest.mark.rule("asra.p2y12")
@pytest.mark.parametrize(
    ("name", "days", "last_dose"),
    [
        ("Clopidogrel", 7, dt.date(2026, 12, 6)),
        ("Plavix", 7, dt.date(2026, 12, 6)),
        ("Prasugrel", 10, dt.date(2026, 12, 3)),
        ("Effient", 10, dt.date(2026, 12, 3)),
        ("Ticagrelor", 5, dt.date(2026, 12, 8)),
        ("Brilinta", 5, dt.date(2026, 12, 8)),
    ],
)
def test_p2y12_inhibitors(name: str, days: int, last_dose: dt.date) -> None:
    """ASRA 2018 table [GK-verify]: "Clopidogrel | 7 days | 12–24 h", "Prasugrel | 7–10 days | 12–24 h",
    "Ticagrelor | 5 days | 12–24 h" (here for a recorded purpose other than secondary prevention)."""
    h = hold(name, purpose="primary_prevention")
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "P2Y12 inhibitor"
    assert h.stop_days_before == days
    assert h.last_dose_on == last_dose
    assert h.restart_from == dt.datetime(2026, 12, 14, 21, 30)
    assert h.restart_until == dt.datetime(2026, 12, 15, 9, 30)
    assert h.verify is True
    assert h.rule.id == "asra.p2y12"


# --- DOACs: ASRA --------------------------------------------------------------------------------


@pytest.mark.rule("asra.doac")
@pytest.mark.parametrize("name", ["Apixaban", "Eliquis", "Rivaroxaban", "Xarelto", "Edoxaban", "Lixiana", "Savaysa"])
def test_factor_xa_doacs_under_asra(name: str) -> None:
    """ASRA 2018 table [GK-verify]: "Rivaroxaban / apixaban / edoxaban | 3 days | 24 h" (normal kidney function)."""
    h = hold(name, changes={"labs": {"creatinine_clearance_ml_min": 80.0}})
    assert h.action is HoldAction.HOLD
    assert h.drug_class == "DOAC"
    assert h.stop_days_before == 3
    assert h.last_dose_on == dt.date(2026, 12, 10)
    assert h.restart_after_hours == 24
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.verify is True
    assert h.rule.id == "asra.doac"


@pytest.mark.rule("asra.doac")
@pytest.mark.parametrize(
    ("crcl", "days", "last_dose", "note"),
    [
        (90.0, 5, dt.date(2026, 12, 8), False),
        (50.0, 5, dt.date(2026, 12, 8), False),
        (49.0, 6, dt.date(2026, 12, 7), False),
        (25.0, 6, dt.date(2026, 12, 7), False),
    ],
)
def test_dabigatran_under_asra(crcl: float | None, days: int, last_dose: dt.date, note: bool) -> None:
    """ASRA 2018 table [GK-verify]: "Dabigatran | 4–5 days; 6 days if renal impairment | 24 h"."""
    h = hold("Pradaxa", changes={"labs": {"creatinine_clearance_ml_min": crcl}})
    assert h.stop_days_before == days
    assert h.last_dose_on == last_dose
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.verify is True
    assert h.rule.id == "asra.doac"
    assert (h.note is not None and "creatinine clearance" in h.note) is note


# --- DOACs: PAUSE -------------------------------------------------------------------------------


@pytest.mark.rule("pause.doac")
@pytest.mark.parametrize("name", ["Apixaban", "Eliquis", "Rivaroxaban", "Xarelto"])
def test_factor_xa_doacs_under_pause(name: str) -> None:
    """PAUSE: "(high-bleed-risk procedures) stops apixaban/rivaroxaban 2 days, ... resumes after 2–3 days"."""
    h = hold(name, policy=PAUSE, changes={"labs": {"creatinine_clearance_ml_min": 80.0}})
    assert h.action is HoldAction.HOLD
    assert h.stop_days_before == 2
    assert h.last_dose_on == dt.date(2026, 12, 11)
    assert (h.restart_after_hours, h.restart_after_hours_max) == (48, 72)
    assert h.restart_from == dt.datetime(2026, 12, 16, 9, 30)
    assert h.restart_until == dt.datetime(2026, 12, 17, 9, 30)
    assert h.verify is False
    assert h.rule.id == "pause.doac"


@pytest.mark.rule("pause.doac")
@pytest.mark.parametrize(
    ("crcl", "days", "last_dose"),
    [
        (90.0, 2, dt.date(2026, 12, 11)),
        (50.0, 2, dt.date(2026, 12, 11)),
        (49.9, 4, dt.date(2026, 12, 9)),
        (30.0, 4, dt.date(2026, 12, 9)),
    ],
)
def test_dabigatran_under_pause(crcl: float | None, days: int, last_dose: dt.date) -> None:
    """PAUSE: "dabigatran 2 days (CrCl ≥ 50) or 4 days (CrCl < 50), resumes after 2–3 days"."""
    h = hold("Dabigatran", changes={"labs": {"creatinine_clearance_ml_min": crcl}}, policy=PAUSE)
    assert h.stop_days_before == days
    assert h.last_dose_on == last_dose
    assert h.restart_from == dt.datetime(2026, 12, 16, 9, 30)
    assert h.restart_until == dt.datetime(2026, 12, 17, 9, 30)
    assert h.rule.id == "pause.doac"
    assert h.missing == ()


@pytest.mark.rule("pause.doac")
def test_the_doac_protocol_changes_only_the_doacs() -> None:
    """DOAC CONFLICT: the PAUSE protocol "is the main alternative; a clinic must be able to choose" — the choice
    changes the DOAC rows only."""
    meds = (
        {"name": "warfarin", "thrombotic_risk": "low"},
        {"name": "clopidogrel", "purpose": "primary_prevention"},
        {"name": "apixaban"},
    )
    labs = {"labs": {"creatinine_clearance_ml_min": 80.0}}
    asra = {h.drug: h for h in holds(*meds, changes=labs)}
    pause = {h.drug: h for h in holds(*meds, changes=labs, policy=PAUSE)}
    assert asra["warfarin"] == pause["warfarin"]
    assert asra["clopidogrel"] == pause["clopidogrel"]
    assert (asra["apixaban"].rule.id, pause["apixaban"].rule.id) == ("asra.doac", "pause.doac")
    assert (asra["apixaban"].last_dose_on, pause["apixaban"].last_dose_on) == (
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 11),
    )


# --- fondaparinux -------------------------------------------------------------------------------


@pytest.mark.rule("asra.fondaparinux")
@pytest.mark.parametrize("name", ["Fondaparinux", "Arixtra"])
def test_fondaparinux(name: str) -> None:
    """ASRA 2018 table [GK-verify]: "Fondaparinux | 4 days | 24 h"."""
    h = hold(name)
    assert h.action is HoldAction.HOLD
    assert h.stop_days_before == 4
    assert h.last_dose_on == dt.date(2026, 12, 9)
    assert h.restart_from == dt.datetime(2026, 12, 15, 9, 30)
    assert h.verify is True
    assert h.rule.id == "asra.fondaparinux"


# --- verify flags -------------------------------------------------------------------------------


@pytest.mark.rule("asra.p2y12")
@pytest.mark.rule("asra.doac")
@pytest.mark.rule("asra.fondaparinux")
def test_rows_from_the_unconfirmed_part_of_the_table_carry_verify() -> None:
    """Known gaps: "ASRA 2018 DOAC/P2Y12 hold times (only non-DOAC rows were retrieved)"; those rows are tagged
    "[GK-verify]" ("Verify against the primary document before encoding as a hard rule")."""
    meds = [
        "clopidogrel",
        "prasugrel",
        "ticagrelor",
        "apixaban",
        "rivaroxaban",
        "edoxaban",
        "dabigatran",
        "fondaparinux",
        "warfarin",
        "acenocoumarol",
        "ibuprofen",
        "cilostazol",
        "enoxaparin",
        "heparin",
    ]
    plan = holds(*({"name": m} for m in meds), {"name": "aspirin", "purpose": "primary_prevention"})
    verify = {h.drug: h.verify for h in plan}
    assert verify == {
        "clopidogrel": True,
        "prasugrel": True,
        "ticagrelor": True,
        "apixaban": True,
        "rivaroxaban": True,
        "edoxaban": True,
        "dabigatran": True,
        "fondaparinux": True,
        "warfarin": False,
        "acenocoumarol": False,
        "ibuprofen": False,
        "cilostazol": False,
        "enoxaparin": False,
        "heparin": False,
        "aspirin": False,
    }


# --- drugs outside the table --------------------------------------------------------------------


@pytest.mark.rule("medications.unlisted")
@pytest.mark.parametrize("name", ["Fluoxetine", "Ginkgo biloba", "Fish oil", "Celecoxib", "Sertraline 50 mg"])
def test_unlisted_drugs_are_checked_with_the_prescriber(name: str) -> None:
    """Rule statement: "A medication that is not in vertebro's antithrombotic table is checked with the prescriber";
    the reference's ASRA "Hold/restart table for high-risk procedures" lists only antithrombotics and its unsourced
    rows are "[GK-verify]" — nothing outside it is assumed safe."""
    h = hold(name)
    assert h.action is HoldAction.CHECK
    assert h.rule.id == "medications.unlisted"
    assert h.drug == name
    assert h.last_dose_on is None
    assert h.last_dose_by is None
    assert h.restart_from is None
    assert h.note is not None
    assert "prescriber" in h.note


@pytest.mark.rule("medications.no_hold")
@pytest.mark.parametrize(
    "name",
    [
        "Alendronate",
        "Denosumab",
        "Teriparatide",
        "Vitamin D3",
        "Calcium carbonate",
        "Paracetamol",
        "Metformin",
        "Atorvastatin 20 mg",
        "Oxycodone",
        "Levothyroxine",
    ],
)
def test_drugs_with_no_antithrombotic_effect_are_continued(name: str) -> None:
    """LCD: "referral for BMD evaluation + osteoporosis education/treatment" continues; the ASRA table ("Hold/restart
    table for high-risk procedures") holds antithrombotics only."""
    h = hold(name)
    assert h.action is HoldAction.CONTINUE
    assert h.rule.id == "medications.no_hold"
    assert h.last_dose_on is None
    assert h.last_dose_by is None
    assert h.restart_from is None
    assert h.verify is False


def test_every_medication_on_the_list_gets_one_plan_in_order() -> None:
    plan = holds({"name": "Eliquis"}, {"name": "Alendronate"}, {"name": "Fish oil"})
    assert [(h.drug, h.action) for h in plan] == [
        ("Eliquis", HoldAction.HOLD),
        ("Alendronate", HoldAction.CONTINUE),
        ("Fish oil", HoldAction.CHECK),
    ]


@pytest.mark.rule("asra.warfarin")
def test_without_a_procedure_date_the_intervals_are_given_but_no_dates() -> None:
    """ASRA 2018 high-risk table: "Warfarin | 5 days, normal INR | 6 h" — an interval until a date is booked."""
    h = hold("warfarin", changes={"procedure_date": None}, thrombotic_risk="low")
    assert h.stop_days_before == 5
    assert h.restart_after_hours == 6
    assert h.last_dose_on is None
    assert h.hold_complete_by is None
    assert h.restart_from is None


@pytest.mark.parametrize(
    ("written", "generic"),
    [
        ("Eliquis", "apixaban"),
        ("XARELTO 20 mg", "rivaroxaban"),
        ("Plavix", "clopidogrel"),
        ("Coumadin", "warfarin"),
        ("acetylsalicylic acid", "aspirin"),
        ("  Warfarin   sodium ", "warfarin"),
        ("Brilique", "ticagrelor"),
    ],
)
def test_brand_names_are_normalized(written: str, generic: str) -> None:
    assert normalized_drug(written) == generic


# --- property -----------------------------------------------------------------------------------

CATALOGUE = [
    "warfarin", "Coumadin", "acenocoumarol", "aspirin", "ibuprofen", "naproxen", "piroxicam", "nabumetone",
    "cilostazol", "dipyridamole", "heparin", "enoxaparin", "Fragmin", "clopidogrel", "prasugrel", "ticagrelor",
    "apixaban", "Xarelto", "edoxaban", "dabigatran", "fondaparinux", "alendronate", "paracetamol", "fluoxetine",
]  # fmt: skip

medications = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(CATALOGUE),
            "purpose": st.sampled_from(
                [None, "primary_prevention", "secondary_prevention", "prophylactic", "therapeutic", "pain", "other"]
            ),
            "route": st.sampled_from([None, "oral", "iv", "sc"]),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    meds=medications,
    day=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2030, 12, 31)),
    time=st.times(min_value=dt.time(6, 0), max_value=dt.time(20, 0)),
    levels=st.integers(min_value=1, max_value=3),
    protocol=st.sampled_from(["asra", "pause"]),
    crcl=st.one_of(st.none(), st.floats(min_value=5, max_value=150)),
)
def test_holds_never_end_after_the_procedure_date(
    meds: list[dict[str, Any]], day: dt.date, time: dt.time, levels: int, protocol: str, crcl: float | None
) -> None:
    """ASRA 2018: "Stop before" / "Restart after" — every last dose is before the procedure starts and every restart
    after it ends."""
    policy = ClinicPolicy(doac_protocol="pause" if protocol == "pause" else "asra")
    case = make_case(
        {"medications": meds, "procedure_date": day.isoformat(), "labs": {"creatinine_clearance_ml_min": crcl}}
    )
    start = dt.datetime.combine(day, time)
    end = start + dt.timedelta(minutes=room_minutes(levels, policy))
    plan = medication_holds(case, policy, start, end)
    assert len(plan) == len(meds)
    for h in plan:
        if h.action in (HoldAction.CONTINUE, HoldAction.CHECK) or h.outstanding:
            assert (h.last_dose_on, h.last_dose_by, h.restart_from) == (None, None, None)
            continue
        assert (h.last_dose_on is None) != (h.last_dose_by is None)
        if h.last_dose_on is not None:
            assert h.last_dose_on < start.date()
        if h.last_dose_by is not None:
            assert h.last_dose_by < start
        assert h.hold_complete_by == start
        assert h.restart_from is not None
        assert h.restart_from >= end > start
        if h.restart_until is not None:
            assert h.restart_until >= h.restart_from
