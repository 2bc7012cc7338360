"""The worklist: latest assessment per case, and one read-audit entry per patient shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical.facts import Case
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Assessment
from vertebro.store.service import RecordedCase, worklist

MakeCase = Callable[..., Case]
Record = Callable[..., RecordedCase]


def test_worklist_shows_latest_assessment_and_audits_each_patient_read(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    with UnitOfWork(session_factory) as uow:
        ada_1 = record(uow, make_case("MRN-A", levels=("L1", "T11", "T12")))
        ada_2 = record(uow, make_case("MRN-A", levels=("L3",)))
        bob = record(
            uow,
            make_case("MRN-B", name="Bob Example", sex="male", levels=("T8",)),
            default_category="uncertain",
        )
        # A later re-assessment of Ada's first case replaces the earlier one on the list.
        uow.assessments.add(
            Assessment(
                case_id=ada_1.case_id,
                ruleset_version="test-2",
                default_profile="nice-ta279",
                default_category="not_appropriate",
                treatment="conservative",
                result={"ruleset_version": "test-2"},
            )
        )
        uow.commit()

    with UnitOfWork(session_factory) as uow:
        audit_before = len(uow.audit.entries())
        rows = worklist(uow, actor="nurse.one", source="127.0.0.1")
        uow.commit()

    by_case = {row.case_id: row for row in rows}
    assert set(by_case) == {ada_1.case_id, ada_2.case_id, bob.case_id}
    assert rows[0].case_id == ada_1.case_id  # newest assessment first
    latest = by_case[ada_1.case_id]
    assert latest.patient_identifier == "MRN-A"
    assert latest.patient_name == "Ada Example"
    assert latest.levels == ("T11", "T12", "L1")
    assert latest.ruleset_version == "test-2"
    assert latest.default_profile == "nice-ta279"
    assert latest.default_category == "not_appropriate"
    assert latest.treatment == "conservative"
    assert latest.assessed_at.tzinfo == dt.UTC
    assert by_case[bob.case_id].default_category == "uncertain"
    assert by_case[bob.case_id].levels == ("T8",)

    with UnitOfWork(session_factory) as uow:
        reads = uow.audit.entries()[audit_before:]
    assert len(reads) == 2
    assert {(e.action, e.entity_type, e.actor, e.source) for e in reads} == {
        ("read", "patient", "nurse.one", "127.0.0.1")
    }
    by_patient = {e.patient_id: e for e in reads}
    assert set(by_patient) == {ada_1.patient_id, bob.patient_id}
    assert by_patient[ada_1.patient_id].entity_id == str(ada_1.patient_id)
    ada_read = by_patient[ada_1.patient_id].detail
    assert ada_read["view"] == "worklist"
    assert sorted(ada_read["case_ids"]) == sorted([ada_1.case_id, ada_2.case_id])
    assert by_patient[bob.patient_id].detail == {
        "view": "worklist",
        "case_ids": [bob.case_id],
    }


def test_empty_worklist_audits_nothing(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        assert worklist(uow, actor="nurse.one", source="cli") == []
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.audit.entries() == []


def test_uncommitted_worklist_read_leaves_no_audit(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    with UnitOfWork(session_factory) as uow:
        record(uow, make_case("MRN-C"))
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        before = len(uow.audit.entries())
    with UnitOfWork(session_factory) as uow:
        assert len(worklist(uow, actor="nurse.one", source="cli")) == 1
    with UnitOfWork(session_factory) as uow:
        assert len(uow.audit.entries()) == before
