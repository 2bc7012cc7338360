"""Audit rows carry the id of the request or job that wrote them; the new column is append-only like the rest;
failed audit writes are counted for the operators' alerts."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vertebro.store.context import request_id
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry


def _append(uow: UnitOfWork, actor: str = "dr.tester") -> None:
    uow.audit.append(actor=actor, action="read", entity_type="patient", entity_id=1, patient_id=1, source="pytest")


def test_rows_name_the_request_and_rows_outside_one_have_none(session_factory: sessionmaker[Session]) -> None:
    token = request_id.set("req-7")
    try:
        with UnitOfWork(session_factory) as uow:
            _append(uow)
            uow.audit.append_reads(actor="dr.tester", patient_ids=[2, 3], detail={}, source="pytest")
            uow.commit()
    finally:
        request_id.reset(token)
    with UnitOfWork(session_factory) as uow:
        _append(uow, actor="cli:someone")  # a command: no request
        uow.commit()
        rows = uow.session.execute(select(AuditEntry.actor, AuditEntry.request_id).order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [
        ("dr.tester", "req-7"),
        ("dr.tester", "req-7"),
        ("dr.tester", "req-7"),
        ("cli:someone", None),
    ]


def test_the_request_id_cannot_be_changed_afterwards(session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        _append(uow)
        uow.commit()
    with UnitOfWork(session_factory) as uow, pytest.raises(IntegrityError, match="append-only"):
        uow.session.execute(update(AuditEntry).values(request_id="forged"))


def test_a_failed_audit_write_is_counted(session_factory: sessionmaker[Session]) -> None:
    before = REGISTRY.get_sample_value("vertebro_audit_write_failures_total") or 0.0
    with UnitOfWork(session_factory) as uow, pytest.raises(IntegrityError):
        _append(uow, actor="")  # the database refuses an entry without an actor
    assert REGISTRY.get_sample_value("vertebro_audit_write_failures_total") == before + 1
