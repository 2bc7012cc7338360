"""ASRA 2018 profile: high bleeding-risk holds dated from the procedure and SIR 2019 labs (reference §4.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.unit.clinical.builders import AS_OF, PROCEDURE_DATE, assessed, category, rule_ids
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.verdicts import Effect

ASRA = "asra-2018"
WARFARIN = {"medications": [{"name": "warfarin", "thrombotic_risk": "low"}]}


def effects(changes: dict[str, Any] | None, rule_id: str, policy: ClinicPolicy | None = None) -> set[Effect]:
    """Return the effects with which the ASRA profile applied ``rule_id`` to the changed base case."""
    a = assessed(changes) if policy is None else assessed(changes, policy=policy)
    return {r.effect for r in a.profiles[ASRA].reasons if r.rule.id == rule_id}


@pytest.mark.rule("asra.high_risk_procedure")
def test_vertebral_augmentation_is_a_high_bleeding_risk_procedure() -> None:
    """ASRA 2018: "Vertebral augmentation = HIGH bleeding-risk procedure"; "ASRA: VA bleeding-risk class | High
    risk"."""
    a = assessed()
    assert category(a, ASRA) == "appropriate"
    assert a.profiles[ASRA].label == "Bleeding-risk plan complete for the planned date"
    assert effects(None, "asra.high_risk_procedure") == {Effect.NOTE}


@pytest.mark.rule("asra.hold_dates")
def test_without_a_procedure_date_the_plan_is_never_called_complete() -> None:
    """ASRA 2018: "Holds are dated from the procedure date": with no date (a case not booked, or declined for
    conservative care) nothing can be "complete for the planned date"; the label says the holds are not dated."""
    a = assessed({"procedure_date": None})
    assert category(a, ASRA) == "appropriate"
    assert a.profiles[ASRA].label == "No bleeding-risk obstacle found so far (no procedure date: holds not dated)"
    assert "complete" not in a.profiles[ASRA].label


@pytest.mark.rule("asra.high_risk_procedure")
@pytest.mark.parametrize(
    ("medication", "days", "hours"),
    [
        ({"name": "warfarin", "thrombotic_risk": "low"}, 5, None),
        ({"name": "heparin", "route": "sc"}, None, 24),
        ({"name": "enoxaparin", "purpose": "therapeutic"}, None, 24),
    ],
    ids=["warfarin", "ufh-sc", "lmwh-therapeutic"],
)
def test_holds_follow_the_high_risk_table(medication: dict[str, Any], days: int | None, hours: int | None) -> None:
    """ASRA "Hold/restart table for high-risk procedures": "Warfarin | 5 days, normal INR | 6 h"; "UFH SC
    (BID/TID) | 24 h (high-risk) | 6 h (high-risk)"; "Enoxaparin / dalteparin therapeutic | 24 h | 12–24 h"."""
    a = assessed({"medications": [medication]})
    (hold,) = a.preparation.medication_holds
    assert hold.stop_days_before == days
    assert hold.stop_hours_before == hours
    if days is not None:
        assert hold.last_dose_on == PROCEDURE_DATE - dt.timedelta(days=days + 1)
    assert category(a, ASRA) == "appropriate"


@pytest.mark.rule("sir.labs_high_risk")
@pytest.mark.parametrize(
    ("inr", "expected"),
    [(1.0, "appropriate"), (1.5, "appropriate"), (1.51, "not_appropriate"), (1.8, "not_appropriate")],
)
def test_inr_corrected_to_1_5_by_default(inr: float, expected: str) -> None:
    """SIR 2019: "High bleeding risk: routine PT/INR + CBC; correct INR to ≤ 1.5–1.8" (vertebro: lower bound by
    default, configurable)."""
    changes = {"labs": {"inr": inr}}
    a = assessed(changes)
    assert category(a, ASRA) == expected
    assert effects(changes, "sir.labs_high_risk") >= {Effect.SUPPORTS if inr <= 1.5 else Effect.AGAINST}


@pytest.mark.rule("sir.labs_high_risk")
@pytest.mark.parametrize(("inr", "expected"), [(1.8, "appropriate"), (1.81, "not_appropriate")])
def test_inr_threshold_is_configurable_up_to_1_8(inr: float, expected: str) -> None:
    """SIR 2019: "correct INR to ≤ 1.5–1.8" - a clinic may choose the upper bound."""
    a = assessed({"labs": {"inr": inr}}, policy=ClinicPolicy(inr_max=1.8))
    assert category(a, ASRA) == expected


@pytest.mark.rule("sir.labs_high_risk")
@pytest.mark.parametrize(
    ("platelets", "expected"),
    [(49.9, "not_appropriate"), (50.0, "appropriate"), (150.0, "appropriate")],
)
def test_platelets_transfused_below_50(platelets: float, expected: str) -> None:
    """SIR 2019: "transfuse platelets if < 50 × 10⁹/L"."""
    changes = {"labs": {"platelets": platelets}}
    a = assessed(changes)
    assert category(a, ASRA) == expected
    assert effects(changes, "sir.labs_high_risk") >= {Effect.SUPPORTS if platelets >= 50 else Effect.AGAINST}


@pytest.mark.rule("sir.labs_high_risk")
@pytest.mark.parametrize("lab", ["inr", "platelets"])
def test_labs_not_recorded_are_missing(lab: str) -> None:
    """SIR 2019: "High bleeding risk: routine PT/INR + CBC"; "Pre-procedure labs: INR/PT, platelets/Hb for
    high-risk procedures"."""
    changes = {"labs": {lab: None}}
    a = assessed(changes)
    assert category(a, ASRA) == "uncertain"
    assert Effect.MISSING in effects(changes, "sir.labs_high_risk")
    assert a.profiles[ASRA].missing


@pytest.mark.rule("sir.labs_high_risk")
def test_high_inr_on_warfarin_is_rechecked_after_the_hold() -> None:
    """ASRA: "Warfarin (ASRA, high risk) | stop 5 days, normal INR"; the INR on warfarin is expected to be high
    before the hold and is rechecked on the day, not corrected now."""
    changes = {**WARFARIN, "labs": {"inr": 2.6}}
    a = assessed(changes)
    assert category(a, ASRA) == "appropriate"
    assert Effect.CAUTION in effects(changes, "sir.labs_high_risk")
    assert Effect.AGAINST not in effects(changes, "sir.labs_high_risk")


@pytest.mark.rule("sir.labs_high_risk")
def test_high_inr_without_a_vitamin_k_antagonist_must_be_corrected() -> None:
    """SIR 2019: "correct INR to ≤ 1.5–1.8" before a high bleeding-risk procedure."""
    changes = {"medications": [{"name": "apixaban"}], "labs": {"inr": 2.6}}
    a = assessed(changes)
    assert category(a, ASRA) == "not_appropriate"
    assert Effect.AGAINST in effects(changes, "sir.labs_high_risk")


@pytest.mark.rule("asra.hold_dates")
@pytest.mark.parametrize(
    ("days_after_as_of", "expected"),
    [(5, "not_appropriate"), (6, "appropriate"), (22, "appropriate")],
)
def test_warfarin_hold_must_still_be_completable(days_after_as_of: int, expected: str) -> None:
    """ASRA: "Warfarin | 5 days, normal INR | 6 h" - counted back from the procedure date; a last permitted dose
    already in the past cannot be honoured, so the date must move."""
    procedure = AS_OF + dt.timedelta(days=days_after_as_of)
    changes = {**WARFARIN, "procedure_date": procedure.isoformat()}
    a = assessed(changes)
    assert category(a, ASRA) == expected
    assert ("asra.hold_dates" in rule_ids(a, ASRA)) is (expected == "not_appropriate")


@pytest.mark.rule("asra.hold_dates")
@pytest.mark.parametrize(("procedure", "expected"), [("2026-11-22", "not_appropriate"), ("2026-11-23", "appropriate")])
def test_hour_based_hold_dated_from_the_procedure_start(procedure: str, expected: str) -> None:
    """ASRA: "Enoxaparin prophylactic | 12 h | 12–24 h" - a 08:00 procedure today needs the last dose yesterday
    evening, which has passed."""
    changes = {"medications": [{"name": "enoxaparin", "purpose": "prophylactic"}], "procedure_date": procedure}
    a = assessed(changes)
    assert category(a, ASRA) == expected


@pytest.mark.rule("asra.hold_dates")
def test_holds_without_a_procedure_date_cannot_be_dated() -> None:
    """ASRA high-risk table: "Stop before" intervals are counted from the procedure, so a procedure date is
    needed to date the holds."""
    changes = {**WARFARIN, "procedure_date": None}
    a = assessed(changes)
    assert category(a, ASRA) == "uncertain"
    assert effects(changes, "asra.hold_dates") == {Effect.MISSING}


@pytest.mark.rule("asra.hold_dates")
def test_no_antithrombotics_no_procedure_date_needed() -> None:
    """ASRA high-risk table: holds apply to antithrombotics only ("Drug | Stop before | Restart after")."""
    a = assessed({"procedure_date": None})
    assert category(a, ASRA) == "appropriate"
    assert "asra.hold_dates" not in rule_ids(a, ASRA)


@pytest.mark.rule("asra.hold_dates")
def test_secondary_prevention_aspirin_past_its_hold_date_needs_a_decision() -> None:
    """ASRA: "Aspirin (secondary prophylaxis) | shared assessment & risk stratification | 24 h" - the hold is a
    decision, not automatic, so a passed date does not by itself block the procedure."""
    changes = {
        "medications": [{"name": "aspirin", "purpose": "secondary_prevention"}],
        "procedure_date": (AS_OF + dt.timedelta(days=2)).isoformat(),
    }
    a = assessed(changes)
    assert category(a, ASRA) == "uncertain"
    assert "asra.hold_dates" not in rule_ids(a, ASRA)


@pytest.mark.rule("general.uncorrectable_coagulopathy")
def test_uncorrectable_coagulopathy_is_contraindicated() -> None:
    """CIRSE: "Absolute contraindications: ... uncorrectable coagulopathy"."""
    a = assessed({"coagulopathy_uncorrectable": True})
    assert category(a, ASRA) == "contraindicated"
    assert a.profiles[ASRA].label == "Uncorrectable coagulopathy"
    assert "general.uncorrectable_coagulopathy" in rule_ids(a, ASRA)
