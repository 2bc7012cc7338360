"""FHIR reads and searches over our records; every patient whose data is returned gets a read audit entry.

Services take the unit of work and the actor and never commit: the endpoint or command does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from vertebro.errors import InvalidInput, NotFound
from vertebro.fhir.audit_event import audit_event
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.elements import Resource
from vertebro.fhir.patient import patient_resource
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository
from vertebro.ids import record_id
from vertebro.store.db import UnitOfWork

PATIENT_DATA_TYPES = (
    "Condition",
    "Observation",
    "MedicationStatement",
    "AllergyIntolerance",
    "GuidanceResponse",
    "Procedure",
    "AdverseEvent",
    "ServiceRequest",
    "Appointment",
    "CarePlan",
    "QuestionnaireResponse",
    "DocumentReference",
    "Provenance",
    "AuditEvent",
)
RESOURCE_TYPES = ("Patient", *PATIENT_DATA_TYPES)
PATIENT_ELEMENTS: dict[str, tuple[str, ...]] = {  # search parameters that point at the Patient (for _include)
    **{t: ("patient", "subject") for t in PATIENT_DATA_TYPES},
    "AllergyIntolerance": ("patient",),
    "Appointment": ("patient",),
    "Provenance": ("patient",),
    "AuditEvent": ("patient",),
}
MAX_COUNT = 500
STORED_ID = re.compile(r"^s[0-9a-f]{16}$")  # resources written through /fhir (or imported), not derived

_ID_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^c(\d+)-"), "case"),
    (re.compile(r"^a(\d+)-"), "assessment"),
    (re.compile(r"^p(\d+)-"), "procedure"),
    (re.compile(r"^x(\d+)$"), "complication"),
    (re.compile(r"^b(\d+)$"), "booking"),
    (re.compile(r"^f(\d+)(-|$)"), "follow_up"),
    (re.compile(r"^e(\d+)$"), "audit"),
)


def audit_reads(uow: UnitOfWork, user: FhirUser, patient_ids: list[int], interaction: str) -> None:
    """Add one read audit entry per patient whose data is returned (FHIR interaction in the detail)."""
    uow.audit.append_reads(
        actor=user.actor.username,
        patient_ids=sorted(set(patient_ids)),
        detail={"via": "fhir", "interaction": interaction},
        source=user.actor.source,
    )


def _patient_owner(repository: FhirRepository, resource_type: str, resource_id: str) -> int | None:
    if resource_type == "Patient":
        return record_id(resource_id)
    if STORED_ID.match(resource_id):
        stored = repository.stored(resource_type, resource_id)
        return stored.patient_id if stored is not None else None
    for pattern, kind in _ID_PATTERNS:
        match = pattern.match(resource_id)
        if match:
            lookups: dict[str, Callable[[int], int | None]] = {
                "case": repository.patient_of_case,
                "assessment": repository.patient_of_assessment,
                "procedure": repository.patient_of_procedure,
                "complication": repository.patient_of_complication,
                "booking": repository.patient_of_booking,
                "follow_up": repository.patient_of_follow_up,
                "audit": repository.patient_of_audit_entry,
            }
            key = record_id(match.group(1))
            return lookups[kind](key) if key is not None else None
    return None


def check_type(resource_type: str) -> None:
    """Raise NotFound when vertebro does not serve this resource type."""
    if resource_type not in RESOURCE_TYPES:
        raise NotFound(
            f"resource type {resource_type!r} is not supported here (supported: {', '.join(RESOURCE_TYPES)})",
            field="type",
        )


def patient_record(uow: UnitOfWork, user: FhirUser, patient_id: int, *, interaction: str) -> list[Resource]:
    """Return every resource of one patient's record (Patient first) that the token's scopes allow to read,
    and audit the read (403 when they allow none of it)."""
    repository = FhirRepository(uow.session)
    patients = repository.search_patients(ids=[patient_id], limit=1)
    if not patients:
        raise NotFound(f"Patient/{patient_id} does not exist", field="id")
    if not any(user.grant.allows(t, "read", patient_id) for t in RESOURCE_TYPES):
        user.grant.require("Patient", "read", patient_id)
    audit_reads(uow, user, [patient_id], interaction)
    resources = record_resources(repository.records(patients)[0])
    return [r for r in resources if user.grant.allows(r["resourceType"], "read", patient_id)]


def read(uow: UnitOfWork, user: FhirUser, resource_type: str, resource_id: str) -> Resource:
    """Return the current version of one resource; raise NotFound naming it when it does not exist."""
    check_type(resource_type)
    owner = _patient_owner(FhirRepository(uow.session), resource_type, resource_id)
    missing = NotFound(f"{resource_type}/{resource_id} does not exist", field="id")
    if owner is None:
        raise missing
    user.grant.require(resource_type, "read", owner)
    if resource_type == "AuditEvent":
        found = _audit_events(uow, user, owner, ids=[record_id(resource_id[1:]) or 0], interaction="read")
        if not found:
            raise missing
        return found[0]
    try:
        resources = patient_record(uow, user, owner, interaction="read")
    except NotFound:
        raise missing from None
    for resource in resources:
        if resource["resourceType"] == resource_type and resource["id"] == resource_id:
            return resource
    raise missing


def search_patients(
    uow: UnitOfWork,
    user: FhirUser,
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
    only = user.grant.only_patient("Patient", "read")
    patients = FhirRepository(uow.session).search_patients(
        identifier=identifier,
        name=name,
        birthdate=born,
        after_id=after_id,
        limit=count + 1,
        ids=None if only is None else [only],
    )
    more = len(patients) > count
    patients = patients[:count]
    audit_reads(uow, user, [p.id for p in patients], "search-type")
    return [patient_resource(p) for p in patients], (patients[-1].id if more and patients else None)


def search(
    uow: UnitOfWork,
    user: FhirUser,
    resource_type: str,
    *,
    patient: str | None,
    code: str | None,
    status: str | None,
    date: str | None,
    include: list[str] | None = None,
) -> tuple[list[Resource], list[Resource]]:
    """Return a patient's resources of one type filtered by code (``[system|]code``), status and date prefix,
    and the resources ``_include`` asks for (the Patient, for ``Type:patient``, ``Type:subject`` or ``*``).

    The ``patient`` parameter is required: vertebro does not search across every patient's clinical data.
    """
    wanted = _included(resource_type, include or [])
    check_type(resource_type)
    if not patient:
        raise InvalidInput(f"searching {resource_type} needs the patient parameter", field="patient")
    patient_id = record_id(patient.removeprefix("Patient/"))
    if patient_id is None:
        raise InvalidInput(f"patient={patient!r} is not a Patient id", field="patient")
    user.grant.require(resource_type, "read", patient_id)
    if wanted:
        user.grant.require("Patient", "read", patient_id)
    try:
        resources = patient_record(uow, user, patient_id, interaction="search-type")
    except NotFound:
        return [], []
    if resource_type == "AuditEvent":  # not part of the record ($everything, export): read from the audit log
        resources = [resources[0], *_audit_events(uow, user, patient_id, ids=None, interaction="search-type")]
    found = [
        r
        for r in resources
        if r["resourceType"] == resource_type
        and (code is None or _has_code(r, code))
        and (status is None or r.get("status") == status)
        and (date is None or _date_text(r).startswith(date))
    ]
    included = [r for r in resources if r["resourceType"] == "Patient"] if wanted and found else []
    return found, included


def _audit_events(
    uow: UnitOfWork, user: FhirUser, patient_id: int, *, ids: list[int] | None, interaction: str
) -> list[Resource]:
    entries = FhirRepository(uow.session).audit_entries(patient_id, ids=ids, limit=MAX_COUNT)
    if entries and ids is not None:
        audit_reads(uow, user, [patient_id], interaction)
    return [audit_event(e) for e in entries]


def _included(resource_type: str, include: list[str]) -> bool:
    """Return whether ``_include`` asks for the patient; raise InvalidInput for what vertebro cannot include."""
    wanted = False
    for value in include:
        source, _, rest = value.partition(":")
        element = rest.split(":")[0]
        if value == "*" or (source == resource_type and element in PATIENT_ELEMENTS.get(resource_type, ())):
            wanted = True
            continue
        allowed = ", ".join(f"{resource_type}:{e}" for e in PATIENT_ELEMENTS.get(resource_type, ()))
        raise InvalidInput(f"_include={value!r} is not supported here (supported: {allowed}, *)", field="_include")
    return wanted


def _has_code(resource: Resource, token: str) -> bool:
    system, _, code = token.rpartition("|")
    concepts = [resource.get("code"), resource.get("event"), *(resource.get("reasonCode") or [])]
    for concept in concepts:
        for coding in (concept or {}).get("coding", []):
            if coding.get("code") == code and (not system or coding.get("system") == system):
                return True
    return False


def _date_text(resource: Resource) -> str:
    for element in (
        "effectiveDateTime",
        "occurrenceDateTime",
        "date",
        "recordedDate",
        "authoredOn",
        "authored",
        "start",
        "recorded",
    ):
        if element in resource:
            return str(resource[element])
    period = resource.get("performedPeriod")
    return str(period["start"]) if period else ""


def _date(value: str, parameter: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.removeprefix("eq"))
    except ValueError:
        raise InvalidInput(f"{parameter}={value!r} is not a date (YYYY-MM-DD)", field=parameter) from None
