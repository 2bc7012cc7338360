"""Optimistic locking: a stale concurrent update fails with StaleDataError.

This test commits through independent connections (not the rolled-back test transaction),
so it cleans up the rows it created.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm.exc import StaleDataError

from vertebro.store.db import UnitOfWork, make_session_factory
from vertebro.store.models import Patient


@pytest.fixture
def committed_patient(engine: Engine) -> Iterator[tuple[int, str]]:
    """A committed patient (id, identifier), deleted again after the test."""
    identifier = f"MRN-LOCK-{secrets.token_hex(4)}"
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        patient = uow.patients.add(Patient(identifier=identifier, sex="female"))
        uow.commit()
        patient_id = patient.id
    try:
        yield patient_id, identifier
    finally:
        with UnitOfWork(factory) as uow:
            uow.session.execute(delete(Patient).where(Patient.id == patient_id))
            uow.commit()


def test_stale_concurrent_update_raises_stale_data_error(engine: Engine, committed_patient: tuple[int, str]) -> None:
    patient_id, _ = committed_patient
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as first, UnitOfWork(factory) as second:
        mine = first.patients.get(patient_id)
        assert mine is not None
        assert mine.version == 1
        first.commit()  # the read transaction ends; the object keeps version 1

        theirs = second.patients.get(patient_id)
        assert theirs is not None
        theirs.name = "Changed Elsewhere"
        second.commit()
        assert theirs.version == 2

        mine.name = "Lost Update"
        with pytest.raises(StaleDataError):
            first.commit()

    with UnitOfWork(factory) as uow:
        stored = uow.patients.get(patient_id)
        assert stored is not None
        assert (stored.name, stored.version) == ("Changed Elsewhere", 2)


def test_versions_increment_on_each_update(engine: Engine, committed_patient: tuple[int, str]) -> None:
    patient_id, _ = committed_patient
    factory = make_session_factory(engine)
    for expected, name in ((2, "One"), (3, "Two")):
        with UnitOfWork(factory) as uow:
            patient = uow.patients.get(patient_id)
            assert patient is not None
            patient.name = name
            uow.commit()
            assert patient.version == expected
