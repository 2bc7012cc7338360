"""The education pages speak in general terms that can never contradict a personal plan.

Each number a page gives about going home, restarting blood thinners or driving is checked against the
constants and rules the personal plan is computed from (clinical/recovery.py, clinical/medications.py).
"""

from __future__ import annotations

import re

import pytest

from tests.unit.clinical.builders import assessed
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.clinical.recovery import monitoring_minutes
from vertebro.education.content import CONTENT_DIR

PAGES = {p.name: p.read_text(encoding="utf-8") for p in sorted(CONTENT_DIR.glob("*.md"))}
ALL = " ".join(PAGES.values())
DRUGS = ["warfarin", "acenocoumarol", "aspirin", "ibuprofen", "piroxicam", "cilostazol", "heparin", "enoxaparin",
         "clopidogrel", "prasugrel", "ticagrelor", "apixaban", "rivaroxaban", "edoxaban", "dabigatran",
         "fondaparinux"]  # fmt: skip


def restart_hours() -> list[int]:
    hours: list[int] = []
    for policy in (DEFAULT_POLICY, ClinicPolicy(doac_protocol="pause")):
        for route in ("iv", "sc"):
            meds = [
                {"name": d, "purpose": "primary_prevention", "thrombotic_risk": "low", "route": route} for d in DRUGS
            ]
            a = assessed({"medications": meds, "labs": {"creatinine_clearance_ml_min": 80.0}}, policy=policy)
            for h in a.preparation.medication_holds:
                if h.action is HoldAction.HOLD and h.restart_after_hours is not None:
                    hours.append(h.restart_after_hours)
                    hours.append(h.restart_after_hours_max or h.restart_after_hours)
    return hours


def test_the_stay_after_the_procedure_is_the_plans_range() -> None:
    """recovery.monitoring_length: 2 h for one level up to at most 5 h."""
    shortest = monitoring_minutes(1, sedated=False, policy=DEFAULT_POLICY) // 60
    longest = DEFAULT_POLICY.monitoring_max_minutes // 60
    stay = f"stay {shortest} to {longest} hours"
    for name in ("the-day.md", "questions-and-answers.md", "what-is-vertebroplasty.md"):
        assert stay in PAGES[name], name
    assert "4 to 5 hours" not in ALL


def test_the_restart_range_covers_every_medicine_and_protocol() -> None:
    """ASRA 2018 (UFH IV: restart 2 h) to PAUSE ("resume 48-72 h after")."""
    hours = restart_hours()
    assert (min(hours), max(hours)) == (2, 72)
    assert "from 2 hours to 3 days after the procedure" in PAGES["after-the-procedure.md"]
    assert "6 to 24 hours" not in ALL


@pytest.mark.rule("recovery.driving")
def test_every_page_gives_the_same_driving_rule_as_the_plan() -> None:
    """BayCare/Krames: "Do not drive for 2 days after the procedure" — for every patient, sedated or not."""
    days = DEFAULT_POLICY.no_driving_days
    assert f"Do not drive for {days} days, with or without sedation" in PAGES["after-the-procedure.md"]
    assert f"you do not drive for {days} days after the procedure" in PAGES["preparing.md"]
    assert f"Not for {days} days" in PAGES["questions-and-answers.md"]
    assert not re.search(r"After sedation you must not drive", ALL)
