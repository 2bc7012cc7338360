"""vread and history of the writable types (Patient, Condition, Observation); every version returned is audited.

Versions exist for what was written through /fhir (or imported as a stored resource): a Patient's history
starts with its first write through /fhir (the version it replaced is kept then); its current version is
always readable. Resources derived from a case (ids ``c…``) have no versions of their own.
"""

from __future__ import annotations

from vertebro.errors import NotFound
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import instant
from vertebro.fhir.patient import patient_resource
from vertebro.fhir.repository import FhirRepository
from vertebro.fhir.service import STORED_ID, audit_reads
from vertebro.fhir.writes import check_writable
from vertebro.ids import record_id
from vertebro.store.db import UnitOfWork


def _check_versioned(resource_type: str, resource_id: str) -> None:
    check_writable(resource_type)
    if resource_type != "Patient" and not STORED_ID.match(resource_id):
        raise NotFound(
            f"{resource_type}/{resource_id} is derived from a case record and has no versions of its own", field="id"
        )


def _current_patient(repository: FhirRepository, resource_id: str) -> Resource | None:
    patient_id = record_id(resource_id)
    found = repository.search_patients(ids=[patient_id], limit=1) if patient_id is not None else []
    return patient_resource(found[0]) if found else None


def vread(uow: UnitOfWork, user: FhirUser, resource_type: str, resource_id: str, version_id: str) -> Resource:
    """Return one version of a resource; 404 naming the version when it is not kept."""
    _check_versioned(resource_type, resource_id)
    repository = FhirRepository(uow.session)
    key = f"{resource_type}/{resource_id}"
    missing = NotFound(f"{key} has no version {version_id!r}", field="vid")
    version = record_id(version_id)
    if version is None:
        raise missing
    found = repository.version(resource_type, resource_id, version)
    if found is not None:
        user.grant.require(resource_type, "read", found.patient_id)
        audit_reads(uow, user, [found.patient_id], "vread")
        return found.content
    if resource_type == "Patient":
        current = _current_patient(repository, resource_id)
        if current is not None and current["meta"]["versionId"] == version_id:
            user.grant.require("Patient", "read", current_id := int(current["id"]))
            audit_reads(uow, user, [current_id], "vread")
            return current
    raise missing


def instance_history(uow: UnitOfWork, user: FhirUser, resource_type: str, resource_id: str) -> list[Resource]:
    """Return every kept version of one resource, newest first (a Patient's current version always)."""
    _check_versioned(resource_type, resource_id)
    repository = FhirRepository(uow.session)
    versions = repository.versions(resource_type, resource_id)
    resources = [v.content for v in versions]
    patient_id = versions[0].patient_id if versions else None
    if resource_type == "Patient":
        current = _current_patient(repository, resource_id)
        if current is not None:
            patient_id = int(current["id"])
            if not resources or resources[0]["meta"]["versionId"] != current["meta"]["versionId"]:
                resources.insert(0, current)  # changed in vertebro since its last write through /fhir
    if patient_id is None:
        raise NotFound(f"{resource_type}/{resource_id} does not exist", field="id")
    user.grant.require(resource_type, "read", patient_id)
    audit_reads(uow, user, [patient_id], "history-instance")
    return resources


def type_history(
    uow: UnitOfWork, user: FhirUser, resource_type: str, *, since: str | None, count: int, offset: int = 0
) -> tuple[list[Resource], bool]:
    """Return the newest ``count`` versions written of one type (at or after ``_since``) after the newest
    ``offset``, newest first, and whether older ones follow (a next page)."""
    check_writable(resource_type)
    patient_id = user.grant.only_patient(resource_type, "read")
    after = instant(since, "_since") if since is not None else None
    versions = FhirRepository(uow.session).type_history(
        resource_type, since=after, patient_id=patient_id, limit=count + 1, offset=offset
    )
    versions, more = versions[:count], len(versions) > count
    audit_reads(uow, user, [v.patient_id for v in versions], "history-type")
    return [v.content for v in versions], more


def system_history(
    uow: UnitOfWork, user: FhirUser, *, since: str | None, count: int, offset: int = 0
) -> tuple[list[Resource], bool]:
    """Return the newest ``count`` versions written of every type (at or after ``_since``) after the newest
    ``offset``, newest first, that the token's scopes allow to read, and whether older ones follow."""
    after = instant(since, "_since") if since is not None else None
    versions = FhirRepository(uow.session).type_history(
        None, since=after, patient_id=None, limit=count + 1, offset=offset
    )
    versions, more = versions[:count], len(versions) > count
    allowed = [v for v in versions if user.grant.allows(v.resource_type, "read", v.patient_id)]
    audit_reads(uow, user, [v.patient_id for v in allowed], "history-system")
    return [v.content for v in allowed], more
