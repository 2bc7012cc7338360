"""Queries of the FHIR layer: patients by search parameters, whole records in batches (for export), stored
resources and their versions (writes, vread, history) and bulk export jobs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true, update
from sqlalchemy.orm import Session, selectinload

from vertebro.store.models import (
    Assessment,
    AuditEntry,
    Booking,
    Case,
    CaseWorkflow,
    Complication,
    FhirExportJob,
    FhirResource,
    FhirResourceVersion,
    FollowUp,
    Patient,
    ProcedureRecord,
)
from vertebro.store.search import LIKE_ESCAPE, like_literal


@dataclass(frozen=True, slots=True)
class AssessmentVerdicts:
    """What the FHIR layer shows of an assessment: its id and the verdict part of its ``result`` document
    (``ruleset_version``, ``as_of``, ``profiles``; the rest of the document, some 28 kB, is not read)."""

    id: int
    result: dict[str, Any]


@dataclass(slots=True)
class PatientRecord:
    """Everything of one patient that the FHIR layer exports."""

    patient: Patient
    cases: list[Case] = field(default_factory=list)
    assessments: dict[int, AssessmentVerdicts] = field(default_factory=dict)  # latest per case id
    procedures: list[ProcedureRecord] = field(default_factory=list)
    complications: list[Complication] = field(default_factory=list)
    stored: list[FhirResource] = field(default_factory=list)
    workflows: dict[int, CaseWorkflow] = field(default_factory=dict)  # by case id
    bookings: list[Booking] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)


@dataclass(slots=True)
class PatientQuery:
    """A Patient search: each field is an AND list of OR lists (FHIR's repeated parameters and comma lists).

    ``identifiers`` are ``(system, value)`` pairs (system None: any system; "": no system, which none of our
    Patients has, as a Patient without one recorded is answered with vertebro's own; value "": any value);
    ``names`` are ``(text, exact)``; ``births`` are ``(at_least, before, negate)`` day bounds.
    """

    ids: list[list[int]] = field(default_factory=list)
    identifiers: list[list[tuple[str | None, str]]] = field(default_factory=list)
    names: list[list[tuple[str, bool]]] = field(default_factory=list)
    genders: list[list[str]] = field(default_factory=list)
    births: list[list[tuple[dt.date | None, dt.date | None, bool]]] = field(default_factory=list)


class FhirRepository:
    """Read queries for FHIR reads, searches and bulk export (never writes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search_patients(
        self,
        *,
        identifier: str | None = None,
        name: str | None = None,
        birthdate: dt.date | None = None,
        since: dt.datetime | None = None,
        ids: list[int] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Patient]:
        """Return patients matching every given parameter, by id, after ``after_id`` (keyset paging).

        ``name`` matches the start of any word of the name, case-insensitively; ``since`` keeps patients
        with a patient, case or assessment row created at or after it.
        """
        statement = select(Patient).where(Patient.id > after_id).order_by(Patient.id).limit(limit)
        if identifier is not None:
            statement = statement.where(Patient.identifier == identifier)
        if name is not None:
            lowered = func.lower(Patient.name)
            needle = like_literal(name.lower())
            statement = statement.where(
                or_(lowered.like(f"{needle}%", escape=LIKE_ESCAPE), lowered.like(f"% {needle}%", escape=LIKE_ESCAPE))
            )
        if birthdate is not None:
            statement = statement.where(Patient.birth_date == birthdate)
        if ids is not None:
            statement = statement.where(Patient.id.in_(ids))
        if since is not None:
            changed_case = exists().where(
                Case.patient_id == Patient.id,
                or_(
                    Case.created_at >= since,
                    exists().where(Assessment.case_id == Case.id, Assessment.created_at >= since),
                ),
            )
            changed_stored = exists().where(FhirResource.patient_id == Patient.id, FhirResource.last_updated >= since)
            statement = statement.where(or_(Patient.created_at >= since, changed_case, changed_stored))
        return list(self.session.scalars(statement))

    def _matching(self, query: PatientQuery, own_system: str) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        for ids in query.ids:
            conditions.append(Patient.id.in_(ids))
        for identifiers in query.identifiers:
            either = []
            for identifier_system, value in identifiers:
                same_value = Patient.identifier == value if value else true()  # system|: any value of it
                if identifier_system is None:
                    either.append(same_value)
                elif not identifier_system:  # |value: no system, which no Patient we answer with has
                    either.append(false())
                elif identifier_system == own_system:
                    either.append(and_(same_value, Patient.identifier_system.is_(None)))
                else:
                    either.append(and_(same_value, Patient.identifier_system == identifier_system))
            conditions.append(or_(*either))
        for names in query.names:
            either = []
            for text, exact in names:
                if exact:
                    either.append(Patient.name == text)
                    continue
                lowered, needle = func.lower(Patient.name), like_literal(text.lower())
                either.append(lowered.like(f"{needle}%", escape=LIKE_ESCAPE))
                either.append(lowered.like(f"% {needle}%", escape=LIKE_ESCAPE))
            conditions.append(or_(*either))
        for genders in query.genders:
            conditions.append(Patient.sex.in_(genders))
        for births in query.births:
            either = []
            for at_least, before, negate in births:
                parts: list[ColumnElement[bool]] = [Patient.birth_date.is_not(None)]
                if at_least is not None:
                    parts.append(Patient.birth_date >= at_least)
                if before is not None:
                    parts.append(Patient.birth_date < before)
                window = and_(*parts)
                either.append(and_(Patient.birth_date.is_not(None), not_(window)) if negate else window)
            conditions.append(or_(*either))
        return conditions

    def find_patients(
        self, query: PatientQuery, *, own_system: str, after_id: int = 0, limit: int = 100
    ) -> list[Patient]:
        """Return the patients a search matches, by id, after ``after_id`` (keyset paging)."""
        statement = select(Patient).where(Patient.id > after_id, *self._matching(query, own_system))
        return list(self.session.scalars(statement.order_by(Patient.id).limit(limit)))

    def count_matching(self, query: PatientQuery, *, own_system: str) -> int:
        """Return how many patients a search matches."""
        statement = select(func.count()).select_from(Patient).where(*self._matching(query, own_system))
        return int(self.session.scalar(statement) or 0)

    def records(self, patients: list[Patient]) -> list[PatientRecord]:
        """Return the whole records of these patients with eight queries, whatever their number."""
        by_id = {p.id: PatientRecord(p) for p in patients}
        if not by_id:
            return []
        stored = self.session.scalars(
            select(FhirResource)
            .where(FhirResource.patient_id.in_(list(by_id)))
            .order_by(FhirResource.resource_type, FhirResource.resource_id)
        )
        for resource in stored:
            by_id[resource.patient_id].stored.append(resource)
        cases = self.session.scalars(
            select(Case).where(Case.patient_id.in_(list(by_id))).options(selectinload(Case.fractures)).order_by(Case.id)
        )
        patient_of: dict[int, int] = {}
        for case in cases:
            by_id[case.patient_id].cases.append(case)
            patient_of[case.id] = case.patient_id
        if patient_of:
            case_ids = list(patient_of)
            newest = (
                select(Assessment.case_id, func.max(Assessment.id).label("id"))
                .where(Assessment.case_id.in_(case_ids))
                .group_by(Assessment.case_id)
                .subquery()
            )
            parts = ("ruleset_version", "as_of", "profiles")
            verdicts = select(Assessment.id, Assessment.case_id, *(Assessment.result[p] for p in parts))
            for assessment_id, case_id, *values in self.session.execute(
                verdicts.join(newest, newest.c.id == Assessment.id)
            ):
                result = dict(zip(parts, values, strict=True))
                by_id[patient_of[case_id]].assessments[case_id] = AssessmentVerdicts(assessment_id, result)
            procedures = self.session.scalars(
                select(ProcedureRecord)
                .where(ProcedureRecord.case_id.in_(case_ids))
                .options(selectinload(ProcedureRecord.levels))
                .order_by(ProcedureRecord.id)
            )
            for procedure in procedures:
                by_id[patient_of[procedure.case_id]].procedures.append(procedure)
            complications = self.session.scalars(
                select(Complication).where(Complication.case_id.in_(case_ids)).order_by(Complication.id)
            )
            grouped: dict[int, list[Complication]] = defaultdict(list)
            for complication in complications:
                grouped[patient_of[complication.case_id]].append(complication)
            for patient_id, items in grouped.items():
                by_id[patient_id].complications = items
            self._workflow_records(by_id, patient_of)
        return list(by_id.values())

    def _workflow_records(self, by_id: dict[int, PatientRecord], patient_of: dict[int, int]) -> None:
        case_ids = list(patient_of)
        for workflow in self.session.scalars(select(CaseWorkflow).where(CaseWorkflow.case_id.in_(case_ids))):
            by_id[patient_of[workflow.case_id]].workflows[workflow.case_id] = workflow
        bookings = select(Booking).where(Booking.case_id.in_(case_ids)).order_by(Booking.id)
        for booking in self.session.scalars(bookings):
            by_id[patient_of[booking.case_id]].bookings.append(booking)
        follow_ups = select(FollowUp).where(FollowUp.case_id.in_(case_ids)).order_by(FollowUp.id)
        for follow_up in self.session.scalars(follow_ups):
            by_id[patient_of[follow_up.case_id]].follow_ups.append(follow_up)

    def patient_of_case(self, case_id: int) -> int | None:
        """Return the patient id of a case, or None."""
        return self.session.scalar(select(Case.patient_id).where(Case.id == case_id))

    def patient_of_assessment(self, assessment_id: int) -> int | None:
        """Return the patient id of an assessment, or None."""
        statement = select(Case.patient_id).join(Assessment, Assessment.case_id == Case.id)
        return self.session.scalar(statement.where(Assessment.id == assessment_id))

    def patient_of_procedure(self, procedure_id: int) -> int | None:
        """Return the patient id of a procedure record, or None."""
        statement = select(Case.patient_id).join(ProcedureRecord, ProcedureRecord.case_id == Case.id)
        return self.session.scalar(statement.where(ProcedureRecord.id == procedure_id))

    def patient_of_complication(self, complication_id: int) -> int | None:
        """Return the patient id of a complication, or None."""
        statement = select(Case.patient_id).join(Complication, Complication.case_id == Case.id)
        return self.session.scalar(statement.where(Complication.id == complication_id))

    def patient_of_booking(self, booking_id: int) -> int | None:
        """Return the patient id of a booking, or None."""
        statement = select(Case.patient_id).join(Booking, Booking.case_id == Case.id)
        return self.session.scalar(statement.where(Booking.id == booking_id))

    def patient_of_follow_up(self, follow_up_id: int) -> int | None:
        """Return the patient id of a follow-up, or None."""
        statement = select(Case.patient_id).join(FollowUp, FollowUp.case_id == Case.id)
        return self.session.scalar(statement.where(FollowUp.id == follow_up_id))

    def patient_of_audit_entry(self, entry_id: int) -> int | None:
        """Return the patient id an audit entry is about, or None."""
        return self.session.scalar(select(AuditEntry.patient_id).where(AuditEntry.id == entry_id))

    def audit_entries(self, patient_id: int, *, ids: list[int] | None = None, limit: int = 500) -> list[AuditEntry]:
        """Return the newest audit entries about one patient (those of ``ids`` when given)."""
        statement = select(AuditEntry).where(AuditEntry.patient_id == patient_id)
        if ids is not None:
            statement = statement.where(AuditEntry.id.in_(ids))
        return list(self.session.scalars(statement.order_by(AuditEntry.id.desc()).limit(limit)))

    def facts_of_patient(self, patient_id: int) -> list[dict[str, Any]]:
        """Return the stored facts documents of a patient's cases, oldest first."""
        statement = select(Case.facts).where(Case.patient_id == patient_id).order_by(Case.id)
        return list(self.session.scalars(statement))

    def patient_ids_in_state(self, state: str) -> list[int]:
        """Return the ids of patients with a case in this workflow state (the members of a Group)."""
        statement = (
            select(Case.patient_id)
            .join(CaseWorkflow, CaseWorkflow.case_id == Case.id)
            .where(CaseWorkflow.state == state)
            .distinct()
        )
        return sorted(self.session.scalars(statement))

    def count_patients(self, ids: list[int] | None = None) -> int:
        """Return how many patients there are (of ``ids`` when given)."""
        statement = select(func.count()).select_from(Patient)
        if ids is not None:
            statement = statement.where(Patient.id.in_(ids))
        return int(self.session.scalar(statement) or 0)

    # --- writes: stored resources and versions -------------------------------------------------------

    def take_write_lock(self) -> None:
        """Start a write transaction the way both databases serialise it.

        SQLite has no row locks: the first statement of the transaction must be a write, so that it waits
        for (instead of deadlocking with) another writer. PostgreSQL needs nothing here: rows are locked
        with ``SELECT ... FOR UPDATE`` as they are read.
        """
        if self.session.get_bind().dialect.name == "sqlite":
            self.session.execute(update(FhirExportJob).where(FhirExportJob.id == "").values(status="queued"))

    def locked_patient(self, patient_id: int) -> Patient | None:
        """Return a patient with its row locked until the transaction ends (fresh from the database)."""
        statement = select(Patient).where(Patient.id == patient_id).with_for_update()
        return self.session.scalars(statement.execution_options(populate_existing=True)).first()

    def locked_stored(self, resource_type: str, resource_id: str) -> FhirResource | None:
        """Return a stored resource with its row locked until the transaction ends (fresh from the database)."""
        statement = (
            select(FhirResource)
            .where(FhirResource.resource_type == resource_type, FhirResource.resource_id == resource_id)
            .with_for_update()
        )
        return self.session.scalars(statement.execution_options(populate_existing=True)).first()

    def stored(self, resource_type: str, resource_id: str) -> FhirResource | None:
        """Return a stored resource (current version), or None."""
        return self.session.get(FhirResource, (resource_type, resource_id))

    def add_stored(self, resource: FhirResource) -> None:
        """Add a stored resource (the caller adds its first version)."""
        self.session.add(resource)
        self.session.flush()

    def add_version(self, version: FhirResourceVersion) -> None:
        """Append one version of a resource."""
        self.session.add(version)
        self.session.flush()

    def version(self, resource_type: str, resource_id: str, version_id: int) -> FhirResourceVersion | None:
        """Return one version of a resource, or None."""
        return self.session.get(FhirResourceVersion, (resource_type, resource_id, version_id))

    def versions(self, resource_type: str, resource_id: str) -> list[FhirResourceVersion]:
        """Return every stored version of one resource, newest first."""
        statement = (
            select(FhirResourceVersion)
            .where(FhirResourceVersion.resource_type == resource_type, FhirResourceVersion.resource_id == resource_id)
            .order_by(FhirResourceVersion.version_id.desc())
        )
        return list(self.session.scalars(statement))

    def type_history(
        self,
        resource_type: str | None,
        *,
        since: dt.datetime | None,
        patient_id: int | None,
        limit: int,
        offset: int = 0,
    ) -> list[FhirResourceVersion]:
        """Return the newest ``limit`` versions of every resource of one type (every type when None; of one
        patient when given), after skipping the newest ``offset`` (paging)."""
        statement = select(FhirResourceVersion)
        if resource_type is not None:
            statement = statement.where(FhirResourceVersion.resource_type == resource_type)
        if since is not None:
            statement = statement.where(FhirResourceVersion.last_updated >= since)
        if patient_id is not None:
            statement = statement.where(FhirResourceVersion.patient_id == patient_id)
        order = (FhirResourceVersion.last_updated.desc(), FhirResourceVersion.version_id.desc())
        return list(self.session.scalars(statement.order_by(*order).offset(offset).limit(limit)))

    def stored_contents_of_patient(self, patient_id: int, resource_type: str) -> list[dict[str, Any]]:
        """Return the contents of a patient's stored resources of one type."""
        statement = select(FhirResource.content).where(
            FhirResource.patient_id == patient_id, FhirResource.resource_type == resource_type
        )
        return list(self.session.scalars(statement))

    # --- bulk export jobs ----------------------------------------------------------------------------

    def add_job(self, job: FhirExportJob) -> None:
        """Add an export job."""
        self.session.add(job)
        self.session.flush()

    def job(self, job_id: str) -> FhirExportJob | None:
        """Return an export job (fresh from the database), or None."""
        statement = select(FhirExportJob).where(FhirExportJob.id == job_id)
        return self.session.scalars(statement.execution_options(populate_existing=True)).first()

    def delete_job(self, job: FhirExportJob) -> None:
        """Delete an export job."""
        self.session.delete(job)
        self.session.flush()
