"""Where a case came from (the worklist's Source column): FHIR imports, portal requests, staff referrals."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.fhir.test_import import _bundle
from tests.unit.fhir.test_case_mapping import DEMO
from vertebro.clinical.facts import Case
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.intake.fhir_bundle import case_from_resources
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Case as CaseRow
from vertebro.store.models import CaseWorkflow, Patient
from vertebro.store.service import RecordedCase


def _channels(uow: UnitOfWork, identifier: str) -> list[str]:
    statement = (
        select(CaseWorkflow.channel)
        .join(CaseRow, CaseRow.id == CaseWorkflow.case_id)
        .join(Patient, Patient.id == CaseRow.patient_id)
        .where(Patient.identifier == identifier)
    )
    return list(uow.session.scalars(statement))


def test_imported_cases_are_fhir_and_recorded_cases_are_staff(
    session_factory: sessionmaker[Session], make_case: Callable[..., Case], record: Callable[..., RecordedCase]
) -> None:
    with UnitOfWork(session_factory) as uow:
        import_resources(
            uow, list(bundle_entries(_bundle(DEMO[0], "CH-FHIR"))), reader=case_from_resources, actor="t", source="t"
        )
        record(uow, make_case("CH-STAFF"))
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        fhir = _channels(uow, "CH-FHIR")
        assert fhir
        assert set(fhir) == {"fhir"}
        assert _channels(uow, "CH-STAFF") == ["staff"]


def test_the_default_profile_is_kept_beside_its_verdict(
    session_factory: sessionmaker[Session], make_case: Callable[..., Case], record: Callable[..., RecordedCase]
) -> None:
    with UnitOfWork(session_factory) as uow:
        recorded = record(uow, make_case("CH-PROFILE"))
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(recorded.case_id)
        assert workflow is not None
        assert workflow.default_profile is not None
        assessment = uow.workflows.latest_assessment(recorded.case_id)
        assert assessment is not None
        assert workflow.default_profile == assessment.default_profile
