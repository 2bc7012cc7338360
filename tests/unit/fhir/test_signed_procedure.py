"""FHIR Procedure follows the signed record: a draft is not exported; a kyphoplasty record gets the
vertebral-augmentation CPT codes; every recorded leak site is a complication."""

from __future__ import annotations

import datetime as dt

from tests.unit.fhir.validation import problems
from vertebro.fhir.procedure import procedure_resources
from vertebro.store.models import ProcedureLevel, ProcedureRecord

AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _record(technique: str, *, signed: bool) -> ProcedureRecord:
    procedure = ProcedureRecord(
        id=5,
        case_id=3,
        operator="dr.ops",
        technique=technique,
        started_at=AT,
        ended_at=AT + dt.timedelta(minutes=40),
        signed_by="dr.ops" if signed else None,
        signed_at=AT + dt.timedelta(hours=1) if signed else None,
        version=2,
    )
    procedure.levels = [
        ProcedureLevel(
            id=index,
            level=code,
            approach="bipedicular",
            guidance="fluoroscopy",
            contrast=False,
            cement_product="PMMA",
            cement_volume_ml=3.5,
            leakage="venous" if index == 1 else "none",
            leaks=["venous", "disc"] if index == 1 else [],
            leakage_symptomatic=False,
        )
        for index, code in enumerate(("T12", "L1"), start=1)
    ]
    return procedure


def test_a_draft_exports_no_procedure() -> None:
    assert procedure_resources(_record("vertebroplasty", signed=False), 7) == []


def test_kyphoplasty_gets_the_augmentation_codes_and_every_leak_site() -> None:
    first, second = procedure_resources(_record("kyphoplasty", signed=True), 7)
    assert [c["code"] for c in first["code"]["coding"]] == ["22513"]  # T12: thoracic
    assert [c["code"] for c in second["code"]["coding"]] == ["22515"]  # each additional level
    assert [c["coding"][0]["code"] for c in first["complication"]] == ["venous", "disc"]
    assert "complication" not in second
    for resource in (first, second):
        assert problems(resource) == [], resource


def test_vertebroplasty_keeps_its_codes() -> None:
    first, _ = procedure_resources(_record("vertebroplasty", signed=True), 7)
    assert [c["code"] for c in first["code"]["coding"]] == ["392010000", "22510"]
