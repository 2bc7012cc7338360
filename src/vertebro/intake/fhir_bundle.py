"""Read a FHIR R4 Bundle (Patient, Conditions, Observations, MedicationStatements/Requests, AllergyIntolerances)
into a validated :class:`~vertebro.clinical.facts.Case`.

The codes recognised are those vertebro emits (``vertebro/fhir/codes/maps.json``, read as package data:
intake does not import the fhir layer), so a case exported as FHIR reads back into the same case. A vertebral
fracture is a Condition with a recognised fracture code (local cause, ICD-10-CM or SNOMED CT) and a vertebral
level in ``bodySite``. Every problem names the resource and FHIR path, e.g.
``Observation/c1-72514-3.valueInteger: expected an integer for pain.nrs``.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib.resources import files
from typing import Any

from vertebro.clinical.allergens import SNOMED, SUBSTANCE_CODES, Allergen, classify
from vertebro.clinical.facts import Case
from vertebro.clinical.levels import level_error
from vertebro.intake.case_file import CaseFileError, parse_case

Resource = dict[str, Any]
CODES_PACKAGE = "vertebro.fhir.codes"
IPS_ABSENT = "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips"
MEDICATION_STATUSES = frozenset({"active", "intended", "on-hold"})
REQUEST_STATUSES = frozenset({"active", "on-hold", "draft"})  # MedicationRequest: prescribed, not ended


@cache
def _maps() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files(CODES_PACKAGE).joinpath("maps.json").read_text(encoding="utf-8"))
    return data


def _system(key: str) -> str:
    uri: str = _maps()["systems"][key]
    return uri


_DECISION_PARTS = {
    "decision": ("decision", "valueCode"),
    "agreedOn": ("agreed_on", "valueDate"),
    "recordedBy": ("recorded_by", "valueString"),
    "stopDaysBefore": ("stop_days_before", "valueInteger"),
    "note": ("note", "valueString"),
}


def _hold_extensions(statement: Resource) -> dict[str, Any]:
    """Return the thrombotic risk and the prescriber decision carried as vertebro extensions (decision 0016)."""
    found: dict[str, Any] = {}
    for extension in statement.get("extension") or []:
        if extension.get("url") == _system("thrombotic-risk-extension") and extension.get("valueCode"):
            found["thrombotic_risk"] = extension["valueCode"]
        elif extension.get("url") == _system("prescriber-decision-extension"):
            decision: dict[str, Any] = {}
            for part in extension.get("extension") or []:
                field, value_key = _DECISION_PARTS.get(part.get("url", ""), (None, None))
                if field is not None and value_key is not None and value_key in part:
                    decision[field] = part[value_key]
            found["prescriber_decision"] = decision
    return found


def _code_key(reference: str) -> tuple[str, str]:
    """Return (system URI, code) of a maps.json code reference (``local|age`` or ``observation.nrs``)."""
    if "|" in reference:
        key, code = reference.split("|", 1)
        return _system(key), code
    group, name = reference.split(".", 1)
    entry = _maps()[group][name]
    return _system(entry["system"]), entry["code"]


@cache
def _specs() -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    table: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for scope in ("case_facts", "fracture_facts"):
        for spec in _maps()[scope]:
            table[_code_key(spec["code"])] = (scope, spec)
    return table


@cache
def _fracture_codes() -> dict[tuple[str, str], str]:
    table = {(_system("cause"), cause): cause for cause in _maps()["fracture_cause"]}
    for key, cause in _maps()["recognised_fracture_codes"].items():
        if not key.startswith("_"):
            system_key, code = key.split("|", 1)
            table[(_system(system_key), code)] = cause
    return table


def is_bundle(data: object) -> bool:
    """Return True when a parsed JSON document is a FHIR Bundle."""
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def bundle_resources(bundle: Resource) -> list[Resource]:
    """Return the resources of a Bundle's entries (entries without a resource are skipped)."""
    entries = bundle.get("entry") or []
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _label(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def _codings(concept: object) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [(str(c.get("system")), str(c.get("code"))) for c in concept.get("coding") or [] if isinstance(c, dict)]


def _level(resource: Resource, element: str) -> str | None:
    sites = resource.get(element)
    concepts = sites if isinstance(sites, list) else [sites]
    for site in concepts:
        for system, code in _codings(site):
            if system == _system("level") and level_error(code) is None:
                return code
        text = site.get("text") if isinstance(site, dict) else None
        if isinstance(text, str) and level_error(text.strip()) is None:
            return text.strip()
    return None


def fracture_of(condition: Resource) -> tuple[str, str] | None:
    """Return (level, cause) when a Condition is a vertebral fracture vertebro recognises, else None."""
    codings = _codings(condition.get("code"))
    local = [_fracture_codes()[c] for c in codings if c[0] == _system("cause") and c in _fracture_codes()]
    other = [_fracture_codes()[c] for c in codings if c in _fracture_codes()]
    causes = local or other
    level = _level(condition, "bodySite")
    if not causes or level is None:
        return None
    return level, causes[0]


_ELEMENTS = {
    "integer": "valueInteger",
    "boolean": "valueBoolean",
    "decimal": "valueQuantity",
    "date": "valueDateTime",
    "time": "valueTime",
    "string": "valueString",
    "code": "valueCodeableConcept",
    "heights": "component",
}


def _value(resource: Resource, spec: dict[str, str]) -> Any:
    label, kind = _label(resource), spec["type"]
    element = _ELEMENTS[kind]
    quantity = resource.get("valueQuantity")
    if kind == "integer" and element not in resource and isinstance(quantity, dict):
        number = quantity.get("value")
        if isinstance(number, int | float) and float(number).is_integer():
            return int(number)  # scores sent as a Quantity (e.g. Synthea's pain score with unit {score})
        raise CaseFileError([f"{label}.valueQuantity.value: {number!r} is not a whole number for {spec['path']}"])
    if element not in resource:
        raise CaseFileError([f"{label}.{element}: expected for {spec['path']} ({kind})"])
    value = resource[element]
    if kind == "decimal":
        if not isinstance(value, dict) or not isinstance(value.get("value"), int | float):
            raise CaseFileError([f"{label}.valueQuantity.value: expected a number for {spec['path']}"])
        unit = value.get("code") or value.get("unit")
        if unit is not None and unit != spec["unit"]:
            raise CaseFileError([f"{label}.valueQuantity.code: expected unit {spec['unit']!r}, got {unit!r}"])
        return value["value"]
    if kind == "date":
        return str(value)[:10]
    if kind == "code":
        codes = [code for system, code in _codings(value) if system == _system(spec["value_system"])]
        if not codes:
            raise CaseFileError([f"{label}.valueCodeableConcept: no code of {_system(spec['value_system'])}"])
        return codes[0]
    if kind == "heights":
        parts = {_code_key(ref): name for name, ref in _maps()["height_components"].items()}
        heights: dict[str, Any] = {}
        for component in value if isinstance(value, list) else []:
            for coding in _codings(component.get("code")):
                if coding in parts:
                    heights[parts[coding]] = (component.get("valueQuantity") or {}).get("value")
        missing = sorted(set(parts.values()) - set(heights))
        if missing:
            raise CaseFileError([f"{label}.component: missing {', '.join(missing)} for {spec['path']}"])
        return heights
    return value


def _put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        document = document.setdefault(part, {})
    document[leaf] = value


def _age(birth_date: str | None, as_of: dt.date) -> int | None:
    if not birth_date or len(birth_date) < 10:
        return None
    born = dt.date.fromisoformat(birth_date[:10])
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def case_document(resources: list[Resource], *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Return the case file document (JSON-ready) described by one patient's FHIR resources.

    See :func:`case_from_resources`; this one does not validate the document.
    """
    return _document(resources, as_of, {})


def _document(resources: list[Resource], as_of: dt.date | None, origins: dict[str, str]) -> dict[str, Any]:
    """Build the case document; ``origins`` receives, per case path, the resource and element it came from.

    Age comes from the local ``age`` Observation, else from ``Patient.birthDate`` on ``as_of`` (today).
    Raises :class:`~vertebro.intake.case_file.CaseFileError` naming the resource and path of each problem.
    """
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if len(patients) != 1:
        raise CaseFileError([f"Bundle.entry: expected exactly one Patient, found {len(patients)}"])
    patient = patients[0]
    document: dict[str, Any] = {"patient": {}, "fractures": []}
    identifiers = [i for i in patient.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    ours = [i for i in identifiers if i.get("system") == _system("identifier-patient")]
    if ours or identifiers:
        document["patient"]["identifier"] = str((ours or identifiers)[0]["value"])
    for name in patient.get("name") or []:
        text = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()
        if text:
            document["patient"]["name"] = text
            break
    if patient.get("birthDate"):
        document["patient"]["birth_date"] = patient["birthDate"]
    if patient.get("gender") in ("female", "male", "other"):
        document["patient"]["sex"] = patient["gender"]
    elif patient.get("gender") is not None:
        raise CaseFileError([f"{_label(patient)}.gender: {patient['gender']!r} cannot be used (female, male or other)"])

    fractures: dict[str, dict[str, Any]] = {}
    for condition in (r for r in resources if r.get("resourceType") == "Condition"):
        found = fracture_of(condition)
        if found is not None and found[0] not in fractures:
            fractures[found[0]] = {"level": found[0], "cause": found[1]}
    for observation in (r for r in resources if r.get("resourceType") == "Observation"):
        if observation.get("status") in ("entered-in-error", "cancelled"):
            continue
        matches = [_specs()[c] for c in _codings(observation.get("code")) if c in _specs()]
        if not matches:
            continue
        scope, spec = matches[0]
        value = _value(observation, spec)
        element = f"{_label(observation)}.{_ELEMENTS[spec['type']]}"
        if scope == "case_facts":
            _put(document, spec["path"], value)
            origins[spec["path"]] = element
            continue
        level = _level(observation, "bodySite")
        if level is None or level not in fractures:
            where = f"{_label(observation)}.bodySite"
            raise CaseFileError([f"{where}: {spec['path']} names level {level!r}, which has no fracture Condition"])
        _put(fractures[level], spec["path"], value)
        origins[f"fractures[{list(fractures).index(level)}].{spec['path']}"] = element
    document["fractures"] = list(fractures.values())
    if not fractures:
        raise CaseFileError(["Bundle.entry: no Condition is a vertebral fracture with a vertebral level in bodySite"])

    names: set[str] = set()
    for statement in (r for r in resources if r.get("resourceType") in ("MedicationStatement", "MedicationRequest")):
        kind = statement["resourceType"]
        concept = statement.get("medicationCodeableConcept") or {}
        if statement.get("status") != "entered-in-error" and any(
            c.get("system") == IPS_ABSENT and c.get("code") == "no-known-medications"
            for c in concept.get("coding") or []
        ):
            document.setdefault("medications", [])  # reviewed: takes none (IPS uses status "unknown" here)
            continue
        if statement.get("status") not in (MEDICATION_STATUSES if kind == "MedicationStatement" else REQUEST_STATUSES):
            continue
        name = concept.get("text") or next((c.get("display") for c in concept.get("coding") or []), None)
        if not name:
            raise CaseFileError([f"{_label(statement)}.medicationCodeableConcept: needs text or a coding display"])
        if name.lower() in names:
            continue  # the same drug as a statement and as a prescription
        names.add(name.lower())
        medication: dict[str, Any] = {"name": name}
        reasons = statement.get("reasonCode") or []
        purposes = [c for r in reasons for s, c in _codings(r) if s == _system("medication-purpose")]
        dosages = statement.get("dosage" if kind == "MedicationStatement" else "dosageInstruction") or []
        routes = [c for d in dosages for s, c in _codings(d.get("route")) if s == _system("route")]
        if purposes:
            medication["purpose"] = purposes[0]
        if routes:
            medication["route"] = routes[0]
        medication.update(_hold_extensions(statement))
        document.setdefault("medications", []).append(medication)
    for allergy in (r for r in resources if r.get("resourceType") == "AllergyIntolerance"):
        concept = allergy.get("code") or {}
        name = concept.get("text") or next((c.get("display") for c in concept.get("coding") or []), None)
        coded = next((c for c in concept.get("coding") or [] if c.get("system") and c.get("code")), None)
        none_known = (
            coded is not None
            and SUBSTANCE_CODES.get(str(coded["code"])) is not None
            and coded["system"] == SNOMED
            and SUBSTANCE_CODES[str(coded["code"])].allergen is Allergen.NONE_KNOWN
        ) or (coded is None and bool(name) and classify(str(name)).allergen is Allergen.NONE_KNOWN)
        if none_known:
            document.setdefault("allergies", [])  # reviewed: none known
        elif coded is not None:  # keep the code: the allergy matcher reads it first
            entry: dict[str, Any] = {"code": coded["code"], "system": coded["system"]}
            if name:
                entry["text"] = name[:100]
            document.setdefault("allergies", []).append(entry)
        elif name:
            document.setdefault("allergies", []).append(name)
    if "age" not in document["patient"]:
        age = _age(patient.get("birthDate"), as_of or dt.date.today())
        if age is None:
            raise CaseFileError([f"{_label(patient)}.birthDate: needed for the age (or give the age Observation)"])
        document["patient"]["age"] = age
    return document


def case_from_resources(resources: list[Resource], *, as_of: dt.date | None = None) -> Case:
    """Return the validated case of one patient's FHIR resources.

    Age comes from the local ``age`` Observation, else from ``Patient.birthDate`` on ``as_of`` (today).
    Raises :class:`~vertebro.intake.case_file.CaseFileError`; each problem names the resource and FHIR
    element it came from, then the case field, e.g. ``Observation/x.valueInteger (pain.nrs): ...``.
    """
    origins: dict[str, str] = {}
    document = _document(resources, as_of, origins)
    try:
        return parse_case(json.dumps(document), yaml_syntax=False)
    except CaseFileError as error:
        raise CaseFileError([_located(problem, origins) for problem in error.problems]) from None


def _located(problem: str, origins: dict[str, str]) -> str:
    path = problem.split(":", 1)[0]
    for case_path in sorted(origins, key=len, reverse=True):
        if path == case_path or path.startswith(case_path + "."):
            return f"{origins[case_path]} ({problem.split(': ', 1)[0]}): {problem.split(': ', 1)[-1]}"
    return problem


def case_from_bundle(bundle: Resource, *, as_of: dt.date | None = None) -> Case:
    """Return the validated case described by a FHIR Bundle."""
    return case_from_resources(bundle_resources(bundle), as_of=as_of)
