"""Small FHIR datatypes built as plain dicts: references, CodeableConcepts, Quantities, identifiers."""

from __future__ import annotations

from typing import Any

from vertebro.fhir.codes import Coding, system

Resource = dict[str, Any]


def reference(resource_type: str, resource_id: str | int) -> dict[str, str]:
    """Return a literal Reference such as ``{"reference": "Patient/12"}``."""
    return {"reference": f"{resource_type}/{resource_id}"}


def concept(*codings: Coding, text: str | None = None) -> dict[str, Any]:
    """Return a CodeableConcept of the given Codings (and text)."""
    value: dict[str, Any] = {}
    if codings:
        value["coding"] = [dict(c) for c in codings]
    if text is not None:
        value["text"] = text
    return value


def quantity(value: float | int, unit: str) -> dict[str, Any]:
    """Return a UCUM Quantity."""
    return {"value": value, "unit": unit, "system": system("ucum"), "code": unit}


def case_identifier(case_id: int) -> dict[str, str]:
    """Return the identifier that ties a resource to one of our cases (a presentation of fractures)."""
    return {"system": system("identifier-case"), "value": str(case_id)}


def resource_key(resource: Resource) -> str:
    """Return ``Type/id`` of a resource."""
    return f"{resource['resourceType']}/{resource.get('id', '')}"
