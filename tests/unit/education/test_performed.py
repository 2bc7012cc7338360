"""Documents follow the signed procedure record: the discharge sheet's technique, levels, operator and an
override line, and the report's dose and date, whatever the recommendation said."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.education.documents import procedure_report
from vertebro.education.handouts import Performed, discharge_sheet
from vertebro.education.render import discharge_html, procedure_report_html
from vertebro.store.records import PatientRecord, RecordedLevel, SignedProcedure

from .cases import AS_OF, assessed, make_case

SIGNED_AT = dt.datetime(2026, 12, 4, 11, 0, tzinfo=dt.UTC)


def test_the_discharge_sheet_follows_the_record_not_the_recommendation() -> None:
    case = make_case(procedure_date="2026-12-04")
    assessment = assessed(case)
    assert assessment.recommendation.treatment.value == "vertebroplasty"
    performed = Performed(
        treatment="kyphoplasty",
        levels=("L2", "L1"),
        operator="dr.rad",
        override_reason="reviewed at the bedside, going home with the family",
        override_by="dr.rad",
    )
    sheet = discharge_sheet(case, assessment, DEFAULT_POLICY, produced_on=AS_OF, performed=performed)
    assert sheet.header.treatment == "kyphoplasty"
    assert [level.code for level in sheet.header.levels] == ["L1", "L2"]
    html = discharge_html(sheet)
    assert "Your kyphoplasty" in html
    assert "Done by dr.rad." in html
    assert "reviewed at the bedside, going home with the family" in html
    plain = discharge_html(discharge_sheet(case, assessment, DEFAULT_POLICY, produced_on=AS_OF))
    assert "Your vertebroplasty" in plain
    assert "usual checks" not in plain


def test_the_report_takes_technique_date_operator_and_dose_from_the_record() -> None:
    procedure = SignedProcedure(
        operator="dr.rad",
        signed_by="dr.rad",
        signed_at=SIGNED_AT,
        started_at=SIGNED_AT - dt.timedelta(hours=2),
        sedation=False,
        levels=(RecordedLevel("L1", "bipedicular", "ct", "Reference PMMA", 4.5, "venous", True, ("venous", "disc")),),
        complications=(),
        notes=None,
        technique="vertebroplasty",
        fluoroscopy_minutes=2.5,
        dap_gy_cm2=9.0,
        ctdivol_mgy=12.0,
        dlp_mgy_cm=310.0,
        date_change_reason="an earlier slot",
    )
    record = PatientRecord(1, "R-1", "Rosa Example", None, 1, {}, None, procedure=procedure)
    report = procedure_report(record, ZoneInfo("Europe/London"))
    assert report.treatment.value == "vertebroplasty"
    assert report.operator == "dr.rad"
    assert report.performed_on == (SIGNED_AT - dt.timedelta(hours=2)).astimezone(ZoneInfo("Europe/London")).date()
    assert [leak.value for leak in report.levels[0].leaks] == ["segmental vein", "intradiscal"]
    html = procedure_report_html(report)
    for text in ("Fluoroscopy time", "2.5 min", "9 Gy·cm²", "CTDIvol", "310 mGy·cm", "an earlier slot"):
        assert text in html


def test_the_report_dates_the_procedure_in_the_clinics_zone_not_the_servers() -> None:
    """A procedure started at 23:30 UTC on 4 December was done on 5 December in Berlin: the report says so."""
    late = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)
    level = RecordedLevel("L1", "bipedicular", "fluoroscopy", "Reference PMMA", 4.0, None, True, ())
    procedure = SignedProcedure(
        operator="dr.rad",
        signed_by="dr.rad",
        signed_at=late + dt.timedelta(hours=1),
        started_at=late,
        sedation=False,
        levels=(level,),
        complications=(),
        notes=None,
        technique="vertebroplasty",
        fluoroscopy_minutes=None,
        dap_gy_cm2=None,
        ctdivol_mgy=None,
        dlp_mgy_cm=None,
        date_change_reason=None,
    )
    record = PatientRecord(1, "R-1", "Rosa Example", None, 1, {}, None, procedure=procedure)
    assert procedure_report(record, ZoneInfo("Europe/Berlin")).performed_on == dt.date(2026, 12, 5)
    assert procedure_report(record, ZoneInfo("America/New_York")).performed_on == dt.date(2026, 12, 4)
