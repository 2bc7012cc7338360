"""Personal documents built from an assessment: what they contain, what they leave out, and their dates."""

from __future__ import annotations

import datetime as dt

import pytest

from vertebro.education.dates import clock_time, date_time
from vertebro.education.handouts import HandoutNotReady
from vertebro.education.render import discharge_html, preparation_html

from .cases import BASE, LONDON, NEW_YORK, WARFARIN_AND_ASPIRIN, assessed, discharge, make_case, prep


def elapsed(first: dt.datetime, last: dt.datetime) -> dt.timedelta:
    """Real time between two aware moments (Python subtracts wall-clock times within one zone)."""
    return last.astimezone(dt.UTC) - first.astimezone(dt.UTC)


def test_the_handout_carries_the_plan_the_core_computed() -> None:
    case = make_case(medications=WARFARIN_AND_ASPIRIN, allergies=["latex"])
    assessment = assessed(case)
    doc = prep(case)
    holds = {h.drug: h for h in assessment.preparation.medication_holds}
    lines = {m.drug: m for m in doc.blood_thinners}
    assert set(lines) == {"warfarin", "aspirin"}
    assert lines["warfarin"].last_dose_on == holds["warfarin"].last_dose_on == dt.date(2026, 12, 8)
    restart = lines["warfarin"].restart_from
    assert restart is not None
    assert restart == holds["warfarin"].restart_from.replace(tzinfo=LONDON)  # type: ignore[union-attr]
    assert lines["warfarin"].condition
    assert doc.keep_taking == ("alendronate",)
    assert doc.header.procedure_start == dt.datetime(2026, 12, 14, 8, 0, tzinfo=LONDON)
    assert doc.arrival == dt.datetime(2026, 12, 14, 7, 45, tzinfo=LONDON)
    assert [lvl.code for lvl in doc.header.levels] == ["L1"]
    html = preparation_html(doc)
    for text in ("Rosa Example", "EDU-0001", "warfarin", "Tuesday 8 December 2026", "Monday 7 December 2026", "latex"):
        assert text in html
    assert "8:00 am on Monday 14 December 2026" in html


def test_a_patient_who_is_not_sedated_gets_no_driver_companion_or_fasting_instructions() -> None:
    case = make_case(sedation_planned=False)
    doc = prep(case)
    assert doc.escort is None
    assert doc.fasting == ()
    html = preparation_html(doc).lower()
    for phrase in ("drive you home", "stay with you", "last clear liquids", "who must come with you"):
        assert phrase not in html
    sheet = discharge_html(discharge(case)).lower()
    assert "stay with you" not in sheet
    assert "you had sedation" not in sheet


def test_a_sedated_patient_gets_the_driver_the_companion_and_the_fasting_times() -> None:
    doc = prep(make_case(sedation_planned=True))
    assert doc.escort is not None
    assert doc.escort.companion_hours == 12
    assert [f.at.replace(tzinfo=None) for f in doc.fasting] == [
        dt.datetime(2026, 12, 14, 0, 0),
        dt.datetime(2026, 12, 14, 2, 0),
        dt.datetime(2026, 12, 14, 6, 0),
    ]
    html = preparation_html(doc)
    assert "An adult must take you home" in html
    assert "stay with you for 12 hours" in html
    assert "12:00 midnight, the night of Sunday 13 to Monday 14 December 2026" in html


def test_a_patient_on_no_blood_thinner_gets_no_hold_section() -> None:
    doc = prep(make_case(medications=[{"name": "alendronate"}, {"name": "paracetamol"}]))
    assert doc.blood_thinners == ()
    html = preparation_html(doc)
    assert "blood thinners" not in html.lower()
    assert "last dose" not in html.lower()
    assert "alendronate, paracetamol" in html
    assert "Restarting your blood thinners" not in discharge_html(discharge(make_case()))


def test_an_unlisted_medicine_is_to_be_asked_about_not_silently_continued() -> None:
    doc = prep(make_case(medications=[{"name": "fluoxetine"}]))
    assert [m.drug for m in doc.ask_about] == ["fluoxetine"]
    assert "Medicines to ask about" in preparation_html(doc)


def test_aspirin_for_secondary_prevention_is_a_decision_with_the_prescriber() -> None:
    doc = prep(make_case(medications=[{"name": "aspirin", "purpose": "secondary_prevention"}]))
    html = preparation_html(doc)
    assert "Do not stop it yet" in html
    assert "must agree first" in html
    assert "last dose on" not in html  # no date until the prescriber's decision is recorded


def test_hold_dates_are_right_across_a_month_end_and_a_leap_day() -> None:
    """Warfarin: 5 whole days without it; procedure Thursday 2 March 2028 -> last dose Friday 25 February."""
    recent_mri = [{**BASE["fractures"][0], "imaging_date": "2028-01-25"}]  # imaging within the limit on 1 February
    case = make_case(medications=WARFARIN_AND_ASPIRIN, procedure_date="2028-03-02", fractures=recent_mri)
    doc = prep(case, as_of=dt.date(2028, 2, 1))
    lines = {m.drug: m for m in doc.blood_thinners}
    assert lines["warfarin"].last_dose_on == dt.date(2028, 2, 25)
    assert lines["aspirin"].last_dose_on == dt.date(2028, 2, 24)
    html = preparation_html(doc)
    assert "Friday 25 February 2028" in html
    assert "Thursday 24 February 2028" in html


def test_discharge_dates_are_right_across_a_year_end() -> None:
    sheet = discharge(make_case(procedure_date="2026-12-30"), as_of=dt.date(2026, 12, 1))
    by_text = {a.instruction: a for a in (*sheet.activity, *sheet.wound)}
    driving = next(a for text, a in by_text.items() if text.startswith("do not drive"))
    assert (driving.start, driving.end) == (dt.date(2026, 12, 30), dt.date(2027, 1, 1))
    lifting = next(a for text, a in by_text.items() if "lifting" in text)
    assert lifting.end == dt.date(2027, 3, 31)
    visit = sheet.follow_up[0]
    assert (visit.due_from, visit.due_until) == (dt.date(2027, 1, 13), dt.date(2027, 1, 27))
    html = discharge_html(sheet)
    assert "Friday 1 January 2027" in html
    assert "Between Wednesday 13 January 2027 and Wednesday 27 January 2027" in html


def test_fasting_before_a_procedure_on_the_morning_the_clocks_go_forward_keeps_8_real_hours() -> None:
    """Europe/London, Sunday 28 March 2027: clocks go from 01:00 GMT to 02:00 BST. 8 h before 08:00 BST is 23:00 GMT."""
    case = make_case(procedure_date="2027-03-28")
    doc = prep(case, zone=LONDON, as_of=dt.date(2027, 3, 1))
    start = doc.header.procedure_start
    assert (start.hour, start.tzname()) == (8, "BST")
    fatty, light, clear = doc.fasting
    assert (fatty.at.date(), fatty.at.hour, fatty.at.tzname()) == (dt.date(2027, 3, 27), 23, "GMT")
    assert (light.at.hour, light.at.tzname()) == (2, "BST")
    assert (clear.at.hour, clear.at.tzname()) == (6, "BST")
    for timed, hours in ((fatty, 8), (light, 6), (clear, 2)):
        assert elapsed(timed.at, start) == dt.timedelta(hours=hours)
    assert doc.header.clock_change
    html = preparation_html(doc)
    assert "The clocks change" in html
    assert "11:00 pm GMT on Saturday 27 March 2027" in html


def test_without_a_time_zone_the_clinic_zone_of_the_policy_is_used() -> None:
    """The default policy's zone is Europe/London: the handout shows the same times as the chart."""
    case = make_case(procedure_date="2027-03-28")
    doc = prep(case, as_of=dt.date(2027, 3, 1))
    core = next(i.due for i in assessed(case, dt.date(2027, 3, 1)).preparation.items if i.kind == "fasting")
    assert core == dt.datetime(2027, 3, 27, 23, 0)
    assert doc.fasting[0].at == core.replace(tzinfo=LONDON)
    assert doc.header.clock_change


def test_an_hour_based_hold_keeps_its_real_hours_when_the_clocks_go_back() -> None:
    """America/New_York, Sunday 1 November 2026: 02:00 EDT becomes 01:00 EST.

    Therapeutic enoxaparin stops 24 h before: 08:00 EST on Saturday 31 October, wall-clock, is 25 h before an
    08:00 EST procedure on Sunday; the right time is 09:00 EDT on Saturday.
    """
    case = make_case(procedure_date="2026-11-01", medications=[{"name": "enoxaparin", "purpose": "therapeutic"}])
    doc = prep(case, zone=NEW_YORK, as_of=dt.date(2026, 10, 15))
    (line,) = doc.blood_thinners
    assert line.last_dose_by is not None
    assert elapsed(line.last_dose_by, doc.header.procedure_start) == dt.timedelta(hours=24)
    assert (line.last_dose_by.date(), line.last_dose_by.hour, line.last_dose_by.tzname()) == (
        dt.date(2026, 10, 31),
        9,
        "EDT",
    )
    assert "9:00 am EDT on Saturday 31 October 2026" in preparation_html(doc)


def test_the_companion_stays_12_real_hours_over_a_clock_change() -> None:
    """Procedure on Saturday 27 March 2027 in London; the companion's 12 hours end after the clocks go forward."""
    case = make_case(procedure_date="2027-03-27", procedure_time="14:00:00")
    assessment = assessed(case, dt.date(2027, 3, 1))
    doc = prep(case, zone=LONDON, as_of=dt.date(2027, 3, 1))
    assert doc.escort is not None
    assert doc.escort.until is not None
    core_until = assessment.recovery.escort_until  # the chart's time: clinic wall-clock, already elapsed-right
    assert core_until is not None
    discharge_at = dt.datetime(2027, 3, 27, 15, 30 + 0) + dt.timedelta(minutes=assessment.recovery.monitoring_minutes)
    assert elapsed(discharge_at.replace(tzinfo=LONDON), doc.escort.until) == dt.timedelta(hours=12)
    assert doc.escort.until == core_until.replace(tzinfo=LONDON)


def test_a_past_last_dose_date_is_flagged() -> None:
    case = make_case(medications=WARFARIN_AND_ASPIRIN)
    doc = prep(case, as_of=dt.date(2026, 12, 10))
    flagged = {m.drug for m in doc.blood_thinners if m.date_passed}
    assert flagged == {"warfarin", "aspirin"}
    assert "This date has already passed" in preparation_html(doc)


def test_staged_levels_name_the_later_sessions() -> None:
    fracture = make_case().fractures[0].model_dump(mode="json")
    fractures = [{**fracture, "level": level} for level in ("T11", "T12", "L1", "L2")]
    doc = prep(make_case(fractures=fractures))
    assert [lvl.code for lvl in doc.header.levels] == ["T11", "T12", "L1"]
    assert [[lvl.code for lvl in s] for s in doc.later_sessions] == [["L2"]]
    html = preparation_html(doc)
    assert "T11 (middle back), T12 (middle back) and L1 (lower back)" in html
    assert "L2 (lower back)" in html


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"procedure_date": None}, "no procedure date is booked"),
        ({"sedation_planned": None}, "sedation is planned is not decided"),
        ({"neurological_deficit": True}, "surgical referral"),
    ],
)
def test_a_document_is_refused_until_the_plan_is_ready(changes: dict[str, object], problem: str) -> None:
    case = make_case(**changes)
    with pytest.raises(HandoutNotReady, match=problem):
        prep(case)
    with pytest.raises(HandoutNotReady, match=problem):
        discharge(case)


def test_the_discharge_sheet_has_red_flags_follow_up_and_bone_health() -> None:
    case = make_case(medications=WARFARIN_AND_ASPIRIN)
    sheet = discharge(case)
    assert sheet.red_flags
    assert sheet.bone_health
    assert {m.drug for m in sheet.restarts} == {"warfarin", "aspirin"}
    html = discharge_html(sheet)
    for text in (
        "Chest pain or sudden shortness of breath",
        "Call emergency services now",
        "Fever of 38 C",
        "Protecting your bones",
        "Restarting your blood thinners",
        "Keep the dressing on",
    ):
        assert text in html
    assert "Between Monday 28 December 2026 and Monday 11 January 2027" in html


def test_every_document_lists_the_sources_of_its_rules() -> None:
    doc = prep(make_case(medications=WARFARIN_AND_ASPIRIN))
    ids = [r.source.id for r in doc.header.references]
    assert ids[0] == "asra-2018"
    assert "asa-fasting-2017" in ids
    assert [r.number for r in doc.header.references] == list(range(1, len(ids) + 1))


def test_times_read_naturally() -> None:
    assert clock_time(dt.time(8, 0)) == "8:00 am"
    assert clock_time(dt.time(12, 0)) == "12:00 noon"
    assert clock_time(dt.time(15, 30)) == "3:30 pm"
    assert date_time(dt.datetime(2026, 12, 14, 0, 0)).startswith("12:00 midnight, the night of Sunday 13 to Monday")
