"""Read the standard codes hospitals send (SNOMED CT, LOINC, ICD-10-CM, RxNorm, UCUM) into case facts.

The mapping is written down in ``docs/fhir-intake.md``; the codes are in ``vertebro/fhir/codes/intake.json``
(read as package data: intake does not import the fhir layer), each group with its source and verification.
Absence means "not recorded" (``None``), never "no": a fact is set to False only by a record that says no
(a "not pregnant" status, a normal temperature, an outpatient encounter in progress).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from vertebro.intake.units import UnitError, convert

Resource = dict[str, Any]
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CPT = "http://www.ama-assn.org/go/cpt"
IGNORED_OBSERVATION = frozenset({"entered-in-error", "cancelled"})
IGNORED_VERIFICATION = frozenset({"entered-in-error", "refuted"})
INACTIVE_CLINICAL = frozenset({"inactive", "resolved", "remission"})
CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"})
VERIFICATION_STATUSES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)


@dataclass
class Report:
    """What a reading took from where, what it ignored and why, and the conflicts it did not resolve."""

    sources: dict[str, str] = field(default_factory=dict)  # case path -> "Type/id.element"
    ignored: list[tuple[str, str]] = field(default_factory=list)  # ("Type/id", reason)
    conflicts: list[str] = field(default_factory=list)

    def source(self, path: str, source: str) -> None:
        """Record where a fact came from; the record it replaces (an older value) is listed as superseded."""
        before = self.sources.get(path)
        if before is not None and before.split(".")[0] != source.split(".")[0]:
            self.ignored.append((before.split(".")[0], f"{path}: superseded by the later {source.split('.')[0]}"))
        self.sources[path] = source

    def ignore(self, resource: Resource, reason: str) -> None:
        """Record that a resource was not used, and why."""
        self.ignored.append((label(resource), reason))


@cache
def codes() -> dict[str, Any]:
    """Return the intake code tables (``intake.json``)."""
    data: dict[str, Any] = json.loads(files("vertebro.fhir.codes").joinpath("intake.json").read_text(encoding="utf-8"))
    return data


def label(resource: Resource) -> str:
    """Return ``Type/id`` of a resource."""
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def codings(concept: object) -> list[tuple[str, str]]:
    """Return (system, code) of each coding of a CodeableConcept."""
    if not isinstance(concept, dict):
        return []
    return [(str(c.get("system")), str(c.get("code"))) for c in concept.get("coding") or [] if isinstance(c, dict)]


def status_code(resource: Resource, element: str) -> str | None:
    """Return the first code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    concept = resource.get(element)
    found = [code for _, code in codings(concept)]
    return found[0] if found else None


def condition_problem(condition: Resource) -> str | None:
    """Return why a Condition's status cannot be read (a code outside the FHIR required binding), else None."""
    for element, allowed in (("clinicalStatus", CLINICAL_STATUSES), ("verificationStatus", VERIFICATION_STATUSES)):
        code = status_code(condition, element)
        if element in condition and code not in allowed:
            codes_allowed = ", ".join(sorted(allowed))
            return f"{label(condition)}.{element}: {code!r} is not in the required value set ({codes_allowed})"
    return None


def ignored_reason(resource: Resource) -> str | None:
    """Return why a record is not used (entered in error, refuted, cancelled...), else None."""
    kind = resource.get("resourceType")
    status = resource.get("status")
    if kind == "Observation" and status in IGNORED_OBSERVATION:
        return f"status {status}"
    if kind == "Condition":
        verification = status_code(resource, "verificationStatus")
        if verification in IGNORED_VERIFICATION:
            return f"verificationStatus {verification}"
    if kind in ("MedicationStatement", "MedicationRequest", "ServiceRequest", "Appointment") and status in (
        "entered-in-error",
        "cancelled",
        "revoked",
        "noshow",
    ):
        return f"status {status}"
    if kind == "AllergyIntolerance" and status_code(resource, "verificationStatus") in IGNORED_VERIFICATION:
        return f"verificationStatus {status_code(resource, 'verificationStatus')}"
    return None


def effective(resource: Resource) -> str:
    """Return the effective time of a record as an ISO text ("" when none: sorted before any dated one)."""
    for key in ("effectiveDateTime", "effectiveInstant", "issued", "recordedDate", "authoredOn", "dateAsserted"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return str(period["start"])
    return ""


def parse_date(text: object, where: str) -> dt.date:
    """Return the date of a FHIR date or dateTime; an invalid one raises ValueError naming ``where``."""
    if not isinstance(text, str) or len(text) < 4:
        raise ValueError(f"{where}: {text!r} is not a FHIR date")
    try:
        if len(text) == 4:
            return dt.date(int(text), 1, 1)
        if len(text) == 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a FHIR date") from None


def level_of_site(concept: object) -> str | None:
    """Return the vertebral level a SNOMED CT body structure names (DICOM CID 7603), else None."""
    table = codes()["vertebra_body_structure"]
    for system, code in codings(concept):
        if system == SNOMED and code in table:
            return str(table[code][0])
    return None


def level_of_icd(code: str) -> str | None:
    """Return the single vertebral level an ICD-10-CM fracture code names (e.g. S32.01xA: L1), else None."""
    table = codes()["icd10cm_fracture_level"]
    for prefix in sorted((k for k in table if not k.startswith("_")), key=len, reverse=True):
        if code.upper().startswith(prefix):
            return str(table[prefix])
    return None


def icd_fracture_cause(code: str) -> str | None:
    """Return the cause an ICD-10-CM vertebral fracture code implies ("unknown" when it names none)."""
    table = codes()["icd10cm_fracture_prefixes"]
    for prefix in sorted((k for k in table if not k.startswith("_")), key=len, reverse=True):
        if code.upper().startswith(prefix):
            return str(table[prefix])
    return None


def in_family(concept: object, group: str) -> bool:
    """Whether a concept has an ICD-10-CM code under a prefix, or a SNOMED CT code, of a family in intake.json."""
    family = codes()[group]
    for system, code in codings(concept):
        if system == ICD10CM and any(code.upper().startswith(p) for p in family["icd10cm_prefixes"]):
            return True
        if system == SNOMED and code in family["snomed"]:
            return True
    return False


def quantity(resource: Resource, target: str, path: str) -> float:
    """Return an Observation's valueQuantity in ``target`` units; errors name the resource and element."""
    value = resource.get("valueQuantity")
    where = f"{label(resource)}.valueQuantity"
    if not isinstance(value, dict) or not isinstance(value.get("value"), int | float):
        raise ValueError(f"{where}.value: expected a number for {path}")
    unit = value.get("code") or value.get("unit")
    try:
        return convert(float(value["value"]), unit, target, where=f"{where}.code ({path})")
    except UnitError as error:
        raise ValueError(str(error)) from None


def ingredient(concept: object) -> str | None:
    """Return the hold-table ingredient an RxNorm coding names (ingredient or product code), else None."""
    table = codes()["rxnorm"]
    for system, code in codings(concept):
        if system == RXNORM and code in table:
            return str(table[code][0])
    return None


def weeks_between(start: dt.date, end: dt.date) -> float:
    """Return the whole and part weeks from ``start`` to ``end`` (0 when start is later)."""
    return round(max((end - start).days, 0) / 7, 1)
