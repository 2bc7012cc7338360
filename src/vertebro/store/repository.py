"""Repositories: every database query of the application lives in this module.

Repositories add objects and flush when an id is needed; they never commit. Relationships are
``lazy="raise"``, so each query states what it loads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from vertebro.errors import Conflict
from vertebro.metrics import AUDIT_WRITE_FAILURES
from vertebro.store.base import utc_now
from vertebro.store.context import current_request_id
from vertebro.store.models import Assessment, AuditEntry, Case, CaseFactSources, Patient


class PatientRepository:
    """Queries on ``patients``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, patient_id: int) -> Patient | None:
        """Return the patient with this database id, or None."""
        return self.session.get(Patient, patient_id)

    def get_by_identifier(self, identifier: str) -> Patient | None:
        """Return the patient with this clinic identifier, or None."""
        statement = select(Patient).where(Patient.identifier == identifier)
        return self.session.scalars(statement).one_or_none()

    def identifiers_taken(self, identifiers: list[str]) -> set[str]:
        """Return which of these clinic identifiers are already patients'."""
        statement = select(Patient.identifier).where(Patient.identifier.in_(identifiers))
        return set(self.session.scalars(statement))

    def add(self, patient: Patient) -> Patient:
        """Insert a patient and flush to assign its id.

        Raises :class:`~vertebro.errors.Conflict` if the identifier is already taken, e.g.
        by a concurrent transaction that inserted the same patient first.
        """
        self.session.add(patient)
        try:
            self.session.flush()
        except IntegrityError as error:
            raise Conflict(
                "a patient with this identifier already exists",
                field="patient.identifier",
            ) from error
        return patient


class CaseRepository:
    """Queries on ``cases`` and their ``fractures``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case: Case) -> Case:
        """Insert a case with its fractures and flush to assign ids."""
        self.session.add(case)
        self.session.flush()
        return case

    def get_with_fractures(self, case_id: int) -> Case | None:
        """Return a case with its patient and fractures loaded, or None."""
        statement = (
            select(Case).where(Case.id == case_id).options(joinedload(Case.patient), selectinload(Case.fractures))
        )
        return self.session.scalars(statement).one_or_none()

    def fact_sources(self, case_ids: list[int]) -> dict[int, CaseFactSources]:
        """Return the stored FHIR fact sources of these cases, by case id (cases not read from FHIR have none)."""
        if not case_ids:
            return {}
        rows = self.session.scalars(select(CaseFactSources).where(CaseFactSources.case_id.in_(case_ids)))
        return {row.case_id: row for row in rows}

    def list_for_patient(self, patient_id: int) -> list[Case]:
        """Return a patient's cases, oldest first, with fractures loaded."""
        statement = (
            select(Case)
            .where(Case.patient_id == patient_id)
            .options(selectinload(Case.fractures))
            .order_by(Case.created_at, Case.id)
        )
        return list(self.session.scalars(statement))


class AssessmentRepository:
    """Queries on ``assessments``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, assessment: Assessment) -> Assessment:
        """Insert an assessment and flush to assign its id."""
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def list_for_case(self, case_id: int) -> list[Assessment]:
        """Return every assessment of a case, oldest first."""
        statement = (
            select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.created_at, Assessment.id)
        )
        return list(self.session.scalars(statement))

    def latest_per_case(self, *, limit: int | None = None) -> list[Assessment]:
        """Return the most recent assessment of every case, newest first.

        Each assessment comes with its case, the case's patient and fractures loaded.
        """
        rank = (
            func.row_number()
            .over(
                partition_by=Assessment.case_id,
                order_by=(Assessment.created_at.desc(), Assessment.id.desc()),
            )
            .label("rank")
        )
        ranked = select(Assessment.id, rank).subquery()
        statement = (
            select(Assessment)
            .join(ranked, ranked.c.id == Assessment.id)
            .where(ranked.c.rank == 1)
            .options(
                joinedload(Assessment.case).joinedload(Case.patient),
                joinedload(Assessment.case).selectinload(Case.fractures),
            )
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))


AUDIT_TABLE = cast(Table, AuditEntry.__table__)  # Core table: an INSERT without the ORM's flush and RETURNING


def _audit_row(
    when: dt.datetime,
    actor: str,
    source: str | None,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    patient_id: int | None,
    detail: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "occurred_at": when,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "patient_id": patient_id,
        "detail": dict(detail or {}),
        "source": source,
        "request_id": current_request_id(),
    }


class AuditRepository:
    """Appends to and reads the append-only ``audit_log``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        *,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: int | str | None,
        patient_id: int | None = None,
        detail: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """Write an audit entry in the current transaction (it commits or rolls back with the change).

        One Core INSERT without RETURNING: nothing reads the entry back, so the ORM's unit of work
        (identity map, flush, returned id) would only add cost to every audited request.
        """
        row = _audit_row(utc_now(), actor, source, action, entity_type, entity_id, patient_id, detail)
        self._insert(row)

    def append_many(self, entries: Sequence[Mapping[str, Any]], *, actor: str, source: str | None) -> None:
        """Write several entries in this order (one executemany); each holds :meth:`append`'s ``action``,
        ``entity_type``, ``entity_id`` and optionally ``patient_id`` and ``detail``."""
        if not entries:
            return
        now = utc_now()
        rows = [
            _audit_row(
                now,
                actor,
                source,
                entry["action"],
                entry["entity_type"],
                entry["entity_id"],
                entry.get("patient_id"),
                entry.get("detail"),
            )
            for entry in entries
        ]
        self._insert(rows)

    def append_reads(self, *, actor: str, patient_ids: list[int], detail: dict[str, Any], source: str | None) -> None:
        """Write one ``read`` entry per patient shown (one pipelined executemany, in the current transaction)."""
        if not patient_ids:
            return
        now = utc_now()
        rows = [_audit_row(now, actor, source, "read", "patient", pid, pid, detail) for pid in patient_ids]
        self._insert(rows)  # Core executemany: no ORM bulk-insert machinery

    def _insert(self, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        try:
            self.session.execute(insert(AUDIT_TABLE), rows)
        except Exception:
            AUDIT_WRITE_FAILURES.inc()  # the request fails with it; operators alert on the counter
            raise

    def timeline(self, patient_id: int, *, limit: int = 200) -> list[AuditEntry]:
        """Return what happened to a patient's record (every change, decision, booking), newest first.

        Reads are left out here: they are in the full audit log, which can be long for a busy record.
        """
        statement = (
            select(AuditEntry)
            .where(AuditEntry.patient_id == patient_id, AuditEntry.action != "read")
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def entries(
        self,
        *,
        patient_id: int | None = None,
        entity_type: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[AuditEntry]:
        """Return audit entries in the order they were written, optionally filtered.

        With ``latest`` and ``limit``, the newest ``limit`` entries (still in written order).
        """
        statement = select(AuditEntry).order_by(AuditEntry.id.desc() if latest else AuditEntry.id)
        if patient_id is not None:
            statement = statement.where(AuditEntry.patient_id == patient_id)
        if entity_type is not None:
            statement = statement.where(AuditEntry.entity_type == entity_type)
        if action is not None:
            statement = statement.where(AuditEntry.action == action)
        if actor is not None:
            statement = statement.where(AuditEntry.actor == actor)
        rows = list(self.session.scalars(statement.limit(limit)))
        return rows[::-1] if latest else rows
