"""The structured procedure report, built from constructed values until the procedure record exists."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from vertebro.education.render import procedure_report_html
from vertebro.education.report import Approach, Dose, Guidance, Leak, ProcedureReport, TreatedLevel, Treatment
from vertebro.errors import InvalidInput

from .cases import LONDON


def a_report(**changes: object) -> ProcedureReport:
    report = ProcedureReport(
        patient_name="Rosa Example",
        patient_identifier="EDU-0001",
        birth_date=dt.date(1950, 5, 17),
        performed_on=dt.date(2026, 12, 14),
        treatment=Treatment.VERTEBROPLASTY,
        indication="Painful acute osteoporotic L1 and T12 fractures with marrow oedema on MRI; NRS 8 despite care.",
        guidance=Guidance.FLUOROSCOPY,
        anaesthesia="local anaesthetic (lidocaine 1 %) with moderate sedation",
        cement_product="Reference vertebroplasty PMMA",
        cement_lot="LOT-4711",
        levels=(
            TreatedLevel("L1", Approach.BIPEDICULAR, 4.5, (Leak.INTRADISCAL,), biopsy=True),
            TreatedLevel("T12", Approach.UNIPEDICULAR, 3.0),
        ),
        operator="Dr A. Radiologist",
        signed_at=dt.datetime(2026, 12, 14, 11, 5, tzinfo=LONDON),
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def test_the_report_lists_levels_in_spinal_order_with_cement_and_leaks() -> None:
    report = a_report()
    assert [t.level for t in report.levels_in_order] == ["T12", "L1"]
    assert report.total_cement_ml == 7.5
    assert report.any_leak
    assert not report.any_symptomatic_leak
    html = procedure_report_html(report)
    for text in (
        "Vertebroplasty, T12, L1",
        "bipedicular",
        "unipedicular",
        "4.5",
        "3.0",
        "7.5",
        "intradiscal; asymptomatic",
        "LOT-4711",
        "fluoroscopy",
        "Dr A. Radiologist",
        "Electronically signed:</b> 2026-12-14 11:05 GMT",
    ):
        assert text in html
    assert "DRAFT" not in html


def test_an_unsigned_report_is_marked_draft() -> None:
    html = procedure_report_html(a_report(signed_at=None))
    assert "DRAFT: not signed" in html
    assert "Electronically signed" not in html


def test_a_symptomatic_leak_and_complications_are_shown() -> None:
    levels = (TreatedLevel("T8", Approach.BIPEDICULAR, 2.5, (Leak.SPINAL_CANAL,), leak_symptomatic=True),)
    html = procedure_report_html(a_report(levels=levels, complications=("transient left T8 radicular pain",)))
    assert "SYMPTOMATIC" in html
    assert "symptomatic leak" in html
    assert "transient left T8 radicular pain" in html


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: TreatedLevel("L6", Approach.UNIPEDICULAR, 3.0), "levels.level"),
        (lambda: TreatedLevel("L1", Approach.UNIPEDICULAR, 0.0), "levels.cement_ml"),
        (lambda: TreatedLevel("L1", Approach.UNIPEDICULAR, 25.0), "levels.cement_ml"),
        (lambda: TreatedLevel("L1", Approach.UNIPEDICULAR, 3.0, leak_symptomatic=True), "levels.leaks"),
        (lambda: a_report(levels=()), "levels"),
        (lambda: a_report(levels=(TreatedLevel("L1", Approach.UNIPEDICULAR, 3.0),) * 2), "levels"),
        (lambda: a_report(operator=" "), "operator"),
        (lambda: a_report(signed_at=dt.datetime(2026, 12, 14, 11, 5)), "signed_at"),
        (lambda: a_report(signed_at=dt.datetime(2026, 12, 13, 11, 5, tzinfo=LONDON)), "signed_at"),
    ],
)
def test_an_incomplete_or_impossible_report_is_refused(build: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field


@pytest.mark.rule("dose.reference-level")
def test_the_report_compares_the_dose_with_the_levels_of_its_technique_and_guidance() -> None:
    """A diagnostic reference level is the 75th percentile of a dose survey for one procedure, national with its
    country and year: the report lists each level of its technique and guidance, marked unverified, and names a
    guidance with no level at all rather than reading it as "within"."""
    html = procedure_report_html(
        a_report(guidance=Guidance.CT_FLUOROSCOPY, dose=Dose(dap_gy_cm2=21.0, dlp_mgy_cm=350.0))
    )
    assert "Diagnostic reference levels</b> (vertebroplasty, CT and fluoroscopy;" in html
    assert "<b>unverified</b>: no value below was confirmed" in html
    assert "(Germany, 2022; BfS DRW 17.11.2022, unverified) not confirmed, not compared" in html
    assert "No published reference level registered for vertebroplasty under CT" in html
    assert "Diagnostic reference levels" not in procedure_report_html(a_report(dose=None))
