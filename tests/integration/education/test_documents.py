"""Personal documents for a stored demo patient, on SQLite and PostgreSQL: audited read, fresh assessment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical import DEFAULT_POLICY, assess, assessment_json
from vertebro.clinical.clinic import Clinic
from vertebro.clinical.facts import Case
from vertebro.education.documents import DocumentKind, personal_document, read_record
from vertebro.education.handouts import HandoutNotReady
from vertebro.errors import NotFound
from vertebro.intake.case_file import read_case
from vertebro.store.db import UnitOfWork
from vertebro.store.service import RecordedCase, record_assessment

DEMO = Path(__file__).resolve().parents[3] / "src" / "vertebro" / "cli" / "demo_cases"
AS_OF = dt.date(2026, 11, 22)
PROCEDURE = dt.date(2026, 12, 14)


def store_demo(factory: sessionmaker[Session], name: str, **changes: object) -> RecordedCase:
    case = read_case(DEMO / name).model_copy(update={"procedure_date": PROCEDURE, **changes})
    assessment = assess(case, DEFAULT_POLICY, AS_OF)
    with UnitOfWork(factory) as uow:
        recorded = record_assessment(
            uow, case, assessment, assessment_json(assessment), actor="demo:loader", source="pytest"
        )
        uow.commit()
    return recorded


def test_a_handout_for_a_stored_patient_is_computed_and_its_read_audited(
    session_factory: sessionmaker[Session],
) -> None:
    recorded = store_demo(session_factory, "01-acute-osteoporotic-l1.yaml")
    with UnitOfWork(session_factory) as uow:
        record = read_record(uow, "DEMO-0001", DocumentKind.PREPARATION, actor="nurse.jones", source="pytest")
        uow.commit()
    assert record.case_id == recorded.case_id
    assert record.latest_assessment is not None
    document = personal_document(
        record, DocumentKind.PREPARATION, DEFAULT_POLICY, as_of=AS_OF, clinic=Clinic("Spine team", "0123 456")
    )
    assert not document.ruleset_changed
    for text in ("Margaret Ellison", "DEMO-0001", "warfarin", "Tuesday 8 December 2026", "Spine team on 0123 456"):
        assert text in document.html
    with UnitOfWork(session_factory) as uow:
        reads = uow.audit.entries(patient_id=recorded.patient_id, action="read")
    assert len(reads) == 1
    assert reads[0].actor == "nurse.jones"
    assert reads[0].entity_type == "patient"
    assert reads[0].detail == {"view": "handout", "case_id": recorded.case_id, "kind": "preparation"}


def test_the_discharge_sheet_comes_from_the_latest_case(session_factory: sessionmaker[Session]) -> None:
    store_demo(session_factory, "01-acute-osteoporotic-l1.yaml")
    store_demo(session_factory, "01-acute-osteoporotic-l1.yaml", procedure_date=dt.date(2027, 1, 5))
    with UnitOfWork(session_factory) as uow:
        record = read_record(uow, "DEMO-0001", DocumentKind.DISCHARGE, actor="nurse.jones", source="pytest")
        uow.commit()
    html = personal_document(record, DocumentKind.DISCHARGE, DEFAULT_POLICY, as_of=AS_OF).html
    assert "Tuesday 5 January 2027" in html
    assert "Monday 14 December 2026" not in html


def test_a_stored_assessment_from_another_ruleset_is_reported(
    session_factory: sessionmaker[Session], record: Callable[..., RecordedCase]
) -> None:
    case = read_case(DEMO / "01-acute-osteoporotic-l1.yaml").model_copy(update={"procedure_date": PROCEDURE})
    with UnitOfWork(session_factory) as uow:
        record(uow, case, ruleset_version="2025.01+old")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        stored = read_record(uow, "DEMO-0001", DocumentKind.PREPARATION, actor="nurse.jones", source="pytest")
        uow.commit()
    document = personal_document(stored, DocumentKind.PREPARATION, DEFAULT_POLICY, as_of=AS_OF)
    assert document.stored_ruleset_version == "2025.01+old"
    assert document.ruleset_changed


def test_a_plan_that_is_not_ready_is_refused(
    session_factory: sessionmaker[Session],
    make_case: Callable[..., Case],
    record: Callable[..., RecordedCase],
) -> None:
    with UnitOfWork(session_factory) as uow:
        record(uow, make_case("MRN-7"))
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        stored = read_record(uow, "MRN-7", DocumentKind.PREPARATION, actor="nurse.jones", source="pytest")
        uow.commit()
    with pytest.raises(HandoutNotReady, match="sedation is planned is not decided"):
        personal_document(stored, DocumentKind.PREPARATION, DEFAULT_POLICY, as_of=AS_OF)


def test_an_unknown_patient_is_not_found_and_nothing_is_audited(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow, pytest.raises(NotFound):
        read_record(uow, "NOBODY", DocumentKind.PREPARATION, actor="nurse.jones", source="pytest")
    with UnitOfWork(session_factory) as uow:
        assert uow.audit.entries(action="read") == []


def test_the_procedure_report_needs_a_procedure_record(session_factory: sessionmaker[Session]) -> None:
    store_demo(session_factory, "01-acute-osteoporotic-l1.yaml")
    with UnitOfWork(session_factory) as uow, pytest.raises(HandoutNotReady, match="procedure record"):
        read_record(uow, "DEMO-0001", DocumentKind.PROCEDURE_REPORT, actor="dr.who", source="pytest")
