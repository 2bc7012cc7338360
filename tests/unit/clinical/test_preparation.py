"""Preparation plan: labs, pregnancy test, allergies, fasting and escort, arrival, imaging recency.

The base case's procedure starts on 2026-12-14 at 08:00.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.unit.clinical.builders import assessed
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.preparation import PrepItem, Status

START = dt.datetime(2026, 12, 14, 8, 0)


def items(
    kind: str,
    changes: dict[str, Any] | None = None,
    fracture: dict[str, Any] | None = None,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> list[PrepItem]:
    return [i for i in assessed(changes, fracture, policy=policy).preparation.items if i.kind == kind]


def labs(changes: dict[str, Any]) -> tuple[PrepItem, PrepItem]:
    inr, platelets = items("lab", changes)
    assert "INR" in inr.instruction
    assert "platelet" in platelets.instruction
    return inr, platelets


# --- labs ---------------------------------------------------------------------------------------


@pytest.mark.rule("preparation.labs")
def test_labs_in_range_are_done() -> None:
    """SIR 2019: "High bleeding risk: routine PT/INR + CBC; correct INR to ≤ 1.5–1.8; transfuse platelets if
    < 50 × 10⁹/L"."""
    inr, platelets = labs({"labs": {"inr": 1.0, "platelets": 220.0}})
    assert (inr.status, platelets.status) == (Status.DONE, Status.DONE)
    assert inr.due is None
    assert platelets.due is None
    assert inr.rule.id == platelets.rule.id == "preparation.labs"


@pytest.mark.rule("preparation.labs")
def test_missing_labs_are_needed_the_day_before() -> None:
    """SIR 2019: "High bleeding risk: routine PT/INR + CBC"."""
    inr, platelets = labs({"labs": {"inr": None, "platelets": None}})
    assert (inr.status, platelets.status) == (Status.NEEDED, Status.NEEDED)
    assert inr.due == platelets.due == dt.datetime(2026, 12, 13, 8, 0)


@pytest.mark.rule("preparation.labs")
@pytest.mark.parametrize(("inr", "status"), [(1.0, Status.DONE), (1.5, Status.DONE), (1.6, Status.ATTENTION)])
def test_inr_above_1_5_needs_attention(inr: float, status: Status) -> None:
    """SIR 2019 high bleeding risk: "correct INR to ≤ 1.5–1.8" (vertebro default 1.5)."""
    item, _ = labs({"labs": {"inr": inr}})
    assert item.status is status
    if status is Status.ATTENTION:  # no anticoagulant is held here: correct it before, no "recheck after the hold"
        assert item.due == START - dt.timedelta(days=1)
        assert "1.6" in item.instruction
        assert "hold" not in item.instruction.replace("no anticoagulant hold planned", "")
        assert item.blocking


@pytest.mark.rule("preparation.labs")
def test_the_inr_threshold_is_configurable_within_sirs_range() -> None:
    """SIR 2019 high bleeding risk: "correct INR to ≤ 1.5–1.8"."""
    [item, _] = items("lab", {"labs": {"inr": 1.7}}, policy=ClinicPolicy(inr_max=1.8))
    assert item.status is Status.DONE


@pytest.mark.rule("preparation.labs")
@pytest.mark.parametrize(("count", "status"), [(49.0, Status.ATTENTION), (50.0, Status.DONE), (150.0, Status.DONE)])
def test_platelets_below_50_need_attention(count: float, status: Status) -> None:
    """SIR 2019: "transfuse platelets if < 50 × 10⁹/L"."""
    _, item = labs({"labs": {"platelets": count}})
    assert item.status is status
    if status is Status.ATTENTION:
        assert item.due == dt.datetime(2026, 12, 13, 8, 0)


# --- pregnancy test -----------------------------------------------------------------------------


@pytest.mark.rule("preparation.pregnancy_test")
@pytest.mark.parametrize(
    ("patient", "needed"),
    [
        ({"sex": "female", "age": 11}, False),
        ({"sex": "female", "age": 12}, True),
        ({"sex": "female", "age": 34}, True),
        ({"sex": "female", "age": 50}, True),
        ({"sex": "female", "age": 51}, False),
        ({"sex": "female", "age": 74}, False),
        ({"sex": "male", "age": 30}, False),
        ({"sex": "male", "age": 12}, False),
        ({"sex": "female", "age": 34, "could_be_pregnant": False}, False),
        ({"sex": "female", "age": 62, "could_be_pregnant": True}, True),
        ({"sex": "male", "age": 30, "could_be_pregnant": True}, True),
        ({"sex": "other", "age": 30, "could_be_pregnant": True}, True),
    ],
)
def test_pregnancy_test(patient: dict[str, Any], needed: bool) -> None:
    """Reference: "pregnancy test for people of child-bearing potential before fluoroscopy (ACR–SPR practice
    parameter, age ~12–50 y)"."""
    found = items("pregnancy", {"patient": patient})
    if needed:
        [item] = found
        assert item.status is Status.NEEDED
        assert item.due == START
        assert item.rule.id == "preparation.pregnancy_test"
    else:
        assert found == []


@pytest.mark.rule("preparation.pregnancy_test")
def test_no_pregnancy_test_when_pregnancy_is_known() -> None:
    """Reference: "pregnancy test for people of child-bearing potential before fluoroscopy" — a known pregnancy is
    not screened again (it is a contraindication handled elsewhere)."""
    assert items("pregnancy", {"patient": {"age": 30, "pregnant": True}}) == []


# --- allergies ----------------------------------------------------------------------------------


@pytest.mark.rule("preparation.cement_allergy")
@pytest.mark.parametrize("allergen", ["PMMA bone cement", "methyl methacrylate", "Barium sulfate", "cement"])
def test_cement_or_opacifier_allergy(allergen: str) -> None:
    """LCD relative CI: "allergy to bone cement (PMMA) or opacification/contrast agents"; "Kyphon HV-R cement
    contains ~30 % barium sulfate as opacifier"."""
    [item] = items("allergy", {"allergies": [allergen]})
    assert item.status is Status.ATTENTION
    assert item.rule.id == "preparation.cement_allergy"
    assert allergen in item.instruction
    assert "radiologist" in item.instruction


@pytest.mark.rule("preparation.contrast_allergy")
@pytest.mark.parametrize("allergen", ["iodinated contrast", "Iodine", "Iohexol (Omnipaque)", "iopamidol"])
def test_contrast_allergy(allergen: str) -> None:
    """ACR Manual on Contrast Media: "Iodinated-contrast premedication (e.g. prednisone 50 mg at 13, 7, 1 h +
    diphenhydramine 50 mg at 1 h)"."""
    [item] = items("allergy", {"allergies": [allergen]})
    assert item.status is Status.ATTENTION
    assert item.rule.id == "preparation.contrast_allergy"
    assert "premedication" in item.instruction


@pytest.mark.rule("preparation.other_allergies")
@pytest.mark.parametrize(
    ("allergen", "status", "words"),
    [
        ("Latex", Status.ATTENTION, "latex-free"),
        ("lidocaine", Status.ATTENTION, "another local anaesthetic"),
        ("local anesthetic", Status.ATTENTION, "another local anaesthetic"),
        ("bupivacaine", Status.ATTENTION, "another local anaesthetic"),
        ("penicillin", Status.NEEDED, "confirm at the pre-procedure call"),
    ],
)
def test_other_allergies(allergen: str, status: Status, words: str) -> None:
    """Clinic policy (rule statement): "Every recorded allergy is confirmed at the pre-procedure call (latex:
    latex-free room; local anaesthetic: alternative agent)"; LCD documentation includes a "contraindication
    screen"."""
    [item] = items("allergy", {"allergies": [allergen]})
    assert item.status is status
    assert item.rule.id == "preparation.other_allergies"
    assert words in item.instruction


@pytest.mark.rule("preparation.other_allergies")
def test_every_allergy_gets_its_own_item() -> None:
    """Clinic policy (rule statement): "Every recorded allergy is confirmed at the pre-procedure call"."""
    found = items("allergy", {"allergies": ["PMMA", "contrast", "latex", "penicillin"]})
    assert [i.rule.id for i in found] == [
        "preparation.cement_allergy",
        "preparation.contrast_allergy",
        "preparation.other_allergies",
        "preparation.other_allergies",
    ]
    assert items("allergy") == []


# --- fasting and escort -------------------------------------------------------------------------


@pytest.mark.rule("preparation.fasting")
def test_fasting_before_sedation() -> None:
    """ASA 2017 fasting: "clear liquids 2 h; ... light meal 6 h; fried/fatty/meat ≥ 8 h"; "Applies to GA,
    regional and procedural sedation"."""
    fasting = items("fasting", {"sedation_planned": True})
    assert [(i.instruction.split(" (")[0], i.due) for i in fasting] == [
        ("last fried or fatty meal, or meat", dt.datetime(2026, 12, 14, 0, 0)),
        ("last light meal", dt.datetime(2026, 12, 14, 2, 0)),
        ("last clear liquids", dt.datetime(2026, 12, 14, 6, 0)),
    ]
    assert all(i.status is Status.NEEDED and i.rule.id == "preparation.fasting" for i in fasting)


@pytest.mark.rule("preparation.fasting")
def test_fasting_times_follow_the_booked_time() -> None:
    """ASA 2017 fasting: "clear liquids 2 h; ... light meal 6 h; fried/fatty/meat ≥ 8 h"."""
    fasting = items("fasting", {"sedation_planned": True, "procedure_time": "13:30:00"})
    assert [i.due for i in fasting] == [
        dt.datetime(2026, 12, 14, 5, 30),
        dt.datetime(2026, 12, 14, 7, 30),
        dt.datetime(2026, 12, 14, 11, 30),
    ]


@pytest.mark.rule("preparation.fasting")
def test_no_fasting_without_sedation() -> None:
    """ASA 2017 fasting "Applies to GA, regional and procedural sedation" — not to local anaesthesia alone."""
    assert items("fasting", {"sedation_planned": False}) == []
    assert items("escort", {"sedation_planned": False}) == []
    assert items("sedation", {"sedation_planned": False}) == []


@pytest.mark.rule("recovery.escort_after_sedation")
def test_escort_items_after_sedation() -> None:
    """Rule statement (clinic policy, ASA sedation): "After sedation the patient goes home with a responsible adult
    who drives and stays with them for 12 hours"."""
    escort = items("escort", {"sedation_planned": True})
    assert [i.instruction for i in escort] == [
        "an adult takes the patient home after sedation",
        "an adult stays with the patient for 12 hours after discharge",
    ]
    assert all(i.status is Status.NEEDED and i.rule.id == "recovery.escort_after_sedation" for i in escort)


@pytest.mark.rule("preparation.sedation_decision")
def test_a_sedation_decision_is_needed_when_not_recorded() -> None:
    """ASA 2017 fasting "Applies to GA, regional and procedural sedation"; rule statement: "Whether sedation is used
    is decided before the pre-procedure call, because fasting and the escort depend on it"."""
    [item] = items("sedation", {"sedation_planned": None})
    assert item.status is Status.NEEDED
    assert item.rule.id == "preparation.sedation_decision"
    assert items("fasting", {"sedation_planned": None}) == []
    assert items("escort", {"sedation_planned": None}) == []
    assert items("sedation", {"sedation_planned": True}) == []


# --- arrival ------------------------------------------------------------------------------------


@pytest.mark.rule("preparation.arrival")
def test_arrive_15_minutes_before_the_start() -> None:
    """Clinic policy (rule statement): "Arrive 15 minutes before the booked time to check in (configurable)"."""
    plan = assessed().preparation
    assert plan.procedure_start == START
    assert plan.arrival == dt.datetime(2026, 12, 14, 7, 45)
    [item] = [i for i in plan.items if i.kind == "arrival"]
    assert item.due == dt.datetime(2026, 12, 14, 7, 45)
    assert item.rule.id == "preparation.arrival"
    assert "15 minutes" in item.instruction


@pytest.mark.rule("preparation.arrival")
def test_arrival_follows_the_booked_time_and_the_policy() -> None:
    """Clinic policy (rule statement): "Arrive 15 minutes before the booked time to check in (configurable)"."""
    later = assessed({"procedure_time": "13:00:00"}).preparation
    assert later.arrival == dt.datetime(2026, 12, 14, 12, 45)
    earlier = assessed(policy=ClinicPolicy(arrival_minutes_early=30)).preparation
    assert earlier.arrival == dt.datetime(2026, 12, 14, 7, 30)
    undated = assessed({"procedure_date": None}).preparation
    assert undated.arrival is None
    assert [i for i in undated.items if i.kind == "arrival"] == []


# --- imaging ------------------------------------------------------------------------------------


@pytest.mark.rule("preparation.imaging_recent")
@pytest.mark.parametrize(
    ("taken", "status"),
    [
        ("2026-11-10", Status.DONE),
        ("2026-06-17", Status.DONE),  # 180 days before 2026-12-14
        ("2026-06-16", Status.ATTENTION),  # 181 days
        ("2025-12-01", Status.ATTENTION),
    ],
)
def test_imaging_older_than_180_days_is_flagged(taken: str, status: Status) -> None:
    """eviCore: "imaging ≤ 6 months"; "recent advanced imaging (eviCore ≤ 6 months)"; vertebro's default is 180
    days (configurable)."""
    [item] = items("imaging", fracture={"imaging_date": taken})
    assert item.status is status
    assert item.rule.id == "preparation.imaging_recent"
    assert item.instruction.startswith("L1: ")
    if status is Status.ATTENTION:
        assert "180 days" in item.instruction


@pytest.mark.rule("preparation.imaging_recent")
def test_missing_imaging_date_is_needed() -> None:
    """eviCore: "imaging ≤ 6 months" — the date must be known to check it."""
    [item] = items("imaging", fracture={"imaging_date": None})
    assert item.status is Status.NEEDED
    assert "L1" in item.instruction


@pytest.mark.rule("preparation.imaging_recent")
def test_imaging_recency_follows_the_policy() -> None:
    """Reference: "VAPOUR required MRI or SPECT-CT within the previous week" — a clinic can choose a stricter
    limit."""
    [item] = items("imaging", policy=ClinicPolicy(imaging_max_age_days=7))
    assert item.status is Status.ATTENTION
    assert "7 days" in item.instruction
