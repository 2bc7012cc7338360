"""Queries of the FHIR layer: patients by search parameters and whole records in batches (for export)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from vertebro.store.models import Assessment, Case, Complication, Patient, ProcedureRecord


@dataclass(slots=True)
class PatientRecord:
    """Everything of one patient that the FHIR layer exports."""

    patient: Patient
    cases: list[Case] = field(default_factory=list)
    assessments: dict[int, Assessment] = field(default_factory=dict)  # latest per case id
    procedures: list[ProcedureRecord] = field(default_factory=list)
    complications: list[Complication] = field(default_factory=list)


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
            needle = name.lower()
            statement = statement.where(or_(lowered.like(f"{needle}%"), lowered.like(f"% {needle}%")))
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
            statement = statement.where(or_(Patient.created_at >= since, changed_case))
        return list(self.session.scalars(statement))

    def records(self, patients: list[Patient]) -> list[PatientRecord]:
        """Return the whole records of these patients with four queries, whatever their number."""
        by_id = {p.id: PatientRecord(p) for p in patients}
        if not by_id:
            return []
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
            for assessment in self.session.scalars(select(Assessment).join(newest, newest.c.id == Assessment.id)):
                by_id[patient_of[assessment.case_id]].assessments[assessment.case_id] = assessment
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
        return list(by_id.values())

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

    def facts_of_patient(self, patient_id: int) -> list[dict[str, Any]]:
        """Return the stored facts documents of a patient's cases, oldest first."""
        statement = select(Case.facts).where(Case.patient_id == patient_id).order_by(Case.id)
        return list(self.session.scalars(statement))
