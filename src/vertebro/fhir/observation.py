"""Observation: each recorded fact of a case (pain, disability, labs, imaging findings per level).

Which fact gets which code is in ``codes/maps.json`` (``case_facts``, ``fracture_facts``); the value
type decides the ``value[x]`` element. Facts of one fracture carry the vertebral level in ``bodySite``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vertebro.fhir.codes import coding, local, maps, system
from vertebro.fhir.elements import Resource, case_identifier, concept, quantity, reference

FactSpec = dict[str, str]


def fact_value(spec: FactSpec, value: Any) -> dict[str, Any]:
    """Return the ``value[x]`` (or ``component``) elements for one fact value of the given spec."""
    kind = spec["type"]
    if kind == "integer":
        return {"valueInteger": value}
    if kind == "boolean":
        return {"valueBoolean": value}
    if kind == "decimal":
        return {"valueQuantity": quantity(value, spec["unit"])}
    if kind == "date":
        return {"valueDateTime": value}
    if kind == "time":
        return {"valueTime": value}
    if kind == "string":
        return {"valueString": value}
    if kind == "code":
        return {"valueCodeableConcept": concept(local(spec["value_system"], value))}
    if kind == "heights":
        parts = maps()["height_components"]
        return {
            "component": [
                {"code": concept(coding(parts[name])), "valueQuantity": quantity(value[name], spec["unit"])}
                for name in ("anterior", "middle", "posterior")
            ]
        }
    raise ValueError(f"unknown fact type {kind!r} in maps.json")


def fact_observation(
    resource_id: str,
    patient_id: int,
    case_id: int,
    spec: FactSpec,
    value: Any,
    *,
    level: str | None = None,
) -> Resource:
    """Return the Observation of one fact (a fracture fact when ``level`` is given)."""
    resource: Resource = {
        "resourceType": "Observation",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "status": "final",
        "category": [concept({"system": system("observation-category"), "code": spec["category"]})],
        "code": concept(coding(spec["code"])),
        "subject": reference("Patient", patient_id),
    }
    if level is not None:
        resource["bodySite"] = concept(local("level", level))
    resource.update(fact_value(spec, value))
    return resource


def genant_observation(resource_id: str, patient_id: int, case_id: int, level: str, grade: int) -> Resource:
    """Return the Observation of a fracture's Genant semiquantitative grade (local codes)."""
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "identifier": [case_identifier(case_id)],
        "status": "final",
        "category": [concept({"system": system("observation-category"), "code": "imaging"})],
        "code": concept(coding(maps()["genant_grade"])),
        "subject": reference("Patient", patient_id),
        "bodySite": concept(local("level", level)),
        "valueCodeableConcept": concept(local("genant", str(grade))),
    }


def cement_observation(
    resource_id: str,
    patient_id: int,
    procedure_id: str,
    level: str,
    volume_ml: float,
    leaks: tuple[str, ...],
    injected: tuple[dt.datetime | None, dt.datetime | None] = (None, None),
) -> Resource:
    """Return the Observation of the cement injected at one level: the volume, one leakage component per leak site
    seen (or one "none"), and the injection's start and end as the effective period when the timer recorded them."""
    resource: Resource = {
        "resourceType": "Observation",
        "id": resource_id,
        "partOf": [reference("Procedure", procedure_id)],
        "status": "final",
        "category": [concept({"system": system("observation-category"), "code": "procedure"})],
        "code": concept(coding("local|cement-volume")),
        "subject": reference("Patient", patient_id),
        "bodySite": concept(local("level", level)),
        "valueQuantity": quantity(volume_ml, "mL"),
        "component": [
            {
                "code": concept(coding("local|cement-leakage")),
                "valueCodeableConcept": concept(local("leakage", site)),
            }
            for site in (leaks or ("none",))
        ],
    }
    start, end = injected
    if start is not None:
        resource["effectivePeriod"] = {"start": start.isoformat(), **({"end": end.isoformat()} if end else {})}
    return resource
