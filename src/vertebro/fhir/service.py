"""FHIR reads and searches over our records; every patient whose data is returned gets a read audit entry.

Services take the unit of work and the actor and never commit: the endpoint or command does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from vertebro.errors import InvalidInput, NotFound
from vertebro.fhir import search
from vertebro.fhir.audit_event import audit_event
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import InvalidResource
from vertebro.fhir.patient import GENDERS, patient_resource
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository, PatientQuery
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
    "AdverseEvent": ("subject",),
}
MAX_COUNT = 500
DEFAULT_COUNT = 50
OPEN_LOW = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
OPEN_HIGH = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
PATIENT_PARAMETERS = (
    "_id",
    "identifier",
    "name",
    "name:exact",
    "birthdate",
    "gender",
    "_after",
    "_sort",
    *search.RESULT_PARAMETERS,
)
PATIENT_SORT = ("_id",)  # the keyset order of the pages; a descending or other order is not offered
REVINCLUDE = ("Provenance:target",)  # who signed or decided what (Provenance.target), on a patient's data
_SUBJECT = {"patient": ("reference", ()), "subject": ("reference", ())}
_PATIENT = {"patient": ("reference", ())}
# The R4 search parameters vertebro supports on each type: name -> (kind, the elements it reads).
DATA_PARAMETERS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "Condition": {
        **_SUBJECT,
        "code": ("token", ("code",)),
        "clinical-status": ("token", ("clinicalStatus",)),
        "onset-date": ("date", ("onsetDateTime", "onsetPeriod")),
        "recorded-date": ("date", ("recordedDate",)),
    },
    "Observation": {
        **_SUBJECT,
        "code": ("token", ("code",)),
        "status": ("token", ("status",)),
        "date": ("date", ("effectiveDateTime", "effectivePeriod", "effectiveInstant")),
    },
    "MedicationStatement": {
        **_SUBJECT,
        "code": ("token", ("medicationCodeableConcept",)),
        "status": ("token", ("status",)),
        "effective": ("date", ("effectiveDateTime", "effectivePeriod")),
    },
    "AllergyIntolerance": {
        **_PATIENT,
        "code": ("token", ("code",)),
        "clinical-status": ("token", ("clinicalStatus",)),
        "date": ("date", ("recordedDate",)),
    },
    "GuidanceResponse": {**_SUBJECT},
    "Procedure": {
        **_SUBJECT,
        "code": ("token", ("code",)),
        "status": ("token", ("status",)),
        "date": ("date", ("performedDateTime", "performedPeriod")),
    },
    "AdverseEvent": {
        "subject": ("reference", ()),
        "event": ("token", ("event",)),
        "date": ("date", ("date",)),
    },
    "ServiceRequest": {
        **_SUBJECT,
        "code": ("token", ("code",)),
        "status": ("token", ("status",)),
        "authored": ("date", ("authoredOn",)),
    },
    "Appointment": {**_PATIENT, "status": ("token", ("status",)), "date": ("date", ("start",))},
    "CarePlan": {**_SUBJECT, "status": ("token", ("status",)), "date": ("date", ("period",))},
    "QuestionnaireResponse": {**_SUBJECT, "status": ("token", ("status",)), "authored": ("date", ("authored",))},
    "DocumentReference": {
        **_SUBJECT,
        "status": ("token", ("status",)),
        "type": ("token", ("type",)),
        "date": ("date", ("date",)),
    },
    "Provenance": {**_PATIENT, "recorded": ("date", ("recorded",))},
    "AuditEvent": {**_PATIENT, "type": ("token", ("type",)), "date": ("date", ("recorded",))},
}
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


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a search: the matches, the included resources, the total and where the next page starts."""

    found: list[Resource]
    included: list[Resource]
    total: int
    next_at: int | None  # the _after (Patient) or _offset (other types) of the next page, None on the last


def _token(value: str) -> tuple[str | None, str]:
    """Split a token search value into (system, code) as FHIR search reads it: ``code`` is (None, code), any
    system; ``|code`` is ("", code), no system; ``system|`` is (system, ""), any code of the system."""
    if "|" not in value:
        return None, value
    token_system, _, code = value.partition("|")
    return token_system, code


def _record_ids(values: list[str]) -> list[int]:
    ids = [record_id(v) for v in values]
    return [i for i in ids if i is not None]


def search_patients(
    uow: UnitOfWork, user: FhirUser, parameters: search.Parameters, *, count: int, after_id: int
) -> SearchPage:
    """Return a page of matching Patients (``count`` of them; 0: the total only) and where the next starts."""
    query = PatientQuery()
    for group in parameters.values("_id"):
        query.ids.append(_record_ids(group))
    for group in parameters.values("identifier"):
        query.identifiers.append([_token(v) for v in group])
    for name in ("name", "name:exact"):
        for group in parameters.values(name):
            query.names.append([(v, name == "name:exact") for v in group])
    for group in parameters.values("gender"):
        if any(v not in (*GENDERS, "unknown") for v in group):
            raise InvalidResource(f"gender={','.join(group)!r}: female, male, other or unknown", field="gender")
        query.genders.append(group)
    for group in parameters.values("birthdate"):
        query.births.append([search.date_bounds(*search.date_value(v, "birthdate")) for v in group])
    only = user.grant.only_patient("Patient", "read")
    if only is not None:
        query.ids.append([only])
    repository = FhirRepository(uow.session)
    own = system("identifier-patient")
    total = repository.count_matching(query, own_system=own)
    if count == 0:
        return SearchPage([], [], total, None)
    patients = repository.find_patients(query, own_system=own, after_id=after_id, limit=count + 1)
    more = len(patients) > count
    patients = patients[:count]
    audit_reads(uow, user, [p.id for p in patients], "search-type")
    next_at = patients[-1].id if more and patients else None
    return SearchPage([patient_resource(p) for p in patients], [], total, next_at)


def search_parameters(resource_type: str) -> tuple[str, ...]:
    """Return the search parameters vertebro supports on a type (the spec's, and the result parameters)."""
    if resource_type == "Patient":
        return PATIENT_PARAMETERS
    return (
        "_id",
        *DATA_PARAMETERS[resource_type],
        "_include",
        "_revinclude",
        "_sort",
        "_offset",
        *search.RESULT_PARAMETERS,
    )


def sort_keys(resource_type: str) -> tuple[str, ...]:
    """Return the ``_sort`` keys a type's search takes: ``_id`` and, for a patient's data, its date parameters
    (each ascending, or descending with ``-``; a resource without the date sorts last either way)."""
    if resource_type == "Patient":
        return PATIENT_SORT
    return ("_id", *(n for n, (kind, _) in DATA_PARAMETERS[resource_type].items() if kind == "date"))


def _sorted(resources: list[Resource], resource_type: str, keys: list[str]) -> list[Resource]:
    """Return the resources in the ``_sort`` order (stable: the record's order breaks ties)."""
    ordered = list(resources)
    for key in reversed(keys):  # the last key first: a stable sort then keeps it within the earlier keys
        name, descending = key.removeprefix("-"), key.startswith("-")
        if name == "_id":
            ordered.sort(key=lambda r: str(r["id"]), reverse=descending)
            continue
        elements = DATA_PARAMETERS[resource_type][name][1]
        dated = [(r, _date_range(r, elements)) for r in ordered]
        present = [(r, d) for r, d in dated if d is not None]
        present.sort(key=lambda pair: (pair[1].low, pair[1].high), reverse=descending)
        ordered = [r for r, _ in present] + [r for r, d in dated if d is None]
    return ordered


def _revincluded(resources: list[Resource], page: list[Resource]) -> list[Resource]:
    """The Provenance resources of the record whose target is a resource on the page (``Provenance:target``)."""
    keys = {f"{r['resourceType']}/{r['id']}" for r in page}
    return [
        r
        for r in resources
        if r["resourceType"] == "Provenance"
        and r not in page
        and any(t.get("reference") in keys for t in r.get("target", []) if isinstance(t, dict))
    ]


def search_type(
    uow: UnitOfWork,
    user: FhirUser,
    resource_type: str,
    parameters: search.Parameters,
    *,
    count: int,
    offset: int,
    sort: list[str] | None = None,
    revinclude: list[str] | None = None,
) -> SearchPage:
    """Return a page of a patient's resources of one type matching every parameter, in the ``sort`` order
    (:func:`sort_keys`), and the resources ``_include`` asks for (the Patient, for ``Type:patient``,
    ``Type:subject`` or ``*``) and ``revinclude`` asks for (``Provenance:target``: the Provenance of the page).

    A patient (``patient`` or ``subject``) is required: vertebro does not search across every patient's data.
    """
    check_type(resource_type)
    wanted = _included(resource_type, [v for group in parameters.values("_include") for v in group])
    defined = DATA_PARAMETERS[resource_type]
    subjects = [v for name in ("patient", "subject") for group in parameters.values(name) for v in group]
    if not subjects:
        either = " or ".join(n for n in ("patient", "subject") if n in defined)
        raise InvalidResource(f"searching {resource_type} needs the {either} parameter", field=either.split()[0])
    patient_ids = {record_id(s.removeprefix("Patient/")) for s in subjects}
    if None in patient_ids or len(patient_ids) != 1:
        raise InvalidResource(f"{','.join(subjects)!r} is not one Patient id", field="patient")
    patient_id = next(i for i in patient_ids if i is not None)
    user.grant.require(resource_type, "read", patient_id)
    if wanted:
        user.grant.require("Patient", "read", patient_id)
    if revinclude:
        user.grant.require("Provenance", "read", patient_id)
    tests: list[Callable[[Resource], bool]] = []
    for name, (kind, elements) in defined.items():
        for group in parameters.values(name):
            tests.append(_test(kind, elements, group, name))
    for group in parameters.values("_id"):
        tests.append(_with_id(frozenset(group)))
    try:
        resources = patient_record(uow, user, patient_id, interaction="search-type")
    except NotFound:
        return SearchPage([], [], 0, None)
    if resource_type == "AuditEvent":  # not part of the record ($everything, export): read from the audit log
        resources = [resources[0], *_audit_events(uow, user, patient_id, ids=None, interaction="search-type")]
    found = [r for r in resources if r["resourceType"] == resource_type and all(t(r) for t in tests)]
    page = _sorted(found, resource_type, sort or [])[offset : offset + count]
    included = [r for r in resources if r["resourceType"] == "Patient"] if wanted and page else []
    if revinclude and page:
        included += _revincluded(resources, page)
    more = offset + count < len(found) and count > 0
    return SearchPage(page, included, len(found), offset + count if more else None)


def _with_id(ids: frozenset[str]) -> Callable[[Resource], bool]:
    return lambda r: r["id"] in ids


def _test(kind: str, elements: tuple[str, ...], values: list[str], name: str) -> Callable[[Resource], bool]:
    """Return the test of one parameter occurrence (an OR list of values) on a resource."""
    if kind == "reference":
        return lambda r: True  # the patient, already chosen
    if kind == "date":
        wanted = [search.date_value(v, name) for v in values]
        now = dt.datetime.now(dt.UTC)

        def dated(resource: Resource) -> bool:
            found = _date_range(resource, elements)
            return found is not None and any(search.date_matches(p, w, found, now=now) for p, w in wanted)

        return dated
    tokens = [_token(v) for v in values]
    return lambda r: any(_has_token(r, elements, s, c) for s, c in tokens)


def _has_token(resource: Resource, elements: tuple[str, ...], token_system: str | None, code: str) -> bool:
    for element in elements:
        value = resource.get(element)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                if token_system is None and item == code:
                    return True
                continue
            if not isinstance(item, dict):
                continue
            codings = item.get("coding", []) if "coding" in item else [item]
            for coding in codings:
                if (not code or coding.get("code") == code) and (
                    token_system is None or (coding.get("system") or "") == token_system
                ):
                    return True
    return False


def _date_range(resource: Resource, elements: tuple[str, ...]) -> search.DateRange | None:
    for element in elements:
        value = resource.get(element)
        try:
            if isinstance(value, str):
                return search.date_range(value, element)
            if isinstance(value, dict) and (value.get("start") or value.get("end")):
                start = search.date_range(value["start"], element).low if value.get("start") else OPEN_LOW
                end = search.date_range(value["end"], element).high if value.get("end") else OPEN_HIGH
                return search.DateRange(start, end)
        except InvalidResource:
            return None
    return None


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
