"""The error bodies as ``/openapi.json`` documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """One invalid input: where (a JSON path, a parameter or a form field) and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every error of the JSON API (``/api``, ``/cds-services``) and the JSON form of every page's error.

    ``detail`` says what went wrong in plain words; ``field`` names the input it concerns (a JSON path such as
    ``fractures[0].level``, a parameter or a header), when there is one; ``problems`` lists every invalid input
    of a request that failed validation (422).
    """

    model_config = ConfigDict(frozen=True)

    detail: str
    field: str | None = None
    problems: list[Problem] = Field(default_factory=list)


OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "title": "OperationOutcome",
    "description": "A FHIR R4 OperationOutcome: every /fhir error (https://hl7.org/fhir/R4/operationoutcome.html).",
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
