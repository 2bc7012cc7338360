"""The responses every operation declares in ``/openapi.json``: its errors, in the form its caller gets them.

FastAPI documents what a route returns when it succeeds and a 422 in its own shape. vertebro answers errors
in three forms (:mod:`vertebro.web.errors.handlers`), so :func:`document_responses` rewrites the generated
document once, from each operation's path:

- ``/api``, ``/cds-services``: every error as :class:`ErrorOut` (``application/json``);
- ``/fhir``: every error as an OperationOutcome (``application/fhir+json``), invalid input as 400;
- the staff pages and the portal: an HTML page (``text/html``), or :class:`ErrorOut` for a client that
  accepts JSON, a 303 to the sign-in page without a session (and after a form is saved), and ``text/html``
  (not JSON) when they succeed.

The few operations whose success is neither JSON nor HTML (a CSV, PDFs, the export manifest and files) are
listed in :data:`SUCCESS_MEDIA`; the statuses a route answers besides its main one in :data:`MORE_SUCCESS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from vertebro.web.errors.schemas import OPERATION_OUTCOME_SCHEMA, ErrorOut

ERRORS = {
    "400": "Bad request: the body is not valid JSON, is nested too deeply, or (FHIR) is not a valid resource",
    "401": "Not signed in, or the session has ended",
    "403": "Signed in, but this role (or token scope) may not do this, or the CSRF check failed",
    "404": "No such record",
    "409": "Not possible in the record's current state: every reason is given",
    "412": "The record changed since it was read: read it again",
    "413": "The request body is larger than this server accepts here",
    "422": "Invalid input: each problem is named with its field",
    "428": "A conditional request is required: send If-Match with the ETag",
    "429": "Too many attempts or requests from here: wait before trying again",
}
PAGE_ERRORS = {**ERRORS, "410": "The link has been used or has expired"}
FHIR_ERRORS = {
    **ERRORS,
    "406": "Not acceptable: this server answers FHIR R4 JSON only (Accept, _format, fhirVersion)",
    "415": "Unsupported media type: this server reads FHIR R4 JSON only",
}

SUCCESS_MEDIA = {
    ("get", "/admin/audit.csv"): "text/csv",
    ("get", "/patients/{patient_id}/documents/{kind}"): "application/pdf",
    ("get", "/portal/cases/{case_id}/documents/{kind}.pdf"): "application/pdf",
    ("get", "/portal/cases/{case_id}/appointment.ics"): "text/calendar",
    ("get", "/fhir/$export-status/{job_id}"): "application/json",
    ("get", "/fhir/$export-file/{job_id}/{file_name}"): "application/fhir+ndjson",
}
MORE_SUCCESS = {
    ("get", "/fhir/$export-status/{job_id}"): {"202": "The export is still running (X-Progress says how far)"},
}
# Parameters a route checks itself, with its own status and message, rather than through FastAPI: optional in the
# signature, required in fact (If-Match: 428 without it; Prefer: respond-async for $export: 400; patient for a
# FHIR search of clinical data: 422), and so documented as required.
REQUIRED_BY_THE_ROUTE = frozenset({"if-match", "prefer", "patient"})
SEE_OTHER = "See Other: to the sign-in page without a session, or to the next page after a form is saved"

JSON = "application/json"
FHIR_JSON = "application/fhir+json"
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _kind(path: str) -> str:
    if path == "/fhir" or path.startswith("/fhir/"):
        return "fhir"
    if path.startswith(("/api/", "/cds-services")):
        return "api"
    return "page"


def _errors(kind: str) -> dict[str, Any]:
    if kind == "fhir":
        content: dict[str, Any] = {FHIR_JSON: {"schema": OPERATION_OUTCOME_SCHEMA}}
        return {status: {"description": text, "content": content} for status, text in FHIR_ERRORS.items()}
    if kind == "api":
        return {
            status: {"description": text, "content": {JSON: {"schema": ERROR_REF}}} for status, text in ERRORS.items()
        }
    page: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}, JSON: {"schema": ERROR_REF}}
    return {status: {"description": text, "content": page} for status, text in PAGE_ERRORS.items()}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a parameter's schema without the ``null`` FastAPI adds for an optional parameter."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    if len(branches) != 1:
        return schema
    return {**{k: v for k, v in schema.items() if k != "anyOf"}, **branches[0]}


def _document(method: str, path: str, operation: dict[str, Any]) -> None:
    kind = _kind(path)
    for parameter in operation.get("parameters", []):
        if kind != "page" and parameter["name"].lower() in REQUIRED_BY_THE_ROUTE:
            parameter["required"] = True
            parameter["schema"] = _without_null(parameter.get("schema", {}))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's own shape of 422: replaced by ours
    for status, response in responses.items():
        media = SUCCESS_MEDIA.get((method, path))
        content = response.get("content") or {}
        if media is not None:
            response["content"] = {media: {"schema": {"type": "string"} if "json" not in media else {}}}
        elif (
            kind == "page"
            and status.startswith("2")
            and set(content) <= {JSON}
            and not content.get(JSON, {}).get("schema")
        ):
            response["content"] = {"text/html": {"schema": {"type": "string"}}}
    if kind == "fhir":
        for status, response in responses.items():
            if status == "202":  # accepted: the kick-off and the running export answer with headers, no body
                response.pop("content", None)
    for status, text in MORE_SUCCESS.get((method, path), {}).items():
        responses.setdefault(status, {"description": text})
    if kind == "page":
        responses.setdefault("303", {"description": SEE_OTHER})
    for status, response in _errors(kind).items():
        responses.setdefault(status, response)


def document_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare every operation's error responses (and its true success media types)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _document(method, path, operation)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(components["ErrorOut"].pop("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
