"""FHIR reads and searches over our records; every patient whose data is returned gets a read audit entry.

Services take the unit of work and the actor and never commit: the endpoint or command does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from vertebro.errors import InvalidInput, NotFound
from vertebro.fhir.elements import Resource
from vertebro.fhir.patient import patient_resource
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow import Actor

PATIENT_DATA_TYPES = (
    "Condition",
    "Observation",
    "MedicationStatement",
    "AllergyIntolerance",
    "GuidanceResponse",
    "Procedure",
    "AdverseEvent",
)
RESOURCE_TYPES = ("Patient", *PATIENT_DATA_TYPES)
MAX_COUNT = 500

_ID_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^c(\d+)-"), "case"),
    (re.compile(r"^a(\d+)-"), "assessment"),
    (re.compile(r"^p(\d+)-"), "procedure"),
    (re.compile(r"^x(\d+)$"), "complication"),
)


def _audit(uow: UnitOfWork, actor: Actor, patient_ids: list[int], interaction: str) -> None:
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted(set(patient_ids)),
        detail={"via": "fhir", "interaction": interaction},
        source=actor.source,
    )


def _patient_owner(repository: FhirRepository, resource_type: str, resource_id: str) -> int | None:
    if resource_type == "Patient":
        return int(resource_id) if resource_id.isdigit() else None
    for pattern, kind in _ID_PATTERNS:
        match = pattern.match(resource_id)
        if match:
            lookups: dict[str, Callable[[int], int | None]] = {
                "case": repository.patient_of_case,
                "assessment": repository.patient_of_assessment,
                "procedure": repository.patient_of_procedure,
                "complication": repository.patient_of_complication,
            }
            return lookups[kind](int(match.group(1)))
    return None


def check_type(resource_type: str) -> None:
    """Raise NotFound when vertebro does not serve this resource type."""
    if resource_type not in RESOURCE_TYPES:
        raise NotFound(
            f"resource type {resource_type!r} is not supported here (supported: {', '.join(RESOURCE_TYPES)})",
            field="type",
        )


def patient_record(uow: UnitOfWork, actor: Actor, patient_id: int, *, interaction: str) -> list[Resource]:
    """Return every resource of one patient's record (Patient first) and audit the read."""
    repository = FhirRepository(uow.session)
    patients = repository.search_patients(ids=[patient_id], limit=1)
    if not patients:
        raise NotFound(f"Patient/{patient_id} does not exist", field="id")
    _audit(uow, actor, [patient_id], interaction)
    return record_resources(repository.records(patients)[0])


def read(uow: UnitOfWork, actor: Actor, resource_type: str, resource_id: str) -> Resource:
    """Return the current version of one resource; raise NotFound naming it when it does not exist."""
    check_type(resource_type)
    owner = _patient_owner(FhirRepository(uow.session), resource_type, resource_id)
    missing = NotFound(f"{resource_type}/{resource_id} does not exist", field="id")
    if owner is None:
        raise missing
    try:
        resources = patient_record(uow, actor, owner, interaction="read")
    except NotFound:
        raise missing from None
    for resource in resources:
        if resource["resourceType"] == resource_type and resource["id"] == resource_id:
            return resource
    raise missing


def search_patients(
    uow: UnitOfWork,
    actor: Actor,
    *,
    identifier: str | None,
    name: str | None,
    birthdate: str | None,
    count: int,
    after_id: int,
) -> tuple[list[Resource], int | None]:
    """Return matching Patients (a page of ``count``) and the id to continue after, or None on the last page."""
    born = _date(birthdate, "birthdate") if birthdate else None
    if identifier and "|" in identifier:
        identifier = identifier.split("|", 1)[1]
    patients = FhirRepository(uow.session).search_patients(
        identifier=identifier, name=name, birthdate=born, after_id=after_id, limit=count + 1
    )
    more = len(patients) > count
    patients = patients[:count]
    _audit(uow, actor, [p.id for p in patients], "search-type")
    return [patient_resource(p) for p in patients], (patients[-1].id if more and patients else None)


def search(
    uow: UnitOfWork,
    actor: Actor,
    resource_type: str,
    *,
    patient: str | None,
    code: str | None,
    status: str | None,
    date: str | None,
) -> list[Resource]:
    """Return a patient's resources of one type filtered by code (``[system|]code``), status and date prefix.

    The ``patient`` parameter is required: vertebro does not search across every patient's clinical data.
    """
    check_type(resource_type)
    if not patient:
        raise InvalidInput(f"searching {resource_type} needs the patient parameter", field="patient")
    patient_id = patient.removeprefix("Patient/")
    if not patient_id.isdigit():
        raise InvalidInput(f"patient={patient!r} is not a Patient id", field="patient")
    try:
        resources = patient_record(uow, actor, int(patient_id), interaction="search-type")
    except NotFound:
        return []
    return [
        r
        for r in resources
        if r["resourceType"] == resource_type
        and (code is None or _has_code(r, code))
        and (status is None or r.get("status") == status)
        and (date is None or _date_text(r).startswith(date))
    ]


def _has_code(resource: Resource, token: str) -> bool:
    system, _, code = token.rpartition("|")
    concepts = [resource.get("code"), resource.get("event"), *(resource.get("reasonCode") or [])]
    for concept in concepts:
        for coding in (concept or {}).get("coding", []):
            if coding.get("code") == code and (not system or coding.get("system") == system):
                return True
    return False


def _date_text(resource: Resource) -> str:
    for element in ("effectiveDateTime", "occurrenceDateTime", "date", "recordedDate"):
        if element in resource:
            return str(resource[element])
    period = resource.get("performedPeriod")
    return str(period["start"]) if period else ""


def _date(value: str, parameter: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.removeprefix("eq"))
    except ValueError:
        raise InvalidInput(f"{parameter}={value!r} is not a date (YYYY-MM-DD)", field=parameter) from None
