"""Import FHIR resources (Bundles or NDJSON) into our records, patient by patient, all or nothing per patient.

Resources are grouped by the Patient they belong to (``subject``/``patient`` references, by id or fullUrl),
then by our case identifier when present. Each patient's group is read into a case by the reader the caller
passes (``vertebro.intake.fhir_bundle.case_from_resources``: intake and fhir are sibling layers), assessed and
recorded inside a savepoint: a bad resource rolls back that patient only, never leaves half a patient.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vertebro.clinical import Case, assess, assessment_json
from vertebro.errors import VertebroError
from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource
from vertebro.fhir.repository import FhirRepository
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Patient
from vertebro.store.service import record_assessment

IMPORTED_TYPES = frozenset({"Patient", "Condition", "Observation", "MedicationStatement", "AllergyIntolerance"})
DERIVED_TYPES = frozenset({"GuidanceResponse"})  # recomputed by the rules on import, never taken as given
CaseReader = Callable[[list[Resource]], Case]


@dataclass
class ImportSummary:
    """What an import did: patients created or matched, cases created, what was skipped or rejected and why."""

    created: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)
    cases: int = 0
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
    return None


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
) -> ImportSummary:
    """Import the entries; returns the summary. Nothing is committed: the caller commits the whole import."""
    summary = ImportSummary()
    patients: dict[str, Resource] = {}
    aliases: dict[str, str] = {}
    owned: list[tuple[str, Resource]] = []
    for key, resource in entries:
        kind = str(resource.get("resourceType"))
        if kind == "(invalid)":
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
    for key, resource in owned:
        patient_key = aliases.get(_owner(resource) or "")
        if patient_key is None:
            summary.rejected.append((key, f"{resource['resourceType']}.subject: no Patient in the import refers to it"))
            continue
        groups[patient_key].setdefault(_case_key(resource), []).append(resource)
    for patient_key, cases in groups.items():
        _import_patient(uow, patient_key, patients[patient_key], cases, reader, actor, source, summary)
        if progress is not None:
            progress(1)
    return summary


def _import_patient(
    uow: UnitOfWork,
    key: str,
    patient: Resource,
    cases: dict[str, list[Resource]],
    reader: CaseReader,
    actor: str,
    source: str,
    summary: ImportSummary,
) -> None:
    savepoint = uow.session.begin_nested()
    try:
        facts = [reader([patient, *resources]) for _, resources in sorted(cases.items(), key=lambda c: _order(c[0]))]
        if not facts:
            facts = [reader([patient])]
        identifier = facts[0].patient.identifier
        existing = uow.patients.get_by_identifier(identifier) if identifier else None
        known = _stored_facts(uow, existing) if existing is not None else []
        added = 0
        for case in facts:
            document = case.model_dump(mode="json")
            if document in known:
                continue
            assessment = assess(case)
            record_assessment(uow, case, assessment, assessment_json(assessment), actor=actor, source=source)
            known.append(document)
            added += 1
        savepoint.commit()
    except (ValueError, VertebroError) as error:
        savepoint.rollback()
        summary.rejected.append((key, str(error)))
        return
    (summary.matched if existing is not None else summary.created).append(key)
    summary.cases += added


def _order(case_key: str) -> tuple[int, str]:
    return (int(case_key), "") if case_key.isdigit() else (0, case_key)


def _stored_facts(uow: UnitOfWork, patient: Patient) -> list[dict[str, Any]]:
    return FhirRepository(uow.session).facts_of_patient(patient.id)
