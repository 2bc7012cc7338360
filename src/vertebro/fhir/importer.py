"""Import FHIR resources (Bundles or NDJSON) into our records, patient by patient, all or nothing per patient.

Resources are grouped by the Patient they belong to (``subject``/``patient`` references, by id or fullUrl),
then by our case identifier when present. Each patient's group is read into a case by the reader the caller
passes (``vertebro.intake.fhir_bundle.case_from_resources``: intake and fhir are sibling layers), assessed and
recorded inside a savepoint: a bad resource rolls back that patient only, never leaves half a patient. New
patients whose cases read and assess cleanly are checked first and then stored up to 200 at a time (``_Batch``),
with the same rows, ids and audit entries.

A reader may return the case or a reading (``intake.fhir_bundle.read_resources``) whose ignored resources are
counted by type and reason in :attr:`ImportSummary.skipped`: nothing is dropped silently. Standard Conditions that
are not fractures are read with the case (infection, cancer, pregnancy) and kept on the record; a Condition status
outside its required binding rejects the patient, as ``POST /fhir/Condition`` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from vertebro.clinical import Case, assess, assessment_json
from vertebro.errors import VertebroError
from vertebro.fhir.codes import maps, system
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import InvalidResource
from vertebro.fhir.patient import patient_fields
from vertebro.fhir.repository import FhirRepository
from vertebro.fhir.service import STORED_ID
from vertebro.fhir.writes import STORED_TYPES, add_patient, refuse_a_death, store_imported
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Patient
from vertebro.store.service import NewCase, assessed_case, record_assessment, store_new_patients

IMPORTED_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationStatement",
        "MedicationRequest",
        "AllergyIntolerance",
        "Encounter",
        "ServiceRequest",
        "Appointment",
    }
)  # read by the case reader (docs/fhir-intake.md); a referenced Medication goes with the resources naming it
DERIVED_TYPES = frozenset({"GuidanceResponse"})  # recomputed by the rules on import, never taken as given


class Reading(Protocol):
    """What ``intake.fhir_bundle.read_resources`` returns: the case and the resources it ignored, and why."""

    @property
    def case(self) -> Case: ...

    @property
    def ignored(self) -> list[tuple[str, str]]: ...

    def fact_sources(self) -> dict[str, Any]:
        """Where each fact came from (``vertebro-fact-sources/1``), stored with the case for the chart."""
        ...


CaseReader = Callable[[list[Resource]], Case] | Callable[[list[Resource]], Reading]
FractureTest = Callable[[Resource], object | None]  # intake.fhir_bundle.fracture_of: None unless on a vertebra
UNPLACED = ("encounter", "context")  # references to resources vertebro does not hold, dropped from stored ones
IMPORT_BATCH = 200  # new patients stored together (see _Batch)


@dataclass
class ImportSummary:
    """What an import did: patients created or matched, cases created, what was skipped or rejected and why."""

    created: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    cases: int = 0
    conditions: int = 0  # conditions not on a vertebra (and our own stored resources) kept on the patient's record
    rejected: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def read_resources(path: Path) -> Iterator[tuple[str, Resource]]:
    """Yield (fullUrl or Type/id, resource) from a Bundle (.json) or NDJSON (.ndjson) file or a folder of them."""
    paths = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".ndjson")) if path.is_dir() else [path]
    for item in paths:
        text = item.read_text(encoding="utf-8")
        if item.suffix == ".ndjson":
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        resource = json.loads(line)
                    except ValueError as error:
                        yield f"{item.name}:{number}", {"resourceType": "(invalid)", "error": str(error)}
                        continue
                    yield _key(resource), resource
            continue
        try:
            document = json.loads(text)
        except ValueError as error:
            yield item.name, {"resourceType": "(invalid)", "error": str(error)}
            continue
        yield from bundle_entries(document)


def bundle_entries(document: Any) -> Iterator[tuple[str, Resource]]:
    """Yield (fullUrl or Type/id, resource) of a Bundle's entries, or the document itself if it is a resource."""
    if not isinstance(document, dict):
        return
    if document.get("resourceType") != "Bundle":
        yield _key(document), document
        return
    for entry in document.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            yield str(entry.get("fullUrl") or _key(resource)), resource


def _key(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '')}"


def _owner(resource: Resource) -> str | None:
    for element in ("subject", "patient"):
        value = resource.get(element)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
    for participant in resource.get("participant") or []:  # Appointment
        actor = participant.get("actor") if isinstance(participant, dict) else None
        reference = actor.get("reference") if isinstance(actor, dict) else None
        if isinstance(reference, str) and reference.startswith(("Patient/", "urn:")):
            return reference
    return None


def _medication_references(resource: Resource) -> set[str]:
    reference = resource.get("medicationReference")
    target = reference.get("reference") if isinstance(reference, dict) else None
    return {target} if isinstance(target, str) and not target.startswith("#") else set()


def check_bindings(resource: Resource) -> None:
    """Refuse a code outside a required binding (e.g. ``Condition.clinicalStatus: bogus``), as writes do."""
    kind = str(resource.get("resourceType"))
    for element, allowed in maps()["required_bindings"].get(kind, {}).items():
        if element not in resource:
            continue
        path, value = f"{kind}/{resource.get('id', '')}.{element}", resource[element]
        if isinstance(allowed, list):
            if value not in allowed:
                raise InvalidResource(f"{path}: {value!r} is not one of {', '.join(allowed)}", field=path)
            continue
        codes = [c.get("code") for c in value.get("coding", []) if c.get("system") == system(allowed["system"])]
        if not any(code in allowed["codes"] for code in codes):
            raise InvalidResource(f"{path}: {codes or value!r} is not one of {', '.join(allowed['codes'])}", field=path)


def _case_key(resource: Resource) -> str:
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") == system("identifier-case"):
            return str(identifier.get("value"))
    return ""


def import_resources(
    uow: UnitOfWork,
    entries: Iterable[tuple[str, Resource]],
    *,
    reader: CaseReader,
    actor: str,
    source: str,
    progress: Callable[[int], None] | None = None,
    fracture: FractureTest | None = None,
) -> ImportSummary:
    """Import the entries; returns the summary. Nothing is committed: the caller commits the whole import.

    With ``fracture`` (the test whether a Condition is a vertebral fracture vertebro can place), the other
    Conditions are kept on the patient's record as stored Conditions (e.g. osteoporosis, a forearm fracture),
    and a patient without any vertebral fracture is imported with those Conditions and no case.
    """
    summary = ImportSummary()
    patients: dict[str, Resource] = {}
    aliases: dict[str, str] = {}
    owned: list[tuple[str, Resource]] = []
    medications: dict[str, Resource] = {}
    for key, resource in entries:
        kind = str(resource.get("resourceType"))
        if kind == "Medication":
            medications[key] = resource
            medications[f"Medication/{resource.get('id', '')}"] = resource
        elif kind == "(invalid)":
            summary.rejected.append((key, f"not valid JSON: {resource['error']}"))
        elif kind == "Patient":
            patients[key] = resource
            aliases[key] = key
            aliases[f"Patient/{resource.get('id', '')}"] = key
        elif kind in IMPORTED_TYPES:
            owned.append((key, resource))
        else:
            reason = "derived (recomputed on import)" if kind in DERIVED_TYPES else "not imported by vertebro"
            summary.skipped[f"{kind}: {reason}"] = summary.skipped.get(f"{kind}: {reason}", 0) + 1
    groups: dict[str, dict[str, list[Resource]]] = {key: {} for key in patients}
    problems: dict[str, list[Resource]] = {key: [] for key in patients}
    for key, resource in owned:
        patient_key = aliases.get(_owner(resource) or "")
        if patient_key is None:
            summary.rejected.append((key, f"{resource['resourceType']}.subject: no Patient in the import refers to it"))
            continue
        if _stored_by_us(resource):
            problems[patient_key].append(resource)
            continue
        if fracture is not None and resource["resourceType"] == "Condition" and fracture(resource) is None:
            problems[patient_key].append(resource)  # stored on the record, and read (infection, cancer...)
        group = groups[patient_key].setdefault(_case_key(resource), [])
        group.append(resource)
        group.extend(medications[m] for m in _medication_references(resource) if m in medications)
    for cases in groups.values():
        if "" in cases and len(cases) > 1:  # standard resources without our case identifier: read with every case
            shared = cases.pop("")
            for resources in cases.values():
                resources.extend(shared)
    batch = _Batch(uow, reader, actor, source, summary, progress)
    for patient_key, cases in groups.items():
        if fracture is not None and not any(fracture(r) for rs in cases.values() for r in rs if _is_condition(r)):
            stored = {id(r) for r in problems[patient_key]}
            skipped = [r["resourceType"] for rs in cases.values() for r in rs if id(r) not in stored]
            for kind in skipped:
                reason = f"{kind}: not imported for a patient without a vertebral fracture"
                summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
            cases = {}
        batch.add(_Group(patient_key, patients[patient_key], cases, problems[patient_key]))
    batch.flush()
    return summary


@dataclass(frozen=True, slots=True)
class _Group:
    """One patient's resources: the Patient, the other resources by case key, the Conditions to store."""

    key: str
    patient: Resource
    cases: dict[str, list[Resource]]
    conditions: list[Resource]


@dataclass
class _Batch:
    """Patients imported in order; new patients whose cases read and assess cleanly are stored many at a time.

    A patient goes the one-by-one way (:func:`_import_patient`, a savepoint each) when it has Conditions to store,
    is already in the database (or twice in the batch), when its cases change its fields, or when reading or
    assessing it fails (which that way reports). The others are checked first, with nothing written, then
    stored together in one savepoint; if that fails, they are imported one by one instead. Either way a patient
    is stored whole or not at all, patients get their ids in import order, and the audit entries are those of
    one-by-one storage.
    """

    uow: UnitOfWork
    reader: CaseReader
    actor: str
    source: str
    summary: ImportSummary
    progress: Callable[[int], None] | None
    pending: list[tuple[_Group, list[NewCase]]] = field(default_factory=list)
    ignored: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # by patient key, counted when stored

    def add(self, group: _Group) -> None:
        """Import a patient now (one by one) or hold it for the next bulk write."""
        checked = self._checked(group)
        if checked is None:
            self.flush()
            self._one(group)
            return
        self.pending.append((group, checked))
        if len(self.pending) >= IMPORT_BATCH:
            self.flush()

    def flush(self) -> None:
        """Store the patients held so far, in order."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        identifiers = [checked[0].case.patient.identifier or "" for _, checked in pending]
        known = self.uow.patients.identifiers_taken(identifiers)
        run: list[tuple[_Group, list[NewCase]]] = []
        for item, identifier in zip(pending, identifiers, strict=True):
            if identifier in known:
                self._many(run)
                run = []
                self._one(item[0])
                continue
            known.add(identifier)
            run.append(item)
        self._many(run)

    def _checked(self, group: _Group) -> list[NewCase] | None:
        """The new cases of a patient for the bulk write, or None when it must go one by one."""
        if group.conditions or not group.cases:
            return None
        try:
            refuse_a_death(group.patient)  # refused one by one, with the reason in the summary (H134)
            ignored: list[tuple[str, str]] = []
            reads = [
                _read(self.reader, [group.patient, *rs], ignored)
                for _, rs in sorted(group.cases.items(), key=lambda c: _order(c[0]))
            ]
            people = {
                (r.case.patient.identifier, r.case.patient.name, r.case.patient.birth_date, r.case.patient.sex)
                for r in reads
            }
            if len(people) != 1:
                return None
            checked: list[NewCase] = []
            documents: list[dict[str, Any]] = []
            for case, sources in reads:
                document = case.model_dump(mode="json")
                if document in documents:
                    continue
                documents.append(document)
                assessment = assess(case)
                new = assessed_case(
                    case,
                    assessment,
                    assessment_json(assessment),
                    actor=self.actor,
                    source=self.source,
                    facts=document,
                    fact_sources=sources,
                )
                system_of = _identifier_system(group.patient, case.patient.identifier)
                checked.append(replace(new, identifier_system=system_of))
        except (ValueError, VertebroError):
            return None
        self.ignored[group.key] = ignored
        return checked

    def _many(self, run: list[tuple[_Group, list[NewCase]]]) -> None:
        if not run:
            return
        savepoint = self.uow.session.begin_nested()
        try:
            recorded = store_new_patients(
                self.uow, [checked for _, checked in run], actor=self.actor, source=self.source
            )
            self.uow.workflows.mark_channel([r.case_id for rows in recorded for r in rows], "fhir")
            savepoint.commit()
        except VertebroError:
            savepoint.rollback()
            for group, _ in run:
                self._one(group)
            return
        for group, checked in run:
            self.summary.created.append(group.key)
            self.summary.cases += len(checked)
            _tally(self.summary, self.ignored.pop(group.key, []))
        if self.progress is not None:
            self.progress(len(run))

    def _one(self, group: _Group) -> None:
        self.ignored.pop(group.key, None)  # counted again by the one-by-one import
        _import_patient(
            self.uow,
            group.key,
            group.patient,
            group.cases,
            group.conditions,
            self.reader,
            self.actor,
            self.source,
            self.summary,
        )
        if self.progress is not None:
            self.progress(1)


def _identifier_system(patient: Resource, identifier: str | None) -> str | None:
    """The system of the FHIR Patient's identifier a case was read under (e.g. the EHR's MRN system), kept with a
    new patient so that the EHR finds them by ``identifier=system|value`` and launches their chart; None when the
    identifier has none, is vertebro's own, or is not the one the case names."""
    try:
        fields = patient_fields(patient)
    except ValueError:
        return None
    return fields.identifier_system if identifier is not None and fields.identifier == identifier else None


def _read(reader: CaseReader, resources: list[Resource], ignored: list[tuple[str, str]]) -> _Read:
    """Read a case; the resources the reader ignored (with the reason) are added to ``ignored``."""
    result = reader(resources)
    if isinstance(result, Case):
        return _Read(result, None)
    ignored.extend(result.ignored)
    return _Read(result.case, ("fhir-import", result.fact_sources()))


class _Read(NamedTuple):
    """A case read from FHIR and, when the reader reports them, where its facts came from (decision 0031)."""

    case: Case
    sources: tuple[str, dict[str, Any]] | None


def _tally(summary: ImportSummary, ignored: list[tuple[str, str]]) -> None:
    """Count ignored resources by type and reason in the summary (nothing dropped silently)."""
    for where, reason in ignored:
        key = f"{where.split('/')[0]}: {reason}"
        summary.skipped[key] = summary.skipped.get(key, 0) + 1


def _is_condition(resource: Resource) -> bool:
    return resource.get("resourceType") == "Condition"


def _import_patient(
    uow: UnitOfWork,
    key: str,
    patient: Resource,
    cases: dict[str, list[Resource]],
    conditions: list[Resource],
    reader: CaseReader,
    actor: str,
    source: str,
    summary: ImportSummary,
) -> None:
    savepoint = uow.session.begin_nested()
    try:
        refuse_a_death(patient)  # a patient who has died is not put on the waiting list (H134)
        ignored: list[tuple[str, str]] = []
        reads = [
            _read(reader, [patient, *resources], ignored)
            for _, resources in sorted(cases.items(), key=lambda c: _order(c[0]))
        ]
        if not reads and not conditions:
            reads = [_read(reader, [patient], ignored)]
        for condition in conditions:
            check_bindings(condition)
        identifier = reads[0].case.patient.identifier if reads else patient_fields(patient).identifier
        existing = uow.patients.get_by_identifier(identifier) if identifier else None
        known = _stored_facts(uow, existing) if existing is not None else []
        added = 0
        for case, sources in reads:
            document = case.model_dump(mode="json")
            if document in known:
                continue
            assessment = assess(case)
            recorded = record_assessment(
                uow,
                case,
                assessment,
                assessment_json(assessment),
                actor=actor,
                source=source,
                fact_sources=sources,
                identifier_system=_identifier_system(patient, case.patient.identifier),
            )
            uow.workflows.mark_channel([recorded.case_id], "fhir")
            known.append(document)
            added += 1
        if conditions:
            owner = uow.patients.get_by_identifier(identifier) if identifier else None
            if owner is None:
                owner = add_patient(uow, patient, actor=actor, source=source, via="fhir-import")
            stored = _store_conditions(uow, owner.id, conditions, actor, source)
        else:
            stored = 0
        savepoint.commit()
    except (ValueError, VertebroError) as error:
        savepoint.rollback()
        summary.rejected.append((key, str(error)))
        return
    (summary.matched if existing is not None else summary.created).append(key)
    summary.cases += added
    _tally(summary, ignored)
    summary.conditions += stored


def _stored_by_us(resource: Resource) -> bool:
    """Whether a resource is one of our stored resources (written through /fhir, exported with an ``s…`` id)."""
    return resource["resourceType"] in STORED_TYPES and bool(STORED_ID.match(str(resource.get("id", ""))))


def _comparable(resource: Resource) -> Resource:
    return {k: v for k, v in resource.items() if k not in ("id", "meta", "subject", *UNPLACED)}


def _store_conditions(uow: UnitOfWork, patient_id: int, conditions: list[Resource], actor: str, source: str) -> int:
    """Store a patient's Conditions that are not on a vertebra and our own stored resources (those already
    stored are matched by content, not doubled)."""
    repository = FhirRepository(uow.session)
    known = [_comparable(c) for kind in STORED_TYPES for c in repository.stored_contents_of_patient(patient_id, kind)]
    stored = 0
    for condition in conditions:
        content = _comparable(condition)
        if content in known:
            continue
        resource = {**content, "id": condition.get("id")}  # an id of ours is kept (round trip)
        store_imported(uow, resource, patient_id, actor=actor, source=source)
        known.append(content)
        stored += 1
    return stored


def _order(case_key: str) -> tuple[int, str]:
    return (int(case_key), "") if case_key.isdecimal() else (0, case_key)


def _stored_facts(uow: UnitOfWork, patient: Patient) -> list[dict[str, Any]]:
    return FhirRepository(uow.session).facts_of_patient(patient.id)
