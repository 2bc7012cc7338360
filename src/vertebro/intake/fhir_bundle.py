"""Read a FHIR R4 Bundle (Patient, Conditions, Observations, Encounters, ServiceRequests, Appointments,
MedicationStatements/Requests with their Medications, AllergyIntolerances) into a validated
:class:`~vertebro.clinical.facts.Case`, with a report of where each fact came from (:class:`Reading`).

The codes vertebro emits (``vertebro/fhir/codes/maps.json``, read as package data: intake does not import the
fhir layer) are read first, so a case exported as FHIR reads back into the same case; the standard codes
hospitals send (SNOMED CT, LOINC, ICD-10-CM, RxNorm, UCUM units) fill in, as written in ``docs/fhir-intake.md``
(``intake.fhir_standard``, ``intake.units``). A fact no record states stays not recorded, never "no". Every
problem names the resource and FHIR path, e.g.
``Observation/c1-72514-3.valueInteger: expected an integer for pain.nrs``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from vertebro.clinical.allergens import SNOMED, SUBSTANCE_CODES, Allergen, classify
from vertebro.clinical.facts import Case, age_on
from vertebro.clinical.levels import level_error
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.preparation import could_be_pregnant
from vertebro.intake import fhir_standard as std
from vertebro.intake.case_file import CaseFileError, parse_case
from vertebro.intake.fhir_standard import Report
from vertebro.intake.units import UnitError, convert
from vertebro.store.fact_sources import FORMAT as FACT_SOURCES_FORMAT
from vertebro.store.fact_sources import value_at

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
        standard = std.level_of_site(site)
        if standard is not None:
            return standard
        text = site.get("text") if isinstance(site, dict) else None
        if isinstance(text, str) and level_error(text.strip()) is None:
            return text.strip()
    return None


def fracture_of(condition: Resource) -> tuple[str, str] | None:
    """Return (level, cause) when a Condition is a vertebral fracture vertebro recognises, else None.

    The level comes from ``bodySite`` (our level code, a SNOMED CT body structure, or the text "T12"), else from
    an ICD-10-CM code that names one level (S32.01xA: L1). The cause is read from every coding, in any order:
    our own cause code wins; otherwise a code naming a cause wins over one that names none ("unknown"); two
    codes naming different causes are a conflict, read as "unknown" and reported (:func:`fracture_conflict`).
    Entered-in-error and refuted Conditions are not fractures.
    """
    if std.ignored_reason(condition) is not None:
        return None
    causes = _causes(condition)
    if not causes:
        return None
    level = _level(condition, "bodySite")
    if level is None:
        levels = {std.level_of_icd(code) for system, code in _codings(condition.get("code")) if system == std.ICD10CM}
        levels.discard(None)
        level = levels.pop() if len(levels) == 1 else None
    if level is None:
        return None
    specific = sorted(causes - {"unknown"})
    return level, specific[0] if len(specific) == 1 else "unknown"


_SAFETY_FAMILIES = (
    ("infection", "active infection"),
    ("neurological_deficit", "neurological deficit"),
    ("pregnancy", "pregnancy"),
)


def case_facts_of_condition(condition: Resource) -> list[str]:
    """Name the case facts a Condition's standard codes bear on, as a case read from FHIR would take them: a
    vertebral fracture with its level, cancer history (any clinical status), and infection, neurological deficit
    or pregnancy while active. Entered-in-error and refuted Conditions bear on none."""
    if std.ignored_reason(condition) is not None:
        return []
    concept = condition.get("code")
    found = [f"vertebral fracture at {fracture[0]}"] if (fracture := fracture_of(condition)) else []
    if std.in_family(concept, "malignancy"):
        found.append("cancer history")
    if _active(condition):
        found += [name for group, name in _SAFETY_FAMILIES if std.in_family(concept, group)]
    return found


def fracture_conflict(condition: Resource) -> str | None:
    """Return a description of codings naming different causes, else None."""
    specific = sorted(_causes(condition) - {"unknown"})
    if len(specific) > 1:
        return f"{_label(condition)}.code: codings name different causes ({', '.join(specific)}); read as unknown"
    return None


def _causes(condition: Resource) -> set[str]:
    codings = _codings(condition.get("code"))
    local = {_fracture_codes()[c] for c in codings if c[0] == _system("cause") and c in _fracture_codes()}
    if local:
        return local
    found = {_fracture_codes()[c] for c in codings if c in _fracture_codes()}
    for system, code in codings:
        if system == std.ICD10CM and (cause := std.icd_fracture_cause(code)) is not None:
            found.add(cause)
    return found


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
        try:
            return convert(float(value["value"]), unit, spec["unit"], where=f"{label}.valueQuantity.code")
        except UnitError as error:
            raise CaseFileError([f"{error} for {spec['path']}"]) from None
    if kind == "date":
        try:
            return std.parse_date(value, f"{label}.{element}").isoformat()
        except ValueError as error:
            raise CaseFileError([str(error)]) from None
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
    return age_on(dt.date.fromisoformat(birth_date[:10]), as_of)


def case_document(resources: list[Resource], *, as_of: dt.date | None = None) -> dict[str, Any]:
    """Return the case file document (JSON-ready) described by one patient's FHIR resources.

    See :func:`case_from_resources`; this one does not validate the document.
    """
    return _document(resources, as_of, Report())


def _by_time(resources: list[Resource], kind: str) -> list[Resource]:
    """The resources of a type, oldest first by effective time (undated first): the latest one is read last."""
    return sorted((r for r in resources if r.get("resourceType") == kind), key=std.effective)


def _set(document: dict[str, Any], report: Report, path: str, value: Any, source: str) -> None:
    """Set a fact from a standard code; a different value already read is a conflict: reported, True kept."""
    current: Any = document
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if current == value and path in report.sources:
        report.sources[path] = f"{report.sources[path]} + {source}"  # two records say the same: both are sources
        return
    if current is not None and current != value:
        report.conflicts.append(f"{path}: {report.sources.get(path, '?')} says {current!r}, {source} says {value!r}")
        if current is True:
            return
    _put(document, path, value)
    report.source(path, source)


def _document(resources: list[Resource], as_of: dt.date | None, report: Report) -> dict[str, Any]:
    """Build the case document; ``report`` receives, per case path, the resource and element it came from,
    the resources ignored and why, and the conflicts read.

    Age comes from the local ``age`` Observation, else from ``Patient.birthDate`` on ``as_of`` (today).
    Raises :class:`~vertebro.intake.case_file.CaseFileError` naming the resource and path of each problem.
    """
    today = as_of or dt.datetime.now(dt.UTC).date()  # only the age in years: the caller gives the clinic's date
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if len(patients) != 1:
        raise CaseFileError([f"Bundle.entry: expected exactly one Patient, found {len(patients)}"])
    patient = patients[0]
    used: list[Resource] = []
    for resource in resources:
        reason = std.ignored_reason(resource)
        if reason is not None:
            report.ignore(resource, reason)
        elif resource.get("resourceType") == "Condition" and (problem := std.condition_problem(resource)):
            raise CaseFileError([problem])
        else:
            used.append(resource)
    resources = used
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
        document["patient"]["birth_date"] = std.parse_date(
            patient["birthDate"], f"{_label(patient)}.birthDate"
        ).isoformat()
    if patient.get("gender") in ("female", "male", "other"):
        document["patient"]["sex"] = patient["gender"]
    elif patient.get("gender") is not None:
        raise CaseFileError([f"{_label(patient)}.gender: {patient['gender']!r} cannot be used (female, male or other)"])

    fractures: dict[str, dict[str, Any]] = {}
    fracture_conditions: set[int] = set()
    for condition in (r for r in resources if r.get("resourceType") == "Condition"):
        found = fracture_of(condition)
        if found is None:
            continue
        fracture_conditions.add(id(condition))
        conflict = fracture_conflict(condition)
        if conflict is not None:
            report.conflicts.append(conflict)
        if found[0] in fractures:
            report.ignore(condition, f"a second fracture Condition at {found[0]}")
            continue
        fractures[found[0]] = {"level": found[0], "cause": found[1]}
        index = len(fractures) - 1
        from_site = _level(condition, "bodySite") is not None
        report.source(f"fractures[{index}].level", f"{_label(condition)}.{'bodySite' if from_site else 'code'}")
        report.source(f"fractures[{index}].cause", f"{_label(condition)}.code")
        onset = _onset(condition, patient, today)
        if onset is not None:
            fractures[found[0]]["onset_weeks"] = onset[0]
            report.source(f"fractures[{index}].onset_weeks", onset[1])
    for observation in _by_time(resources, "Observation"):
        matches = [_specs()[c] for c in _codings(observation.get("code")) if c in _specs()]
        if not matches:
            if not _standard_observation(document, report, observation):
                report.ignore(observation, "code not read by vertebro (see docs/fhir-intake.md)")
            continue
        scope, spec = matches[0]
        value = _value(observation, spec)
        present = _ELEMENTS[spec["type"]] if _ELEMENTS[spec["type"]] in observation else "valueQuantity"
        element = f"{_label(observation)}.{present}"
        if scope == "case_facts":
            _put(document, spec["path"], value)
            report.source(spec["path"], element)
            continue
        level = _level(observation, "bodySite")
        if level is None or level not in fractures:
            where = f"{_label(observation)}.bodySite"
            raise CaseFileError([f"{where}: {spec['path']} names level {level!r}, which has no fracture Condition"])
        _put(fractures[level], spec["path"], value)
        report.source(f"fractures[{list(fractures).index(level)}].{spec['path']}", element)
    document["fractures"] = list(fractures.values())
    if not fractures:
        raise CaseFileError(["Bundle.entry: no Condition is a vertebral fracture with a vertebral level in bodySite"])
    for condition in (r for r in resources if r.get("resourceType") == "Condition"):
        if id(condition) not in fracture_conditions and not _standard_condition(document, report, condition):
            report.ignore(condition, "not a fracture and no fact vertebro reads (kept on import)")
    _encounters(document, report, resources)
    _orders(document, report, resources)
    _medications(document, report, resources)
    _allergies(document, report, resources)
    for resource in resources:
        if resource.get("resourceType") not in _READ_TYPES:
            report.ignore(resource, f"{resource.get('resourceType')} is not read by vertebro")
    if "age" not in document["patient"]:
        age = _age(document["patient"].get("birth_date"), today)
        if age is None:
            raise CaseFileError([f"{_label(patient)}.birthDate: needed for the age (or give the age Observation)"])
        document["patient"]["age"] = age
        report.source("patient.age", f"{_label(patient)}.birthDate")
    return document


_READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "Encounter",
        "ServiceRequest",
        "Appointment",
        "MedicationStatement",
        "MedicationRequest",
        "Medication",
        "AllergyIntolerance",
    }
)


def _onset(condition: Resource, patient: Resource, today: dt.date) -> tuple[float, str] | None:
    """Weeks since the fracture's onset, from onsetDateTime, onsetPeriod.start, onsetAge or recordedDate."""
    label = _label(condition)
    start: dt.date | None = None
    element = ""
    if "onsetDateTime" in condition:
        element = "onsetDateTime"
        start = std.parse_date(condition["onsetDateTime"], f"{label}.onsetDateTime")
    elif isinstance(condition.get("onsetPeriod"), dict) and "start" in condition["onsetPeriod"]:
        element = "onsetPeriod.start"
        start = std.parse_date(condition["onsetPeriod"]["start"], f"{label}.onsetPeriod.start")
    elif isinstance(condition.get("onsetAge"), dict) and patient.get("birthDate"):
        element = "onsetAge (the earliest date of that age)"
        years = std.quantity(
            {"resourceType": "Condition", "id": condition.get("id"), "valueQuantity": condition["onsetAge"]},
            "a",
            "onset",
        )
        born = std.parse_date(patient["birthDate"], f"{_label(patient)}.birthDate")
        start = born + dt.timedelta(days=round(years * 365.25))
    elif "recordedDate" in condition:
        element = "recordedDate (onset no later than this)"
        start = std.parse_date(condition["recordedDate"], f"{label}.recordedDate")
    if start is None:
        return None
    return std.weeks_between(start, today), f"{label}.{element}"


def _active(condition: Resource) -> bool:
    return std.status_code(condition, "clinicalStatus") not in std.INACTIVE_CLINICAL


def _standard_condition(document: dict[str, Any], report: Report, condition: Resource) -> bool:
    """Read infection, malignancy history, neurological deficit and pregnancy from a Condition's codes."""
    concept, source, read = condition.get("code"), f"{_label(condition)}.code", False
    if std.in_family(concept, "malignancy"):
        _set(document, report, "red_flags.cancer_history", True, source)  # history: any clinical status
        read = True
    for group, path in (
        ("infection", "red_flags.active_infection"),
        ("neurological_deficit", "neurological_deficit"),
        ("pregnancy", "patient.pregnant"),
    ):
        if std.in_family(concept, group):
            if _active(condition):
                _set(document, report, path, True, source)
            else:
                report.ignore(condition, f"{group.replace('_', ' ')} no longer active (clinicalStatus)")
            read = True
    return read


def _standard_observation(document: dict[str, Any], report: Report, observation: Resource) -> bool:
    """Read labs under their LOINC variants, pregnancy status, body temperature and blood cultures."""
    table = std.codes()
    loincs = {code for system, code in _codings(observation.get("code")) if system == std.LOINC}
    label = _label(observation)
    for path, spec in table["labs"].items():
        if not path.startswith("_") and loincs & set(spec["loinc"]):
            _put(document, path, std.quantity(observation, spec["unit"], path))
            report.source(path, f"{label}.valueQuantity")
            if path.startswith("labs.") and observation.get("effectiveDateTime"):
                taken = std.parse_date(observation["effectiveDateTime"], f"{label}.effectiveDateTime")
                _put(document, "labs.taken_on", taken.isoformat())
                report.sources["labs.taken_on"] = f"{label}.effectiveDateTime"  # each lab's date: none superseded
            return True
    pregnancy = table["pregnancy"]
    if pregnancy["status_loinc"] in loincs:
        answers = {code for system, code in _codings(observation.get("valueCodeableConcept")) if system == std.SNOMED}
        if answers & set(pregnancy["pregnant"]):
            _put(document, "patient.pregnant", True)
        elif answers & set(pregnancy["not_pregnant"]):
            _put(document, "patient.pregnant", False)
        else:
            report.ignore(observation, "pregnancy status unknown or not coded: pregnancy stays not recorded")
            return True
        report.source("patient.pregnant", f"{label}.valueCodeableConcept")
        return True
    temperature = table["body_temperature"]
    if loincs & set(temperature["loinc"]):
        celsius = std.quantity(observation, "Cel", "red_flags.fever")
        _put(document, "red_flags.fever", celsius >= temperature["fever_at_or_above_cel"])
        report.source("red_flags.fever", f"{label}.valueQuantity ({celsius:.1f} Cel, the latest)")
        return True
    culture = table["blood_culture"]
    if loincs & set(culture["loinc"]):
        interpretations = {code for concept in observation.get("interpretation") or [] for _, code in _codings(concept)}
        values = {code for _, code in _codings(observation.get("valueCodeableConcept"))}
        negative = bool(values & set(culture["negative_snomed"])) or "NEG" in interpretations
        if interpretations & set(culture["positive_interpretation"]) or (values and not negative):
            _set(document, report, "red_flags.active_infection", True, f"{label} (positive blood culture)")
        else:
            report.ignore(observation, "blood culture without growth: does not rule infection out")
        return True
    return False


_INPATIENT_OPEN = frozenset({"arrived", "triaged", "in-progress", "onleave"})


def _encounters(document: dict[str, Any], report: Report, resources: list[Resource]) -> None:
    """Inpatient from the class of the encounter in progress (HL7 v3 ActCode IMP, ACUTE, NONAC)."""
    table = std.codes()["encounter_class"]
    for encounter in (r for r in resources if r.get("resourceType") == "Encounter"):
        status = encounter.get("status")
        code = (encounter.get("class") or {}).get("code") if isinstance(encounter.get("class"), dict) else None
        if status not in _INPATIENT_OPEN:
            report.ignore(encounter, f"encounter {status}: not the current stay")
        elif code in table["inpatient"]:
            _set(document, report, "patient.hospitalized", True, f"{_label(encounter)}.class")
        elif code in table["not_inpatient"]:
            if document["patient"].get("hospitalized") is None:
                _set(document, report, "patient.hospitalized", False, f"{_label(encounter)}.class")
        else:
            report.ignore(encounter, f"Encounter.class {code!r} not read")


def _coded_as(concept: object, group: str) -> bool:
    procedure = _maps()["procedure"]
    wanted = {(_system(e["system"]), e["code"]) for name, entries in procedure.items() for e in entries}
    if group == "vertebroplasty":
        return any(c in wanted for c in _codings(concept))
    dxa = std.codes()["bone_density"]
    return any(
        (system == std.SNOMED and code in dxa["snomed"])
        or (system == std.CPT and code in dxa["cpt"])
        or (system == std.LOINC and code in dxa["loinc"])
        for system, code in _codings(concept)
    )


def _orders(document: dict[str, Any], report: Report, resources: list[Resource]) -> None:
    """The procedure date from the vertebroplasty ServiceRequest or its Appointment; a DXA request."""
    requests: dict[str, Resource] = {}
    for request in _by_time(resources, "ServiceRequest"):
        label = _label(request)
        if _coded_as(request.get("code"), "bone-density"):
            _put(document, "bone_health.bmd_referral_documented", True)
            report.source("bone_health.bmd_referral_documented", f"{label}.code")
        elif _coded_as(request.get("code"), "vertebroplasty"):
            requests[label] = request
            when = request.get("occurrenceDateTime") or (request.get("occurrencePeriod") or {}).get("start")
            if when is not None and "procedure_date" not in document:
                element = "occurrenceDateTime" if "occurrenceDateTime" in request else "occurrencePeriod.start"
                document["procedure_date"] = std.parse_date(when, f"{label}.{element}").isoformat()
                report.source("procedure_date", f"{label}.{element}")
        else:
            report.ignore(request, "ServiceRequest code is neither a vertebroplasty nor a bone density scan")
    for appointment in (r for r in resources if r.get("resourceType") == "Appointment"):
        based = {str(b.get("reference")) for b in appointment.get("basedOn") or [] if isinstance(b, dict)}
        coded = any(
            _coded_as(c, "vertebroplasty")
            for c in [*(appointment.get("serviceType") or []), *(appointment.get("reasonCode") or [])]
        )
        if not (based & set(requests) or coded) or "start" not in appointment:
            report.ignore(appointment, "not a vertebroplasty appointment with a start")
            continue
        label = _label(appointment)
        document["procedure_date"] = std.parse_date(appointment["start"], f"{label}.start").isoformat()
        basis = sorted(based & set(requests))
        report.source("procedure_date", f"{label}.start" + (f" (based on {basis[0]})" if basis else ""))


def _medication_concept(statement: Resource, resources: list[Resource]) -> tuple[dict[str, Any], str]:
    """The medication's CodeableConcept and where it came from: inline, contained or a referenced Medication."""
    label = _label(statement)
    if isinstance(statement.get("medicationCodeableConcept"), dict):
        return statement["medicationCodeableConcept"], f"{label}.medicationCodeableConcept"
    reference = statement.get("medicationReference")
    target = str(reference.get("reference", "")) if isinstance(reference, dict) else ""
    if target.startswith("#"):
        for contained in statement.get("contained") or []:
            if isinstance(contained, dict) and contained.get("id") == target[1:]:
                return contained.get("code") or {}, f"{label}.contained[{target}].code"
    for medication in (r for r in resources if r.get("resourceType") == "Medication"):
        if target in (f"Medication/{medication.get('id')}", medication.get("fullUrl")):
            return medication.get("code") or {}, f"{_label(medication)}.code"
    display = reference.get("display") if isinstance(reference, dict) else None
    if display:
        return {"text": display}, f"{label}.medicationReference.display"
    raise CaseFileError([f"{label}.medicationReference: {target!r} is not in the Bundle or contained"])


def _medications(document: dict[str, Any], report: Report, resources: list[Resource]) -> None:
    names: set[str] = set()
    statements = [r for r in resources if r.get("resourceType") in ("MedicationStatement", "MedicationRequest")]
    unreadable: list[Resource] = []
    for statement in statements:
        kind = statement["resourceType"]
        try:
            concept, source = _medication_concept(statement, resources)
        except CaseFileError as error:  # a drug we cannot name: the list is not read as complete
            unreadable.append(statement)
            report.ignore(statement, f"{error.problems[0]}: the medication list stays not reviewed")
            continue
        if any(
            c.get("system") == IPS_ABSENT and c.get("code") == "no-known-medications"
            for c in concept.get("coding") or []
        ):
            document.setdefault("medications", [])  # reviewed: takes none (IPS uses status "unknown" here)
            report.sources.setdefault("medications", source)
            continue
        if statement.get("status") not in (MEDICATION_STATUSES if kind == "MedicationStatement" else REQUEST_STATUSES):
            report.ignore(statement, f"status {statement.get('status')}: not taken now")
            continue
        text = concept.get("text") or next((c.get("display") for c in concept.get("coding") or []), None)
        drug = std.ingredient(concept)
        if drug is not None:
            name = drug if not text or str(text).lower().startswith(drug) else f"{drug} ({text})"
        elif text:
            name = str(text)
        else:
            raise CaseFileError([f"{source}: needs an RxNorm code, text or a coding display"])
        name = name[:200]
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
        where = source if source.startswith(_label(statement)) else f"{_label(statement)} <- {source}"
        report.source(f"medications[{len(document['medications']) - 1}]", where + (" (RxNorm)" if drug else ""))
    if unreadable and statements:  # one unnamed drug could be an anticoagulant: never a reviewed list
        document.pop("medications", None)
        for path in [p for p in report.sources if p.startswith("medications")]:
            del report.sources[path]


def _allergies(document: dict[str, Any], report: Report, resources: list[Resource]) -> None:
    for allergy in (r for r in resources if r.get("resourceType") == "AllergyIntolerance"):
        concept = allergy.get("code") or {}
        name = concept.get("text") or next((c.get("display") for c in concept.get("coding") or []), None)
        coded_all = [c for c in concept.get("coding") or [] if c.get("system") and c.get("code")]
        none_known = any(
            c["system"] == SNOMED
            and SUBSTANCE_CODES.get(str(c["code"])) is not None
            and SUBSTANCE_CODES[str(c["code"])].allergen is Allergen.NONE_KNOWN
            for c in coded_all
        ) or (not coded_all and bool(name) and classify(str(name)).allergen is Allergen.NONE_KNOWN)
        coded = next((c for c in coded_all if c["system"] == SNOMED), coded_all[0] if coded_all else None)
        if none_known:
            document.setdefault("allergies", [])  # reviewed: none known
        elif coded is not None:  # keep the code: the allergy matcher reads it first
            entry: dict[str, Any] = {"code": coded["code"], "system": coded["system"]}
            if name:
                entry["text"] = name[:100]
            document.setdefault("allergies", []).append(entry)
        elif name:
            document.setdefault("allergies", []).append(name)
        else:
            report.ignore(allergy, "no code and no text")
            continue
        report.sources.setdefault("allergies", f"{_label(allergy)}.code")


MISSING_CHECKED = (
    "patient.hospitalized",
    "red_flags.active_infection",
    "red_flags.fever",
    "red_flags.cancer_history",
    "neurological_deficit",
    "labs.inr",
    "labs.platelets",
    "labs.creatinine_clearance_ml_min",
    "pain.nrs",
    "medications",
    "allergies",
    "procedure_date",
    "bone_health.bmd_referral_documented",
)


@dataclass(frozen=True)
class Reading:
    """A case read from FHIR with, per fact, where it came from, what was not recorded and what was ignored."""

    case: Case
    sources: dict[str, str]
    missing: list[str]
    ignored: list[tuple[str, str]]
    conflicts: list[str]
    codes: dict[str, str] = field(default_factory=dict)  # Type/id -> its code as "System code" (the first coding)

    def fact_sources(self) -> dict[str, Any]:
        """Return the reading report as a ``vertebro-fact-sources/1`` document, stored with the case so that the
        chart shows, per fact, the value read, the resources it came from with their codes, what was not
        recorded, what was ignored and why (decision 0031)."""
        document = self.case.model_dump(mode="json")
        facts = [
            {
                "path": path,
                "value": value_at(document, path),
                "source": source,
                "resources": [
                    {"reference": ref, "code": self.codes[ref] or None} for ref in _references(source, self.codes)
                ],
            }
            for path, source in sorted(self.sources.items())
        ]
        return {
            "format": FACT_SOURCES_FORMAT,
            "facts": facts,
            "not_recorded": list(self.missing),
            "ignored": [{"resource": where, "reason": why} for where, why in self.ignored],
            "conflicts": list(self.conflicts),
        }

    def lines(self) -> list[str]:
        """Return the reading report as text lines (for ``vertebro assess`` on a Bundle)."""
        out = ["Facts read from FHIR:"]
        out += [f"  {path}: {source}" for path, source in sorted(self.sources.items())]
        out.append("Not recorded (unknown, never 'no'): " + (", ".join(self.missing) or "none"))
        out += [f"Conflict: {conflict}" for conflict in self.conflicts]
        out += [f"Ignored {where}: {why}" for where, why in self.ignored]
        return out


SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://terminology.hl7.org/CodeSystem/v3-ActCode": "ActCode",
    "http://www.ama-assn.org/go/cpt": "CPT",
}
CODE_ELEMENTS = ("code", "medicationCodeableConcept", "class", "serviceType", "vaccineCode")


def code_of(resource: Resource) -> str | None:
    """Return a resource's code as the chart shows it, ``System code`` (its first coding with a code)."""
    for element in CODE_ELEMENTS:
        concept = resource.get(element)
        if isinstance(concept, list):
            concept = concept[0] if concept else None
        if not isinstance(concept, dict):
            continue
        codings = [concept] if "code" in concept else [c for c in concept.get("coding") or [] if isinstance(c, dict)]
        for coding in codings:
            if coding.get("code"):
                system = str(coding.get("system") or "no system")
                return f"{SYSTEM_NAMES.get(system, system)} {coding['code']}"
    return None


def _references(source: str, known: dict[str, str]) -> list[str]:
    """The ``Type/id`` labels a source names, in the order named (ids may hold dots: matched against the known)."""
    found = [(source.find(label), label) for label in known if _names(source, label)]
    return [label for _, label in sorted(found)]


def _names(source: str, label: str) -> bool:
    start = source.find(label)
    while start >= 0:
        end = start + len(label)
        before_ok = start == 0 or source[start - 1] in " (+<"
        if before_ok and (end == len(source) or source[end] in ". )"):
            return True
        start = source.find(label, start + 1)
    return False


def _missing(case: Case) -> list[str]:
    data = case.model_dump(mode="json")
    missing: list[str] = []
    for path in MISSING_CHECKED:
        value: Any = data
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            missing.append(path)
    if case.patient.pregnant is None and could_be_pregnant(case, DEFAULT_POLICY):
        missing.insert(0, "patient.pregnant")
    missing += [f"fractures[{i}].onset_weeks" for i, f in enumerate(case.fractures) if f.onset_weeks is None]
    return missing


def read_resources(resources: list[Resource], *, as_of: dt.date | None = None) -> Reading:
    """Return the case of one patient's FHIR resources with its reading report (see :class:`Reading`)."""
    report = Report()
    try:
        document = _document(resources, as_of, report)
    except ValueError as error:
        if isinstance(error, CaseFileError):
            raise
        raise CaseFileError([str(error)]) from None
    try:
        case = parse_case(json.dumps(document), yaml_syntax=False)
    except CaseFileError as error:
        raise CaseFileError([_located(problem, report.sources) for problem in error.problems]) from None
    codes = {_label(r): code_of(r) or "" for r in resources if r.get("resourceType") and r.get("id")}
    return Reading(case, dict(report.sources), _missing(case), list(report.ignored), list(report.conflicts), codes)


def read_bundle(bundle: Resource, *, as_of: dt.date | None = None) -> Reading:
    """Return the case of a FHIR Bundle with its reading report."""
    return read_resources(bundle_resources(bundle), as_of=as_of)


def case_from_resources(resources: list[Resource], *, as_of: dt.date | None = None) -> Case:
    """Return the validated case of one patient's FHIR resources.

    Age comes from the local ``age`` Observation, else from ``Patient.birthDate`` on ``as_of`` (today).
    Raises :class:`~vertebro.intake.case_file.CaseFileError`; each problem names the resource and FHIR
    element it came from, then the case field, e.g. ``Observation/x.valueInteger (pain.nrs): ...``.
    """
    return read_resources(resources, as_of=as_of).case


def _located(problem: str, origins: dict[str, str]) -> str:
    path = problem.split(":", 1)[0]
    for case_path in sorted(origins, key=len, reverse=True):
        if path == case_path or path.startswith(case_path + "."):
            return f"{origins[case_path]} ({problem.split(': ', 1)[0]}): {problem.split(': ', 1)[-1]}"
    return problem


def case_from_bundle(bundle: Resource, *, as_of: dt.date | None = None) -> Case:
    """Return the validated case described by a FHIR Bundle."""
    return case_from_resources(bundle_resources(bundle), as_of=as_of)
