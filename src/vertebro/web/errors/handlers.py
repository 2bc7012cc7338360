"""The app's exception handlers: every error answered in the form its caller reads.

- ``/fhir``: an OperationOutcome (``application/fhir+json``); its routes answer their own errors
  (:class:`vertebro.fhir.responses.FhirRoute`), this covers what happens before a route is chosen (404, 405).
- ``/api``, ``/cds-services`` and requests that accept JSON: :class:`ErrorOut`.
- the portal: its own error pages (401: its sign-in page); staff pages: the error page (401: the sign-in page).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from vertebro.clinical.validation import json_path
from vertebro.errors import InvalidInput, VertebroError
from vertebro.fhir.errors import allowed_methods
from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.responses import FhirResponse
from vertebro.web.errors.schemas import ErrorOut, Problem
from vertebro.web.portal.templating import portal_error
from vertebro.web.templating import page

PAGE_TITLES = {
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Not possible now",
    412: "Changed meanwhile",
    413: "Too large",
    422: "Check what was sent",
    429: "Slow down",
}
JSON_PREFIXES = ("/api", "/cds-services")


def _is_fhir(request: Request) -> bool:
    path = request.url.path
    return path == "/fhir" or path.startswith("/fhir/")


def wants_json(request: Request) -> bool:
    """Return True when the error should be JSON: the JSON API, CDS Hooks, or a client that accepts JSON."""
    return request.url.path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get("accept", "")


def json_error(error: ErrorOut, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """Return an error of the JSON API."""
    return JSONResponse(error.model_dump(), status_code=status, headers=headers)


def problems_of(error: RequestValidationError) -> list[Problem]:
    """Return each invalid input of a request (its JSON path or parameter name, and the problem)."""
    return [
        Problem(field=json_path(tuple(e["loc"][1:])) or str(e["loc"][0]), problem=str(e["msg"])) for e in error.errors()
    ]


async def domain_error(request: Request, error: Exception) -> Response:
    """Answer a domain error (a VertebroError) with its status."""
    assert isinstance(error, VertebroError)
    if _is_fhir(request):
        outcome = operation_outcome(error.status_code, error.message, expression=error.field)
        return FhirResponse(outcome, status_code=error.status_code)
    if wants_json(request):
        return json_error(ErrorOut(detail=error.message, field=error.field), error.status_code)
    if request.url.path.startswith("/portal"):
        return portal_error(request, error)
    if error.status_code == 401:
        return RedirectResponse("/login", status_code=303)
    title = PAGE_TITLES.get(error.status_code, "Something went wrong")
    return page(request, "error.html", None, error.status_code, title=title, message=error.message)


async def invalid_request(request: Request, error: Exception) -> Response:
    """Answer a request whose parameters or body fail validation (422; FHIR: 400)."""
    assert isinstance(error, RequestValidationError)
    problems = problems_of(error)
    if _is_fhir(request):
        where = problems[0].field if problems else None
        message = "; ".join(f"{p.field}: {p.problem}" for p in problems)
        return FhirResponse(operation_outcome(400, message, expression=where), status_code=400)
    if wants_json(request):
        field = problems[0].field if len(problems) == 1 else None
        return json_error(ErrorOut(detail="invalid input", field=field, problems=problems), 422)
    message = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    if request.url.path.startswith("/portal"):
        return portal_error(request, InvalidInput(message))
    return page(request, "error.html", None, 422, title="Check the form", message=message)


async def http_error(request: Request, error: Exception) -> Response:
    """Answer what the router decides before any route runs: no such path (404), or not this method (405)."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    allow = allowed_methods(request.app.openapi(), request.url.path) if error.status_code == 405 else []
    if allow:
        headers["Allow"] = ", ".join(allow)
    detail = str(error.detail)
    if _is_fhir(request):
        return FhirResponse(
            operation_outcome(error.status_code, detail), status_code=error.status_code, headers=headers
        )
    return json_error(ErrorOut(detail=detail), error.status_code, headers)


def install(app: FastAPI) -> None:
    """Register the error handlers on the app."""
    app.add_exception_handler(VertebroError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
