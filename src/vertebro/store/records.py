"""Reading one patient's record (for personal documents and views), audited in the same transaction.

Like every service, nothing here commits: the boundary commits, so that the read is recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from vertebro.errors import InvalidInput, NotFound
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Case, Patient


@dataclass(frozen=True, slots=True)
class StoredAssessment:
    """The scalar facts of a stored assessment (its JSON document is not needed to re-assess)."""

    id: int
    ruleset_version: str
    treatment: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RecordedLevel:
    """One treated level as recorded in the procedure record."""

    level: str
    approach: str
    guidance: str
    cement_product: str
    cement_volume_ml: float
    leakage: str
    leakage_symptomatic: bool
    leaks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignedProcedure:
    """A signed procedure record, detached from the database: what documents say was done."""

    operator: str
    signed_by: str
    signed_at: dt.datetime
    started_at: dt.datetime
    sedation: bool
    levels: tuple[RecordedLevel, ...]
    complications: tuple[str, ...]
    notes: str | None
    technique: str = "vertebroplasty"
    ended_at: dt.datetime | None = None
    fluoroscopy_minutes: float | None = None
    dap_gy_cm2: float | None = None
    air_kerma_mgy: float | None = None
    ctdivol_mgy: float | None = None
    dlp_mgy_cm: float | None = None
    date_change_reason: str | None = None


def signed_procedure(uow: UnitOfWork, case_id: int) -> SignedProcedure | None:
    """Return the case's signed procedure record, or None when there is none (or it is unsigned)."""
    record = uow.records.procedure(case_id)
    if record is None or record.signed_at is None or record.signed_by is None:
        return None
    return SignedProcedure(
        operator=record.operator,
        signed_by=record.signed_by,
        signed_at=record.signed_at,
        started_at=record.started_at,
        sedation=record.sedation,
        levels=tuple(
            RecordedLevel(
                lv.level,
                lv.approach,
                lv.guidance,
                lv.cement_product or "",  # a signed record has both (signing requires them)
                lv.cement_volume_ml or 0.0,
                lv.leakage,
                lv.leakage_symptomatic,
                tuple(lv.leaks) if lv.leaks is not None else (() if lv.leakage == "none" else (lv.leakage,)),
            )
            for lv in record.levels
        ),
        complications=tuple(str(c) for c in record.complications),
        notes=record.notes,
        technique=record.technique,
        ended_at=record.ended_at,
        fluoroscopy_minutes=record.fluoroscopy_minutes,
        dap_gy_cm2=record.dap_gy_cm2,
        air_kerma_mgy=record.air_kerma_mgy,
        ctdivol_mgy=record.ctdivol_mgy,
        dlp_mgy_cm=record.dlp_mgy_cm,
        date_change_reason=record.date_change_reason,
    )


def discharge_override(uow: UnitOfWork, case_id: int) -> tuple[str, str, tuple[str, ...]] | None:
    """Return (reason, radiologist, what was overridden) when the case was discharged despite monitoring checks."""
    discharge = uow.records.discharge(case_id)
    if discharge is None or not discharge.override_reason or not discharge.override_by:
        return None
    return discharge.override_reason, discharge.override_by, tuple(str(c) for c in discharge.overridden or ())


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A patient's latest case: the validated facts as stored, and its latest assessment."""

    patient_id: int
    identifier: str
    name: str | None
    birth_date: dt.date | None
    case_id: int
    facts: dict[str, Any]
    latest_assessment: StoredAssessment | None
    procedure: SignedProcedure | None = None
    discharge_override: tuple[str, str, tuple[str, ...]] | None = None


def latest_case_record(
    uow: UnitOfWork,
    identifier: str,
    *,
    actor: str,
    source: str | None,
    view: str,
    detail: dict[str, Any] | None = None,
) -> PatientRecord:
    """Return the latest case of the patient with clinic identifier ``identifier`` and audit the read.

    One ``read`` audit entry (entity ``patient``) names the view and the case read. Raises
    :class:`~vertebro.errors.NotFound` for an unknown patient or a patient without a case (nothing
    was read, nothing is audited) and :class:`~vertebro.errors.InvalidInput` for a blank actor.
    """
    if not actor.strip():
        raise InvalidInput("a value is required", field="actor")
    patient = uow.patients.get_by_identifier(identifier)
    if patient is None:
        raise NotFound(f"no patient with identifier {identifier!r}", field="patient_id")
    cases = uow.cases.list_for_patient(patient.id)
    if not cases:
        raise NotFound(f"patient {identifier!r} has no stored case", field="patient_id")
    return _record(uow, patient, cases[-1], actor=actor, source=source, view=view, detail=detail)


def _record(
    uow: UnitOfWork,
    patient: Patient,
    case: Case,
    *,
    actor: str,
    source: str | None,
    view: str,
    detail: dict[str, Any] | None,
    patient_actor: bool = False,
) -> PatientRecord:
    assessments = uow.assessments.list_for_case(case.id)
    latest = assessments[-1] if assessments else None
    uow.audit.append(
        actor=actor,
        action="read",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"view": view, "case_id": case.id, **({"role": "patient"} if patient_actor else {}), **(detail or {})},
        source=source,
    )
    return PatientRecord(
        patient_id=patient.id,
        identifier=patient.identifier,
        name=patient.name,
        birth_date=patient.birth_date,
        case_id=case.id,
        facts=dict(case.facts),
        latest_assessment=None
        if latest is None
        else StoredAssessment(latest.id, latest.ruleset_version, latest.treatment, latest.created_at),
    )


def own_case_record(
    uow: UnitOfWork, patient_id: int, case_id: int, *, actor: str, source: str | None, view: str, detail: dict[str, Any]
) -> PatientRecord:
    """Return one case of patient ``patient_id`` (the signed-in patient) and audit the read with them as actor.

    A case of another patient raises :class:`~vertebro.errors.NotFound`, as a missing one does.
    """
    case = uow.cases.get_with_fractures(case_id)
    if case is None or case.patient_id != patient_id:
        raise NotFound(f"you have no case {case_id}", field="case_id")
    return _record(uow, case.patient, case, actor=actor, source=source, view=view, detail=detail, patient_actor=True)
