"""The app's exception handlers: every error answered in the form its caller reads.

- ``/fhir``: an OperationOutcome (``application/fhir+json``); its routes answer their own errors
  (:class:`vertebro.fhir.responses.FhirRoute`), this covers what happens before a route is chosen (404, 405).
- ``/api``, ``/cds-services`` and requests that accept JSON: :class:`ErrorOut`.
- the portal: its own error pages (401: its sign-in page); staff pages: the error page (401: the sign-in page).
- a browser (``Accept: text/html``) asking for a path that does not exist: the styled 404 page.
- an unhandled exception: a 500 in the caller's form, never with a traceback (the error is logged with
  the request id, which the page shows so staff can quote it).
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from vertebro.clinical.validation import json_path
from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.fhir.errors import allowed_methods
from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.responses import FhirResponse
from vertebro.store.context import request_id
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
    500: "Something went wrong",
}
SERVER_ERROR = (
    "The service could not finish this request. Nothing you sent was lost by showing this page, but the last "
    "action may not have been saved: check the record before you repeat it."
)
PORTAL_SERVER_ERROR = (  # the portal's error page capitalises it and adds the full stop
    "something went wrong on our side, and what you sent may not have been saved: please try again in a few minutes"
)
_CHART = re.compile(r"^/patients/(\d{1,18})(?:/|$)")
log = logging.getLogger("vertebro.web.errors")
JSON_PREFIXES = ("/api", "/cds-services")


def _is_fhir(request: Request) -> bool:
    path = request.url.path
    return path == "/fhir" or path.startswith("/fhir/")


def reference_of(request: Request) -> str | None:
    """Return the request id the caller can quote: the context's, or the scope's once the middleware has left."""
    state = request.scope.get("state") or {}
    kept = state.get("request_id")
    return request_id.get(None) or (kept if isinstance(kept, str) else None)


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
        listed = [Problem(field=f, problem=m) for f, m in getattr(error, "problems", {}).items()]
        return json_error(ErrorOut(detail=error.message, field=error.field, problems=listed), error.status_code)
    if request.url.path.startswith("/portal"):
        return portal_error(request, error)
    if error.status_code == 401:
        return RedirectResponse("/login", status_code=303)
    title = PAGE_TITLES.get(error.status_code, "Something went wrong")
    return staff_error_page(request, error.status_code, title, error.message)


def way_back(request: Request) -> tuple[str, str]:
    """Return where a staff error page leads back to: the patient's chart for a chart action, else the worklist."""
    match = _CHART.match(request.url.path)
    if match:
        return f"/patients/{match.group(1)}", "Back to the patient's chart"
    return "/", "Back to the worklist"


def staff_error_page(request: Request, status: int, title: str, message: str) -> Response:
    """Return the staff error page: the problem in words and a way back (the chart or the worklist)."""
    back, back_label = ("/", "Back to the worklist") if status == 404 else way_back(request)
    return page(
        request,
        "error.html",
        None,
        status,
        title=title,
        message=message,
        status=status,
        back=back,
        back_label=back_label,
        request_ref=reference_of(request),
    )


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
    return staff_error_page(request, 422, "Check the form", message)


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
    if "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(JSON_PREFIXES):
        message = "There is no page at this address." if error.status_code == 404 else detail
        if request.url.path.startswith("/portal") and error.status_code == 404:
            response = portal_error(request, NotFound(message))
        else:
            title = PAGE_TITLES.get(error.status_code, "Something went wrong")
            response = staff_error_page(request, error.status_code, title, message)
        response.headers.update(headers)
        return response
    return json_error(ErrorOut(detail=detail), error.status_code, headers)


async def server_error(request: Request, error: Exception) -> Response:
    """Answer an unhandled exception with a 500 the caller can read; the traceback goes to the log only.

    The page, the JSON error and the OperationOutcome carry the request id (also as ``X-Request-ID``), which the
    log line of the traceback names too, so a support request can be matched to its log entry.
    """
    ref = reference_of(request)
    log.error(
        "unhandled error",
        exc_info=(type(error), error, error.__traceback__),
        extra={"fields": {"request_id": ref, "path_template": getattr(request.scope.get("route"), "path", None)}},
    )
    response: Response
    if _is_fhir(request):
        response = FhirResponse(operation_outcome(500, f"internal error (reference {ref})"), status_code=500)
    elif wants_json(request):
        response = json_error(ErrorOut(detail=f"internal error (reference {ref})"), 500)
    elif request.url.path.startswith("/portal"):
        response = portal_error(request, VertebroError(f"{PORTAL_SERVER_ERROR} (reference {ref})"))
    else:
        response = staff_error_page(request, 500, PAGE_TITLES[500], SERVER_ERROR)
    if ref:
        response.headers["X-Request-ID"] = ref
    return response


def install(app: FastAPI) -> None:
    """Register the error handlers on the app."""
    app.add_exception_handler(VertebroError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
