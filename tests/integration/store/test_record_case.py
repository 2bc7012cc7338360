"""Recording an assessed case: round trip, patient upsert and input errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical.facts import Case
from vertebro.errors import Conflict, InvalidInput
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Assessment, AuditEntry, Fracture, Patient
from vertebro.store.models import Case as CaseRow
from vertebro.store.service import RecordedCase

MakeCase = Callable[..., Case]
Record = Callable[..., RecordedCase]


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_case_round_trips_with_fractures_and_assessment(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    case = make_case("MRN-RT", levels=("L1", "T12"))
    result = {"ruleset_version": "test-1", "nested": {"values": [1, 2.5, None, "x"]}}
    with UnitOfWork(session_factory) as uow:
        ids = record(uow, case, assessment=result, genant_by_level={"L1": 2})
        uow.commit()

    with UnitOfWork(session_factory) as uow:
        stored = uow.cases.get_with_fractures(ids.case_id)
        assert stored is not None
        assert Case.model_validate_json(json.dumps(stored.facts)) == case
        assert stored.facts == case.model_dump(mode="json")
        assert stored.procedure_date == dt.date(2026, 12, 1)
        assert stored.version == 1
        assert stored.created_at.tzinfo == dt.UTC
        assert stored.patient.identifier == "MRN-RT"
        assert stored.patient.name == "Ada Example"
        assert stored.patient.birth_date == dt.date(1947, 3, 14)
        assert stored.patient.sex == "female"
        fractures = {f.level: f for f in stored.fractures}
        assert set(fractures) == {"L1", "T12"}
        assert fractures["L1"].cause == "osteoporotic"
        assert fractures["L1"].onset_weeks == 4.0
        assert fractures["L1"].mri_edema is True
        assert fractures["L1"].bone_scan_uptake is None
        assert fractures["L1"].height_loss_percent == 30.0
        assert fractures["L1"].genant_grade == 2
        assert fractures["T12"].genant_grade is None

        [assessment] = uow.assessments.list_for_case(ids.case_id)
        assert assessment.id == ids.assessment_id
        assert assessment.result == result
        assert assessment.ruleset_version == "test-1"
        assert assessment.default_profile == "acr"
        assert assessment.default_category == "appropriate"
        assert assessment.treatment == "vertebroplasty"

        entries = uow.audit.entries(patient_id=ids.patient_id)
        assert [(e.action, e.entity_type) for e in entries] == [
            ("create", "patient"),
            ("create", "case"),
            ("create", "assessment"),
        ]
        assert {e.actor for e in entries} == {"dr.tester"}
        assert {e.source for e in entries} == {"pytest"}
        assert all(e.occurred_at.tzinfo == dt.UTC for e in entries)
        assert entries[1].entity_id == str(ids.case_id)


def test_patient_is_upserted_by_identifier(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    with UnitOfWork(session_factory) as uow:
        first = record(uow, make_case("MRN-UP", name="Ada Example"))
        uow.commit()
    assert first.patient_created

    with UnitOfWork(session_factory) as uow:
        same = record(uow, make_case("MRN-UP", name="Ada Example", birth_date=None))
        renamed = record(uow, make_case("MRN-UP", name="Ada Example-Smith"))
        uow.commit()
    assert not same.patient_created
    assert not renamed.patient_created
    assert same.patient_id == renamed.patient_id == first.patient_id
    assert len({first.case_id, same.case_id, renamed.case_id}) == 3

    with UnitOfWork(session_factory) as uow:
        patient = uow.patients.get_by_identifier("MRN-UP")
        assert patient is not None
        assert patient.name == "Ada Example-Smith"
        assert patient.birth_date == dt.date(1947, 3, 14)
        assert patient.version == 2
        assert _count(uow.session, Patient) == 1
        assert len(uow.cases.list_for_patient(patient.id)) == 3
        updates = uow.audit.entries(patient_id=patient.id, action="update")
        assert [(e.entity_type, e.detail) for e in updates] == [("patient", {"fields": ["name"]})]


def test_missing_identifier_is_a_domain_error_naming_the_field(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput) as caught:
        record(uow, make_case(identifier=None))
    assert caught.value.field == "patient.identifier"
    assert caught.value.status_code == 422
    assert "patient.identifier" in str(caught.value)
    with UnitOfWork(session_factory) as uow:
        for model in (Patient, CaseRow, Fracture, Assessment, AuditEntry):
            assert _count(uow.session, model) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"actor": " "}, "actor"),
        ({"genant_by_level": {"L2": 1}}, "genant_by_level"),
        ({"genant_by_level": {"L1": 4}}, "genant_by_level"),
        ({"assessment": {"when": dt.date(2026, 1, 1)}}, "assessment"),
        ({"assessment": {"score": float("nan")}}, "assessment"),
        ({"treatment": "x" * 65}, "treatment"),
    ],
)
def test_malformed_arguments_are_rejected_before_writing(
    session_factory: sessionmaker[Session],
    make_case: MakeCase,
    record: Record,
    overrides: dict[str, object],
    field: str,
) -> None:
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput) as caught:
        record(uow, make_case("MRN-BAD"), **overrides)
    assert caught.value.field == field
    with UnitOfWork(session_factory) as uow:
        assert _count(uow.session, Patient) == 0
        assert _count(uow.session, AuditEntry) == 0


def test_duplicate_patient_identifier_is_a_conflict(
    session_factory: sessionmaker[Session], make_case: MakeCase, record: Record
) -> None:
    # What a concurrent transaction that inserted the same new patient first would cause.
    with UnitOfWork(session_factory) as uow:
        record(uow, make_case("MRN-TWICE"))
        uow.commit()
    with UnitOfWork(session_factory) as uow, pytest.raises(Conflict) as caught:
        uow.patients.add(Patient(identifier="MRN-TWICE", sex="female"))
    assert caught.value.status_code == 409
    assert caught.value.field == "patient.identifier"
    with UnitOfWork(session_factory) as uow:
        assert _count(uow.session, Patient) == 1
