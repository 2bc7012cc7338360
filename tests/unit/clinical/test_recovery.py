"""Recovery: monitoring, discharge, escort, aftercare, follow-up, bone health and red flags.

The base case's procedure starts on 2026-12-14 at 08:00 and, with one level, ends at 09:30.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.unit.clinical.builders import assessed, base_case
from vertebro.clinical import ClinicPolicy
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.recovery import monitoring_minutes, recovery_plan

END = dt.datetime(2026, 12, 14, 9, 30)


# --- monitoring ---------------------------------------------------------------------------------


@pytest.mark.rule("recovery.monitoring")
def test_monitoring_checks() -> None:
    """Post-procedure orders: "Bed rest / recumbent 1–2 h"; "vitals + lower-limb neuro exam q15 min × 1 h then
    q30 min × 1 h"; "pain score at end and at 2 h, notify if above baseline"."""
    checks = assessed().recovery.monitoring_checks
    assert checks == (
        "bed rest for the first hour (log-roll allowed), then sit up with help",
        "vital signs and leg neurological checks every 15 min for 1 h, then every 30 min for 1 h",
        "pain score at the end of the procedure and at 2 h; report pain above baseline",
    )


@pytest.mark.rule("recovery.monitoring_length")
@pytest.mark.parametrize(
    ("levels", "sedated", "minutes"),
    [
        (1, False, 120),
        (1, True, 180),
        (2, False, 150),
        (2, True, 210),
        (3, False, 180),
        (3, True, 240),
        (5, False, 240),
        (5, True, 300),
        (6, True, 300),
        (7, False, 300),
        (8, False, 300),
        (12, True, 300),
    ],
)
def test_monitoring_minutes(levels: int, sedated: bool, minutes: int) -> None:
    """Post-procedure orders: "q15 min × 1 h then q30 min × 1 h" (2 h); "Most patients home within 4–5 h" —
    +30 min per further level, +60 min after sedation, at most 300 min."""
    assert monitoring_minutes(levels, sedated, DEFAULT_POLICY) == minutes


@pytest.mark.rule("recovery.monitoring_length")
def test_monitoring_needs_at_least_one_level() -> None:
    """Reference: "Most patients home within 4–5 h" after a procedure on at least one level."""
    with pytest.raises(ValueError, match="levels must be 1 or more"):
        monitoring_minutes(0, False, DEFAULT_POLICY)


@pytest.mark.rule("recovery.monitoring_length")
def test_monitoring_in_the_assessment_uses_the_first_session() -> None:
    """Reference: "Most patients home within 4–5 h" — monitoring is for the session done that day."""
    assert assessed().recovery.monitoring_minutes == 120
    assert assessed({"sedation_planned": True}).recovery.monitoring_minutes == 180
    assert assessed({"sedation_planned": None}).recovery.monitoring_minutes == 120
    fracture = base_case()["fractures"][0]
    four = [dict(fracture, level=level) for level in ("T11", "T12", "L1", "L2")]
    # four levels: first session of three
    assert assessed({"fractures": four, "sedation_planned": True}).recovery.monitoring_minutes == 240


@pytest.mark.rule("recovery.monitoring_length")
def test_the_monitoring_cap_is_configurable() -> None:
    """Reference: "Most patients home within 4–5 h" — the 5-hour cap is a clinic setting."""
    assert monitoring_minutes(6, True, ClinicPolicy(monitoring_max_minutes=240)) == 240


# --- discharge and escort -----------------------------------------------------------------------


@pytest.mark.rule("recovery.discharge_criteria")
def test_discharge_criteria_without_sedation() -> None:
    """Reference: "Discharge criteria (sedation recovery, e.g. Aldrete ≥ 9, neuro exam at baseline, ambulating,
    pain ≤ baseline, tolerating oral intake)"."""
    criteria = assessed({"sedation_planned": False}).recovery.discharge_criteria
    assert criteria == (
        "neurological examination of the legs unchanged from before the procedure",
        "walking as before the procedure",
        "pain not above the pre-procedure level",
        "drinking and eating without vomiting",
    )


@pytest.mark.rule("recovery.discharge_criteria")
def test_discharge_criteria_after_sedation_include_aldrete_9() -> None:
    """Reference: "Discharge criteria (sedation recovery, e.g. Aldrete ≥ 9, ...)"."""
    criteria = assessed({"sedation_planned": True}).recovery.discharge_criteria
    assert criteria[0] == "Aldrete score of 9 or more"
    assert criteria[-1] == "driver and 12-hour companion present"
    assert len(criteria) == 6


@pytest.mark.rule("recovery.escort_after_sedation")
def test_escort_until_12_hours_after_discharge() -> None:
    """Rule statement (ASA sedation, clinic policy): "After sedation the patient goes home with a responsible adult
    who drives and stays with them for 12 hours"."""
    recovery = assessed({"sedation_planned": True}).recovery
    assert recovery.escort_required is True
    # end 09:30 + 180 min monitoring = 12:30 discharge; + 12 h
    assert recovery.escort_until == dt.datetime(2026, 12, 15, 0, 30)


@pytest.mark.rule("recovery.escort_after_sedation")
def test_escort_until_follows_the_time_levels_and_policy() -> None:
    """Rule statement: "stays with them for 12 hours (duration: clinic policy)"."""
    later = assessed({"sedation_planned": True, "procedure_time": "10:00:00"}).recovery
    assert later.escort_until == dt.datetime(2026, 12, 15, 2, 30)
    plan = recovery_plan(3, True, dt.datetime(2026, 12, 14, 11, 30), True, ClinicPolicy(companion_hours=24))
    # 3 levels sedated: 240 min -> discharge 15:30, + 24 h
    assert plan.escort_until == dt.datetime(2026, 12, 15, 15, 30)


@pytest.mark.rule("recovery.escort_after_sedation")
def test_the_discharge_criteria_name_the_clinics_companion_hours() -> None:
    """Rule statement: "stays with them for 12 hours (duration: clinic policy)" — the discharge check must ask for
    the same companion time as the escort plan."""
    plan = recovery_plan(1, True, END, True, ClinicPolicy(companion_hours=24))
    assert plan.escort_until == dt.datetime(2026, 12, 15, 12, 30)
    assert plan.discharge_criteria[-1] == "driver and 24-hour companion present"


@pytest.mark.rule("recovery.escort_after_sedation")
@pytest.mark.parametrize("sedated", [False, None])
def test_no_escort_time_without_sedation(sedated: bool | None) -> None:
    """Rule statement: "After sedation the patient goes home with a responsible adult"."""
    recovery = assessed({"sedation_planned": sedated}).recovery
    assert recovery.escort_required is sedated
    assert recovery.escort_until is None


# --- aftercare ----------------------------------------------------------------------------------


@pytest.mark.rule("recovery.aftercare")
def test_aftercare_steps_and_dates() -> None:
    """Discharge instructions: "no driving 2 days (never on opioids); no lifting > 10 lb (some: 5 lb) for 3 months;
    short walks, increase gradually; dressing off at 24–48 h; no bath/pool 1–2 days"."""
    steps = {s.instruction: (s.start, s.end) for s in assessed().recovery.aftercare}
    day0 = dt.date(2026, 12, 14)
    assert steps == {
        "do not drive (and never while taking opioid pain medicines)": (day0, dt.date(2026, 12, 16)),
        "keep the dressing on; remove it after 24-48 hours": (day0, dt.date(2026, 12, 16)),
        "no bath, pool or hot tub": (day0, dt.date(2026, 12, 16)),
        "no lifting over 4.5 kg (10 lb); short walks, increased gradually": (day0, dt.date(2027, 3, 15)),
    }


@pytest.mark.rule("recovery.aftercare")
def test_aftercare_has_no_dates_without_a_procedure_date() -> None:
    """Discharge instructions: "no driving 2 days" — counted from the procedure, once it is booked."""
    steps = assessed({"procedure_date": None}).recovery.aftercare
    assert len(steps) == 4
    assert all(s.start is None and s.end is None for s in steps)


# --- follow-up ----------------------------------------------------------------------------------


@pytest.mark.rule("recovery.follow_up")
def test_follow_up_windows() -> None:
    """Hirsch 2018: "Follow-up: visit at 2–4 weeks after VA or NSM"; outcome questionnaires at 3 and 12 months."""
    visits = assessed().recovery.follow_up
    assert [(v.name, v.due_from, v.due_until) for v in visits] == [
        ("2-4 week visit", dt.date(2026, 12, 28), dt.date(2027, 1, 11)),
        ("3-month questionnaires", dt.date(2027, 3, 8), dt.date(2027, 3, 29)),
        ("12-month questionnaires", dt.date(2027, 12, 7), dt.date(2028, 1, 4)),
    ]
    day0 = dt.date(2026, 12, 14)
    assert [((v.due_from - day0).days, (v.due_until - day0).days) for v in visits] == [  # type: ignore[operator]
        (14, 28),
        (84, 105),
        (358, 386),
    ]
    assert all(v.questionnaires == ("NRS", "ODI", "RDQ") for v in visits)


@pytest.mark.rule("recovery.follow_up")
def test_follow_up_windows_move_with_the_procedure_date() -> None:
    """Reference: "Follow-up 2–4 weeks (Hirsch 2018)"."""
    [first, *_] = assessed({"procedure_date": "2027-02-01"}).recovery.follow_up
    assert (first.due_from, first.due_until) == (dt.date(2027, 2, 15), dt.date(2027, 3, 1))
    undated = assessed({"procedure_date": None}).recovery.follow_up
    assert all(v.due_from is None and v.due_until is None for v in undated)


# --- bone health --------------------------------------------------------------------------------


@pytest.mark.rule("recovery.bone_health")
@pytest.mark.parametrize(
    ("cause", "referral"),
    [
        ("osteoporotic", True),
        ("low_energy_trauma", True),
        ("myeloma", False),
        ("metastasis", False),
        ("hemangioma", False),
        ("high_energy_trauma", False),
    ],
)
def test_bone_health_referral_after_fragility_fractures(cause: str, referral: bool) -> None:
    """Reference: "BMD referral and osteoporosis therapy (LCD requirement) — without treatment ~20 % of fracture
    patients have another fracture"; LCD: "referral for BMD evaluation + osteoporosis education/treatment"."""
    assert assessed(fracture={"cause": cause}).recovery.bone_health_referral is referral


# --- red flags ----------------------------------------------------------------------------------


@pytest.mark.rule("recovery.red_flags")
def test_red_flags() -> None:
    """Discharge instructions: "call 911 for chest pain, shortness of breath, bowel/bladder loss; call for fever
    ≥ 100.4 °F (38 °C), new weakness/numbness, increasing pain"."""
    flags = {f.symptom: f.action for f in assessed().recovery.red_flags}
    assert flags == {
        "chest pain or sudden shortness of breath": "call emergency services now",
        "loss of bowel or bladder control": "call emergency services now",
        "fever of 38 C (100.4 F) or more": "call the vertebroplasty team the same day",
        "new weakness, numbness or tingling in the legs": "call the vertebroplasty team now",
        "back pain that keeps increasing": "call the vertebroplasty team the same day",
    }


def test_the_recovery_plan_cites_every_recovery_rule() -> None:
    ids = [r.id for r in recovery_plan(1, False, END, True, DEFAULT_POLICY).rules]
    assert ids == [
        "recovery.monitoring",
        "recovery.monitoring_length",
        "recovery.discharge_criteria",
        "recovery.escort_after_sedation",
        "recovery.aftercare",
        "recovery.driving",
        "recovery.follow_up",
        "recovery.bone_health",
        "recovery.red_flags",
    ]


@pytest.mark.rule("recovery.driving")
def test_a_session_running_past_midnight_dates_its_aftercare_from_its_own_day() -> None:
    """Patient guidance: no driving "on the procedure day or for N days after". A session started at 22:50 whose
    planned length ends after midnight was done on its own day: the aftercare and follow-up count from that day,
    not from the next (found when the suite ran late in the evening, hazard H129)."""
    day = dt.date(2026, 12, 14)
    plan = recovery_plan(1, True, dt.datetime(2026, 12, 15, 0, 20), True, DEFAULT_POLICY, day)
    assert {step.start for step in plan.aftercare} == {day}
    assert [v.due_from for v in plan.follow_up if v.name == "2-4 week visit"] == [day + dt.timedelta(days=14)]
