"""Storage services: record an assessed case, build the worklist, audit both.

Services take a :class:`~vertebro.store.db.UnitOfWork`, write audit entries in the same
transaction as the change or read they describe, and never commit: the caller does. They do
not depend on how the clinical assessment is computed; they receive it as a JSON document plus
the few scalar fields that worklists are queried by.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from vertebro.clinical.assessment import Assessment as ClinicalAssessment
from vertebro.clinical.facts import Case as CaseFacts
from vertebro.clinical.levels import level_index
from vertebro.errors import Conflict, InvalidInput
from vertebro.pathway.handover import fact_handovers, stored_handover
from vertebro.store.db import UnitOfWork
from vertebro.store.fact_sources import new_row
from vertebro.store.models import Assessment, Case, CaseWorkflow, Fracture, Patient

GENANT_GRADES = range(4)


@dataclass(frozen=True, slots=True)
class RecordedCase:
    """Database ids of what :func:`record_case` stored."""

    patient_id: int
    case_id: int
    assessment_id: int
    patient_created: bool


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One case on the worklist with its latest assessment."""

    case_id: int
    patient_id: int
    patient_identifier: str
    patient_name: str | None
    levels: tuple[str, ...]
    treatment: str
    default_profile: str
    default_category: str
    ruleset_version: str
    assessed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case checked and ready to store (what :func:`record_case` writes): see :func:`new_case`."""

    case: CaseFacts
    facts: dict[str, Any]  # case.model_dump(mode="json")
    assessment: dict[str, Any]
    ruleset_version: str
    default_profile: str
    default_category: str
    treatment: str
    grades: dict[str, int | None]
    fact_sources: tuple[str, dict[str, Any]] | None = None  # (via, vertebro-fact-sources/1) of a case read from FHIR
    identifier_system: str | None = None  # a new patient's identifier system (FHIR import: the EHR's MRN system)


def new_case(
    case: CaseFacts,
    *,
    actor: str,
    source: str | None,
    assessment: Mapping[str, Any],
    ruleset_version: str,
    default_profile: str,
    default_category: str,
    treatment: str,
    genant_by_level: Mapping[str, int | None],
    facts: dict[str, Any] | None = None,
    fact_sources: tuple[str, dict[str, Any]] | None = None,
) -> NewCase:
    """Check what :func:`record_case` would store and return it (nothing is written).

    ``facts`` is ``case.model_dump(mode="json")`` when the caller has it already; ``fact_sources`` is where each
    fact of a case read from FHIR came from (``store.fact_sources``, decision 0031). Raises
    :class:`~vertebro.errors.InvalidInput` as :func:`record_case` does.
    """
    if case.patient.identifier is None:
        raise InvalidInput(
            "a patient identifier is required to store a case",
            field="patient.identifier",
        )
    _check_text(actor, "actor", 128)
    _check_text(source, "source", 255, required=False)
    _check_text(ruleset_version, "ruleset_version", 64)
    _check_text(default_profile, "default_profile", 32)
    _check_text(default_category, "default_category", 32)
    _check_text(treatment, "treatment", 64)
    return NewCase(
        case=case,
        facts=case.model_dump(mode="json") if facts is None else facts,
        assessment=_json_document(assessment, "assessment"),
        ruleset_version=ruleset_version,
        default_profile=default_profile,
        default_category=default_category,
        treatment=treatment,
        grades=_genant_grades(case, genant_by_level),
        fact_sources=_checked_sources(fact_sources),
    )


def _checked_sources(fact_sources: tuple[str, dict[str, Any]] | None) -> tuple[str, dict[str, Any]] | None:
    if fact_sources is None:
        return None
    via, document = fact_sources
    try:
        new_row(0, via, document)
    except ValueError as error:
        raise InvalidInput(str(error), field="fact_sources") from None
    return via, _json_document(document, "fact_sources")


def record_case(
    uow: UnitOfWork,
    case: CaseFacts,
    *,
    actor: str,
    source: str | None,
    assessment: Mapping[str, Any],
    ruleset_version: str,
    default_profile: str,
    default_category: str,
    treatment: str,
    genant_by_level: Mapping[str, int | None],
) -> RecordedCase:
    """Store a validated case, its fractures and its assessment, with audit entries.

    The patient is matched on ``case.patient.identifier``: created if new, otherwise its
    name, birth date and sex are updated to the values given (absent values are kept).
    ``assessment`` must be JSON-serialisable; ``genant_by_level`` maps fracture levels of
    this case to a Genant grade 0-3 (or None). Nothing is committed.

    Raises :class:`~vertebro.errors.InvalidInput` when the identifier or the actor is
    missing or an argument is malformed, :class:`~vertebro.errors.Conflict` when a
    concurrent transaction created the same patient first.
    """
    checked = new_case(
        case,
        actor=actor,
        source=source,
        assessment=assessment,
        ruleset_version=ruleset_version,
        default_profile=default_profile,
        default_category=default_category,
        treatment=treatment,
        genant_by_level=genant_by_level,
    )
    return store_case(uow, checked, actor=actor, source=source)


def store_case(uow: UnitOfWork, new: NewCase, *, actor: str, source: str | None) -> RecordedCase:
    """Store a case checked by :func:`new_case` (patient matched or created as in :func:`record_case`)."""
    patient, created, changed = _upsert_patient(uow, new.case, new.identifier_system)
    if created:
        uow.audit.append(**_patient_created(patient.id), actor=actor, source=source)
    elif changed:
        uow.audit.append(
            actor=actor,
            action="update",
            entity_type="patient",
            entity_id=patient.id,
            patient_id=patient.id,
            detail={"fields": changed},
            source=source,
        )
    case_row = uow.cases.add(_case_row(patient.id, new))
    uow.workflows.add(_workflow_row(case_row.id, new))
    _add_fact_sources(uow, case_row.id, new)
    uow.audit.append(**_case_created(patient.id, case_row.id, new), actor=actor, source=source)
    assessment_row = uow.assessments.add(_assessment_row(case_row.id, new))
    uow.audit.append(**_assessment_created(patient.id, assessment_row, new), actor=actor, source=source)
    return RecordedCase(
        patient_id=patient.id,
        case_id=case_row.id,
        assessment_id=assessment_row.id,
        patient_created=created,
    )


def store_new_patients(
    uow: UnitOfWork, patients: Sequence[Sequence[NewCase]], *, actor: str, source: str | None
) -> list[list[RecordedCase]]:
    """Store new patients, each with its cases, in three flushes and one audit INSERT whatever their number.

    Each inner sequence holds the cases of one patient that is not in the database yet; its first case gives
    the patient's fields (the others must not change them). Writes the same rows and audit entries, in the
    same order, as :func:`store_case` case by case. Raises :class:`~vertebro.errors.Conflict` when an
    identifier is taken (roll back the caller's savepoint then). Nothing is committed.
    """
    session = uow.session
    people = [
        Patient(
            identifier=cases[0].case.patient.identifier,
            identifier_system=cases[0].identifier_system,
            name=cases[0].case.patient.name,
            birth_date=cases[0].case.patient.birth_date,
            sex=cases[0].case.patient.sex,
        )
        for cases in patients
    ]
    session.add_all(people)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict("a patient with this identifier already exists", field="patient.identifier") from error
    case_rows = [[_case_row(person.id, new) for new in cases] for person, cases in zip(people, patients, strict=True)]
    session.add_all([row for rows in case_rows for row in rows])
    session.flush()
    assessments: list[list[Assessment]] = []
    for rows, cases in zip(case_rows, patients, strict=True):
        session.add_all([_workflow_row(row.id, new) for row, new in zip(rows, cases, strict=True)])
        assessments.append([_assessment_row(row.id, new) for row, new in zip(rows, cases, strict=True)])
        session.add_all(assessments[-1])
        for row, new in zip(rows, cases, strict=True):
            _add_fact_sources(uow, row.id, new)
    session.flush()
    recorded: list[list[RecordedCase]] = []
    entries: list[dict[str, Any]] = []
    for person, rows, assessed, cases in zip(people, case_rows, assessments, patients, strict=True):
        entries.append(_patient_created(person.id))
        for row, assessment_row, new in zip(rows, assessed, cases, strict=True):
            entries += [_case_created(person.id, row.id, new), _assessment_created(person.id, assessment_row, new)]
        pairs = enumerate(zip(rows, assessed, strict=True))
        recorded.append([RecordedCase(person.id, row.id, a.id, index == 0) for index, (row, a) in pairs])
    uow.audit.append_many(entries, actor=actor, source=source)
    return recorded


def _add_fact_sources(uow: UnitOfWork, case_id: int, new: NewCase) -> None:
    if new.fact_sources is not None:
        uow.session.add(new_row(case_id, *new.fact_sources))


def _case_row(patient_id: int, new: NewCase) -> Case:
    return Case(
        patient_id=patient_id,
        facts=new.facts,
        procedure_date=new.case.procedure_date,
        fractures=[
            Fracture(
                level=fracture.level,
                cause=fracture.cause,
                onset_weeks=fracture.onset_weeks,
                mri_edema=fracture.mri_edema,
                bone_scan_uptake=fracture.bone_scan_uptake,
                height_loss_percent=fracture.height_loss_percent,
                genant_grade=new.grades.get(fracture.level),
            )
            for fracture in new.case.fractures
        ],
    )


def _workflow_row(case_id: int, new: NewCase) -> CaseWorkflow:
    roles, handover = stored_handover(fact_handovers(new.assessment))
    return CaseWorkflow(
        case_id=case_id,
        state="requested",
        treatment=new.treatment,
        default_category=new.default_category,
        default_profile=new.default_profile,
        handover_roles=roles,
        handover=handover,
    )


def _assessment_row(case_id: int, new: NewCase) -> Assessment:
    return Assessment(
        case_id=case_id,
        ruleset_version=new.ruleset_version,
        default_profile=new.default_profile,
        default_category=new.default_category,
        treatment=new.treatment,
        result=new.assessment,
    )


def _patient_created(patient_id: int) -> dict[str, Any]:
    return {"action": "create", "entity_type": "patient", "entity_id": patient_id, "patient_id": patient_id}


def _case_created(patient_id: int, case_id: int, new: NewCase) -> dict[str, Any]:
    return {
        "action": "create",
        "entity_type": "case",
        "entity_id": case_id,
        "patient_id": patient_id,
        "detail": {"fracture_count": len(new.case.fractures)},
    }


def _assessment_created(patient_id: int, assessment: Assessment, new: NewCase) -> dict[str, Any]:
    return {
        "action": "create",
        "entity_type": "assessment",
        "entity_id": assessment.id,
        "patient_id": patient_id,
        "detail": {"case_id": assessment.case_id, "ruleset_version": new.ruleset_version},
    }


def worklist(uow: UnitOfWork, *, actor: str, source: str | None, limit: int | None = None) -> list[WorklistRow]:
    """Return every case with its latest assessment, newest first, and audit the reads.

    One ``read`` audit entry is written per patient shown, listing the cases shown. Nothing
    is committed: the caller commits so that the read is recorded.
    """
    _check_text(actor, "actor", 128)
    _check_text(source, "source", 255, required=False)
    rows: list[WorklistRow] = []
    cases_by_patient: dict[int, list[int]] = {}
    for assessment in uow.assessments.latest_per_case(limit=limit):
        case = assessment.case
        patient = case.patient
        levels = sorted((f.level for f in case.fractures), key=level_index)
        rows.append(
            WorklistRow(
                case_id=case.id,
                patient_id=patient.id,
                patient_identifier=patient.identifier,
                patient_name=patient.name,
                levels=tuple(levels),
                treatment=assessment.treatment,
                default_profile=assessment.default_profile,
                default_category=assessment.default_category,
                ruleset_version=assessment.ruleset_version,
                assessed_at=assessment.created_at,
            )
        )
        cases_by_patient.setdefault(patient.id, []).append(case.id)
    for patient_id, case_ids in cases_by_patient.items():
        uow.audit.append(
            actor=actor,
            action="read",
            entity_type="patient",
            entity_id=patient_id,
            patient_id=patient_id,
            detail={"view": "worklist", "case_ids": case_ids},
            source=source,
        )
    return rows


def _upsert_patient(
    uow: UnitOfWork, case: CaseFacts, identifier_system: str | None = None
) -> tuple[Patient, bool, list[str]]:
    facts = case.patient
    assert facts.identifier is not None
    patient = uow.patients.get_by_identifier(facts.identifier)
    if patient is None:
        patient = uow.patients.add(
            Patient(
                identifier=facts.identifier,
                identifier_system=identifier_system,
                name=facts.name,
                birth_date=facts.birth_date,
                sex=facts.sex,
            )
        )
        return patient, True, []
    changed: list[str] = []
    if facts.name is not None and facts.name != patient.name:
        patient.name = facts.name
        changed.append("name")
    if facts.birth_date is not None and facts.birth_date != patient.birth_date:
        patient.birth_date = facts.birth_date
        changed.append("birth_date")
    if facts.sex != patient.sex:
        patient.sex = facts.sex
        changed.append("sex")
    if changed:
        uow.session.flush()
    return patient, False, changed


def _check_text(value: str | None, field: str, max_length: int, *, required: bool = True) -> None:
    if value is None:
        if required:
            raise InvalidInput("a value is required", field=field)
        return
    if not value.strip():
        raise InvalidInput("must not be blank", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"must be at most {max_length} characters", field=field)


def _json_document(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    try:
        document = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"must be a JSON object: {error}", field=field) from error
    if not isinstance(document, dict):
        raise InvalidInput("must be a JSON object", field=field)
    return document


def _genant_grades(case: CaseFacts, genant_by_level: Mapping[str, int | None]) -> dict[str, int | None]:
    levels = {fracture.level for fracture in case.fractures}
    for level, grade in genant_by_level.items():
        if level not in levels:
            raise InvalidInput(
                f"{level!r} is not a fracture level of this case",
                field="genant_by_level",
            )
        valid = isinstance(grade, int) and not isinstance(grade, bool)
        if grade is not None and not (valid and grade in GENANT_GRADES):
            raise InvalidInput(f"{level}: Genant grade must be 0-3 or None", field="genant_by_level")
    return dict(genant_by_level)


def record_assessment(
    uow: UnitOfWork,
    case: CaseFacts,
    assessment: ClinicalAssessment,
    document: Mapping[str, Any],
    *,
    actor: str,
    source: str | None,
    fact_sources: tuple[str, dict[str, Any]] | None = None,
    identifier_system: str | None = None,
) -> RecordedCase:
    """Record a case with its clinical assessment (``document`` is its JSON form) and, for a case read from FHIR,
    where its facts came from (``fact_sources``: via, document) and the system of a new patient's identifier;
    not committed."""
    checked = assessed_case(case, assessment, document, actor=actor, source=source, fact_sources=fact_sources)
    return store_case(uow, replace(checked, identifier_system=identifier_system), actor=actor, source=source)


def assessed_case(
    case: CaseFacts,
    assessment: ClinicalAssessment,
    document: Mapping[str, Any],
    *,
    actor: str,
    source: str | None,
    facts: dict[str, Any] | None = None,
    fact_sources: tuple[str, dict[str, Any]] | None = None,
) -> NewCase:
    """Check a case with its clinical assessment for storing (:func:`new_case`); nothing is written."""
    default = assessment.default_verdict
    return new_case(
        case,
        actor=actor,
        source=source,
        assessment=document,
        ruleset_version=assessment.ruleset_version,
        default_profile=default.profile,
        default_category=default.category.value,
        treatment=assessment.recommendation.treatment.value,
        genant_by_level={
            f.level: None if f.morphometry is None else f.morphometry.genant_grade for f in assessment.fractures
        },
        facts=facts,
        fact_sources=fact_sources,
    )
