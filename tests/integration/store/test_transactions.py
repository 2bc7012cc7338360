"""Unit of work: all or nothing, audit entries included."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical.facts import Case
from vertebro.store.db import UnitOfWork, make_session_factory
from vertebro.store.models import Assessment, AuditEntry, Fracture, Patient
from vertebro.store.models import Case as CaseRow
from vertebro.store.service import RecordedCase

MakeCase = Callable[..., Case]
Record = Callable[..., RecordedCase]
TABLES: tuple[type[object], ...] = (Patient, CaseRow, Fracture, Assessment, AuditEntry)


class Boom(Exception):
    """Raised on purpose in the middle of a unit of work."""


def _record_then_fail(session_factory: sessionmaker[Session], record: Record, case: Case) -> None:
    """Record a case and flush it (rows and audit are in the database), then fail."""
    with UnitOfWork(session_factory) as uow:
        record(uow, case)
        uow.session.flush()
        raise Boom


def _counts(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with UnitOfWork(session_factory) as uow:
        return {model.__name__: uow.session.scalar(select(func.count()).select_from(model)) or 0 for model in TABLES}


def test_unique_violation_leaves_no_rows_and_no_audit(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    before = _counts(session_factory)

    def write() -> None:
        with UnitOfWork(session_factory) as uow:
            recorded = record(uow, make_case("MRN-DUP", levels=("L1",)))
            # The Case model refuses duplicate levels, so add one behind its back.
            uow.session.add(Fracture(case_id=recorded.case_id, level="L1", cause="osteoporotic"))
            uow.commit()

    with pytest.raises(IntegrityError):
        write()
    assert _counts(session_factory) == before


def test_exception_mid_unit_of_work_leaves_no_rows_and_no_audit(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    before = _counts(session_factory)
    with pytest.raises(Boom):
        _record_then_fail(session_factory, record, make_case("MRN-BOOM", levels=("L1", "L2")))
    assert _counts(session_factory) == before


def test_leaving_without_commit_rolls_back(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    before = _counts(session_factory)
    with UnitOfWork(session_factory) as uow:
        record(uow, make_case("MRN-NOCOMMIT"))
    assert _counts(session_factory) == before


def test_commit_keeps_rows_and_audit(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    before = _counts(session_factory)
    with UnitOfWork(session_factory) as uow:
        record(uow, make_case("MRN-COMMIT", levels=("L1", "L2")))
        uow.commit()
    after = _counts(session_factory)
    assert {name: after[name] - before[name] for name in after} == {
        "Patient": 1,
        "Case": 1,
        "Fracture": 2,
        "Assessment": 1,
        "AuditEntry": 3,
    }


def test_foreign_keys_are_enforced(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow, pytest.raises(IntegrityError):
        uow.cases.add(CaseRow(patient_id=987654321, facts={}))


def test_exception_rolls_back_on_a_real_engine(engine: Engine, make_case: MakeCase, record: Record) -> None:
    # Outside the rolled-back test transaction: the unit of work alone must undo the writes.
    factory = make_session_factory(engine)
    identifier = f"MRN-ENGINE-{secrets.token_hex(4)}"
    before = _counts(factory)
    with pytest.raises(Boom):
        _record_then_fail(factory, record, make_case(identifier))
    assert _counts(factory) == before
    with UnitOfWork(factory) as uow:
        assert uow.patients.get_by_identifier(identifier) is None
