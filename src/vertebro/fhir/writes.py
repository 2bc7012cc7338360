"""Create and update through /fhir, with versions: ``meta.versionId``, ``lastUpdated``, If-Match.

Writable types (:data:`WRITABLE_TYPES`):

* ``Patient`` is our ``patients`` row: a write changes what we keep of it (identifier, name, birth date,
  gender); its ``version`` column is the FHIR ``versionId``.
* ``Condition`` and ``Observation`` written through /fhir are *stored resources* (``fhir_resources``): what
  the EHR tells us that our case records do not hold, e.g. osteoporosis on the problem list. Their ids are
  ``s`` + 16 hex digits. Conditions and Observations *derived* from a case (ids ``c…``) are read-only: change
  the case in vertebro.

Every write appends the new version to ``fhir_resource_versions`` (vread, history) and an audit entry, in the
caller's transaction. An update must name the version it replaces (If-Match: 428 without, 412 when stale);
the check runs with the row locked, so of two updates racing with the same If-Match exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonpatch
import jsonpointer

from vertebro.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from vertebro.fhir import search, service
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.codes import maps, system
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import InvalidResource, NotAllowed, UnsupportedMediaType
from vertebro.fhir.patient import PatientProblem, patient_fields, patient_resource
from vertebro.fhir.repository import FhirRepository
from vertebro.ids import record_id
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FhirResource, FhirResourceVersion, Patient

WRITABLE_TYPES = ("Patient", "Condition", "Observation")
STORED_TYPES = ("Condition", "Observation")
_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


@dataclass(frozen=True, slots=True)
class Written:
    """The outcome of a write: the resource as now stored, its version, and whether it was created."""

    resource: Resource
    version_id: int
    created: bool

    @property
    def etag(self) -> str:
        """The weak ETag of this version."""
        return f'W/"{self.version_id}"'

    @property
    def last_modified(self) -> str | None:
        """The instant of this version (None for a resource derived from a case record)."""
        value = (self.resource.get("meta") or {}).get("lastUpdated")
        return str(value) if value else None

    @property
    def location(self) -> str:
        """The version-specific path of the resource (``Type/id/_history/n``)."""
        return f"{self.resource['resourceType']}/{self.resource['id']}/_history/{self.version_id}"


def not_writable(resource_type: str) -> NotAllowed:
    """Return the error (405) for a write of a type vertebro does not accept."""
    return NotAllowed(f"{resource_type} cannot be written here (writable: {', '.join(WRITABLE_TYPES)})", field="type")


def check_writable(resource_type: str) -> None:
    """Raise NotAllowed (405) when vertebro does not accept writes of this type."""
    if resource_type not in WRITABLE_TYPES:
        raise not_writable(resource_type)


def expected_version(if_match: str | None) -> int:
    """Return the version an If-Match header names; 428 when missing, 400 when it is not a version ETag."""
    if not if_match:
        raise PreconditionRequired(
            'an update needs If-Match with the ETag of the version it replaces (e.g. W/"3")', field="If-Match"
        )
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise InvalidResource(f'If-Match {if_match!r} is not a version ETag such as W/"3"', field="If-Match")
    version = record_id(match.group(1))
    if version is None:
        raise InvalidResource(f"If-Match {if_match!r} names no version", field="If-Match")
    return version


def validated(resource_type: str, body: Any, *, resource_id: str | None = None) -> Resource:
    """Return the body when it is a valid R4 resource of ``resource_type``; raise InvalidResource naming the
    FHIR path of the first problem (fhir.resources R4B, then the required bindings it does not check)."""
    if not isinstance(body, dict):
        raise InvalidResource("the body must be a JSON object (a FHIR resource)", field=resource_type)
    if body.get("resourceType") != resource_type:
        raise InvalidResource(
            f"resourceType is {body.get('resourceType')!r}, expected {resource_type!r}",
            field=f"{resource_type}.resourceType",
        )
    if resource_id is not None and body.get("id") != resource_id:
        raise InvalidResource(
            f"the resource's id {body.get('id')!r} is not the id in the URL ({resource_id!r})",
            field=f"{resource_type}.id",
        )
    from fhir.resources.R4B import get_fhir_model_class  # the boundary: slow models only on writes
    from pydantic import ValidationError

    try:
        get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in (resource_type, *first["loc"]) if p != "__root__")
        raise InvalidResource(f"{path}: {first['msg']}", field=path) from None
    for element, allowed in maps()["required_bindings"].get(resource_type, {}).items():
        if element in body:
            _check_binding(f"{resource_type}.{element}", body[element], allowed)
    if resource_type == "Patient":
        refuse_a_death(body)
    return body


def refuse_a_death(patient: Resource) -> None:
    """Refuse (422) a Patient that says the patient has died: vertebro keeps no date of death, so taking the rest
    would drop it silently and leave the patient booked and reminded (H134). Writes through /fhir and
    ``vertebro fhir import`` both refuse it."""
    for element in ("deceasedDateTime", "deceasedBoolean"):
        if element in patient and patient[element] is not False:
            raise InvalidInput(
                f"Patient.{element}: vertebro does not record a death, so it cannot take this Patient: tell the "
                "vertebroplasty service, who close the patient's cases and cancel what is booked",
                field=f"Patient.{element}",
            )


def _check_binding(path: str, value: Any, allowed: list[str] | dict[str, Any]) -> None:
    """Raise InvalidResource unless a code (or a CodeableConcept's coding of the bound system) is allowed."""
    if isinstance(allowed, list):
        if value not in allowed:
            raise InvalidResource(f"{path}: {value!r} is not one of {', '.join(allowed)}", field=path)
        return
    uri = system(allowed["system"])
    codes = [c.get("code") for c in value.get("coding", []) if c.get("system") == uri]
    if not any(code in allowed["codes"] for code in codes):
        raise InvalidResource(f"{path}: needs a coding of {uri} with one of {', '.join(allowed['codes'])}", field=path)


def _subject_patient(repository: FhirRepository, resource: Resource) -> int:
    path = f"{resource['resourceType']}.subject"
    reference = (resource.get("subject") or {}).get("reference")
    if not isinstance(reference, str):
        raise InvalidResource("a reference to the Patient is required", field=path)
    patient_id = record_id(reference.removeprefix("Patient/"))
    if not reference.startswith("Patient/") or patient_id is None:
        raise InvalidResource(f"{reference!r} is not a reference to one of our Patients (Patient/<id>)", field=path)
    if not repository.search_patients(ids=[patient_id], limit=1):
        raise InvalidInput(f"{reference} does not exist", field=path)
    return patient_id


def _stamped(resource: Resource, version_id: int, when: dt.datetime) -> Resource:
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = when.isoformat()
    return {**resource, "meta": meta}


def _patient_content(patient: Patient, when: dt.datetime) -> Resource:
    return _stamped(patient_resource(patient), patient.version, when)


def _audit(
    uow: UnitOfWork,
    who: tuple[str, str | None],
    action: str,
    key: str,
    patient_id: int,
    version: int,
    *,
    entity_type: str = "fhir",
) -> None:
    uow.audit.append(
        actor=who[0],
        action=action,
        entity_type=entity_type,
        entity_id=key[:64] if entity_type == "fhir" else patient_id,
        patient_id=patient_id,
        detail={"via": "fhir", "version": version},
        source=who[1],
    )


def _version(resource: Resource, patient_id: int, method: str, when: dt.datetime) -> FhirResourceVersion:
    return FhirResourceVersion(
        resource_type=resource["resourceType"],
        resource_id=resource["id"],
        version_id=int(resource["meta"]["versionId"]),
        patient_id=patient_id,
        method=method,
        last_updated=when,
        content=resource,
    )


def _fields(resource: Resource) -> tuple[str, str | None, dt.date | None, str, str | None]:
    try:
        fields = patient_fields(resource)
    except PatientProblem as problem:
        raise InvalidInput(str(problem), field=problem.path) from None
    birth = None
    if fields.birth_date:
        try:
            birth = dt.date.fromisoformat(fields.birth_date)
        except ValueError:
            raise InvalidInput(
                f"Patient.birthDate: {fields.birth_date!r} is not a full date (YYYY-MM-DD)", field="Patient.birthDate"
            ) from None
    return fields.identifier, fields.name, birth, fields.sex, fields.identifier_system


def add_patient(uow: UnitOfWork, resource: Resource, *, actor: str, source: str | None, via: str) -> Patient:
    """Add our patient row for a FHIR Patient (409 when the identifier is taken) and audit its creation."""
    identifier, name, birth, sex, identifier_system = _fields(resource)
    existing = uow.patients.get_by_identifier(identifier)
    if existing is not None:
        raise Conflict(f"the identifier {identifier!r} is already Patient/{existing.id}", field="Patient.identifier")
    patient = uow.patients.add(
        Patient(identifier=identifier, identifier_system=identifier_system, name=name, birth_date=birth, sex=sex)
    )
    uow.audit.append(
        actor=actor,
        action="create",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"via": via, "version": patient.version},
        source=source,
    )
    return patient


def _existing(uow: UnitOfWork, user: FhirUser, resource_type: str, if_none_exist: str) -> Written | None:
    """Return the one resource a conditional create's If-None-Exist query matches (None: none; 412: several)."""
    items = parse_qsl(if_none_exist.strip().rpartition("?")[2], keep_blank_values=True)
    if not items:
        raise InvalidResource(f"If-None-Exist {if_none_exist!r} is not a search query", field="If-None-Exist")
    supported = [p for p in service.search_parameters(resource_type) if not p.startswith("_") or p == "_id"]
    parameters = search.parse(items, supported, prefer="handling=strict")
    if resource_type == "Patient":
        page = service.search_patients(uow, user, parameters, count=2, after_id=0)
    else:
        page = service.search_type(uow, user, resource_type, parameters, count=2, offset=0)
    if len(page.found) > 1:
        raise PreconditionFailed(
            f"If-None-Exist {if_none_exist!r} matches {page.total} resources: make it select one", field="If-None-Exist"
        )
    if not page.found:
        return None
    found = page.found[0]
    return Written(found, int((found.get("meta") or {}).get("versionId") or 1), False)


def create(
    uow: UnitOfWork, user: FhirUser, resource_type: str, body: Any, *, if_none_exist: str | None = None
) -> Written:
    """Create a resource (server-assigned id, version 1) and return it as stored; a conditional create
    (``If-None-Exist``) returns the one resource its query matches instead (FHIR R4 http 3.1.0.8.1)."""
    check_writable(resource_type)
    repository = FhirRepository(uow.session)
    repository.take_write_lock()
    resource = validated(resource_type, body)
    if if_none_exist:
        existing = _existing(uow, user, resource_type, if_none_exist)
        if existing is not None:
            return existing
    resource = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    when = utc_now()
    if resource_type == "Patient":
        user.grant.require("Patient", "write")
        patient = add_patient(uow, resource, actor=user.actor.username, source=user.actor.source, via="fhir")
        content = _patient_content(patient, when)
        repository.add_version(_version(content, patient.id, "POST", when))
        return Written(content, patient.version, True)
    patient_id = _subject_patient(repository, resource)
    user.grant.require(resource_type, "write", patient_id)
    resource_id = f"s{secrets.token_hex(8)}"
    content = _stamped({"resourceType": resource_type, "id": resource_id, **resource}, 1, when)
    return _store_new(uow, _who(user), repository, content, patient_id, when)


def _who(user: FhirUser) -> tuple[str, str | None]:
    return user.actor.username, user.actor.source


def _store_new(
    uow: UnitOfWork,
    who: tuple[str, str | None],
    repository: FhirRepository,
    content: Resource,
    patient_id: int,
    when: dt.datetime,
) -> Written:
    kind, resource_id = content["resourceType"], content["id"]
    repository.add_stored(
        FhirResource(
            resource_type=kind,
            resource_id=resource_id,
            patient_id=patient_id,
            version_id=1,
            last_updated=when,
            content=content,
        )
    )
    repository.add_version(_version(content, patient_id, "POST", when))
    _audit(uow, who, "create", f"{kind}/{resource_id}", patient_id, 1)
    return Written(content, 1, True)


def store_imported(uow: UnitOfWork, resource: Resource, patient_id: int, *, actor: str, source: str) -> Written:
    """Store a resource read from an import for one of our patients (keeping an id of ours when it is free)."""
    repository = FhirRepository(uow.session)
    resource_id = str(resource.get("id") or "")
    if not service.STORED_ID.match(resource_id) or repository.stored(resource["resourceType"], resource_id) is not None:
        resource_id = f"s{secrets.token_hex(8)}"
    when = utc_now()
    content = _stamped({**resource, "id": resource_id, "subject": {"reference": f"Patient/{patient_id}"}}, 1, when)
    return _store_new(uow, (actor, source), repository, content, patient_id, when)


def update(
    uow: UnitOfWork, user: FhirUser, resource_type: str, resource_id: str, body: Any, if_match: str | None
) -> Written:
    """Replace the current version of a resource; the If-Match version is checked with the row locked."""
    check_writable(resource_type)
    expected = expected_version(if_match)
    repository = FhirRepository(uow.session)
    repository.take_write_lock()
    resource = validated(resource_type, body, resource_id=resource_id)
    when = utc_now()
    key = f"{resource_type}/{resource_id}"
    if resource_type == "Patient":
        patient_id = record_id(resource_id)
        patient = repository.locked_patient(patient_id) if patient_id is not None else None
        if patient is None:
            raise NotFound(f"{key} does not exist (create patients with POST /fhir/Patient)", field="id")
        user.grant.require("Patient", "write", patient.id)
        _check_version(key, patient.version, expected)
        if repository.version("Patient", resource_id, patient.version) is None:  # first write through /fhir
            repository.add_version(_version(_patient_content(patient, when), patient.id, "PUT", when))
        fields = _fields(resource)
        other = uow.patients.get_by_identifier(fields[0])
        if other is not None and other.id != patient.id:
            raise Conflict(f"the identifier {fields[0]!r} is already Patient/{other.id}", field="Patient.identifier")
        kept = (patient.identifier, patient.name, patient.birth_date, patient.sex, patient.identifier_system)
        if fields == kept:  # nothing we keep changed (e.g. only telecom or address): a no-op update
            current = repository.version("Patient", resource_id, patient.version)
            content = current.content if current is not None else _patient_content(patient, when)
            return Written(content, patient.version, False)
        patient.identifier, patient.name, patient.birth_date, patient.sex, patient.identifier_system = fields
        uow.session.flush()  # the version column moves on (optimistic lock as well)
        content = _patient_content(patient, when)
        repository.add_version(_version(content, patient.id, "PUT", when))
        _audit(uow, _who(user), "update", key, patient.id, patient.version, entity_type="patient")
        return Written(content, patient.version, False)
    if not service.STORED_ID.match(resource_id):
        raise NotAllowed(f"{key} is derived from a case record and read-only: change the case in vertebro", field="id")
    stored = repository.locked_stored(resource_type, resource_id)
    if stored is None:
        raise NotFound(f"{key} does not exist (create it with POST /fhir/{resource_type})", field="id")
    user.grant.require(resource_type, "write", stored.patient_id)
    _check_version(key, stored.version_id, expected)
    patient_id = _subject_patient(repository, resource)
    user.grant.require(resource_type, "write", patient_id)
    version_id = stored.version_id + 1
    content = _stamped(resource, version_id, when)
    stored.version_id, stored.patient_id, stored.last_updated, stored.content = version_id, patient_id, when, content
    uow.session.flush()
    repository.add_version(_version(content, patient_id, "PUT", when))
    _audit(uow, _who(user), "update", key, patient_id, version_id)
    return Written(content, version_id, False)


def _check_version(key: str, current: int, expected: int) -> None:
    if current != expected:
        raise PreconditionFailed(
            f'{key} is at version {current}, If-Match named version {expected}: read it again (ETag W/"{current}")',
            field="If-Match",
        )


JSON_PATCH = "application/json-patch+json"


def patch(
    uow: UnitOfWork,
    user: FhirUser,
    resource_type: str,
    resource_id: str,
    operations: Any,
    if_match: str | None,
    *,
    content_type: str | None,
) -> Written:
    """Apply a JSON Patch (RFC 6902, FHIR R4 http.html#patch) to the current version and write the result as
    :func:`update` does: If-Match is required (428) and checked (412); a patch that cannot be applied, or that
    changes the type or id, is 422 naming the operation; FHIRPath Patch (a Parameters body) is 415."""
    check_writable(resource_type)
    media = (content_type or "").split(";")[0].strip().lower()
    if media != JSON_PATCH:
        raise UnsupportedMediaType(
            f"Content-Type {content_type!r}: PATCH takes a JSON Patch ({JSON_PATCH}); FHIRPath Patch is not supported",
            field="Content-Type",
        )
    expected = expected_version(if_match)
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise InvalidResource("a JSON Patch is a JSON array of operations (RFC 6902)", field="body")
    current = service.read(uow, user, resource_type, resource_id)
    version = (current.get("meta") or {}).get("versionId")
    if version is not None and str(version) != str(expected):
        raise PreconditionFailed(
            f"{resource_type}/{resource_id} is at version {version}, not {expected}: read it again", field="If-Match"
        )
    try:
        patched = jsonpatch.apply_patch(current, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError, ValueError) as e:
        raise InvalidInput(
            f"the JSON Patch cannot be applied to {resource_type}/{resource_id}: {e}", field="body"
        ) from e
    if (
        not isinstance(patched, dict)
        or patched.get("resourceType") != resource_type
        or patched.get("id") != resource_id
    ):
        raise InvalidInput("a JSON Patch may not change resourceType or id", field="body")
    patched.pop("meta", None)
    return update(uow, user, resource_type, resource_id, patched, if_match)
