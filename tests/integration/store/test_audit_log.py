"""The audit log is append-only, enforced by the database on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry


@pytest.fixture
def entry_id(session_factory: sessionmaker[Session]) -> int:
    """Id of one committed audit entry."""
    with UnitOfWork(session_factory) as uow:
        uow.audit.append(
            actor="dr.tester",
            action="read",
            entity_type="patient",
            entity_id=1,
            patient_id=1,
            detail={"view": "test"},
            source="pytest",
        )
        uow.commit()
        return int(uow.session.scalars(select(AuditEntry.id).where(AuditEntry.actor == "dr.tester")).one())


def _actors(connection: Connection) -> list[str]:
    return list(connection.scalars(select(AuditEntry.actor)))


def test_audit_entries_can_be_appended(connection: Connection, entry_id: int) -> None:
    connection.execute(insert(AuditEntry).values(actor="second", action="read", entity_type="patient", detail={}))
    assert _actors(connection) == ["dr.tester", "second"]


def test_update_is_rejected_by_the_database(connection: Connection, entry_id: int) -> None:
    with pytest.raises(IntegrityError, match="append-only"), connection.begin_nested():
        connection.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(actor="mallory"))
    assert _actors(connection) == ["dr.tester"]


def test_delete_is_rejected_by_the_database(connection: Connection, entry_id: int) -> None:
    with pytest.raises(IntegrityError, match="append-only"), connection.begin_nested():
        connection.execute(delete(AuditEntry).where(AuditEntry.id == entry_id))
    assert _actors(connection) == ["dr.tester"]


def test_emptying_the_table_is_rejected_by_the_database(connection: Connection, entry_id: int) -> None:
    # TRUNCATE on PostgreSQL; SQLite has no TRUNCATE, its equivalent is DELETE without WHERE.
    statement = "TRUNCATE audit_log" if connection.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(IntegrityError, match="append-only"), connection.begin_nested():
        connection.execute(text(statement))
    assert _actors(connection) == ["dr.tester"]


def test_orm_changes_to_an_entry_are_rejected(session_factory: sessionmaker[Session], entry_id: int) -> None:
    with UnitOfWork(session_factory) as uow:
        entry = uow.session.get(AuditEntry, entry_id)
        assert entry is not None
        entry.detail = {"view": "tampered"}
        with pytest.raises(IntegrityError, match="append-only"):
            uow.commit()
    with UnitOfWork(session_factory) as uow:
        entry = uow.session.get(AuditEntry, entry_id)
        assert entry is not None
        assert entry.detail == {"view": "test"}
