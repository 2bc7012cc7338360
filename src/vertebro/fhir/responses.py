"""FHIR responses: the media type, routes whose errors become OperationOutcomes, and Bundles of results."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor

from vertebro.errors import VertebroError
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import allowed_methods
from vertebro.fhir.operation_outcome import operation_outcome

FHIR_JSON = "application/fhir+json"


class FhirIdConvertor(Convertor[str]):
    """A path segment that is a FHIR logical id (``{resource_id:fhirid}``), so that ``_history`` or ``$export``
    in its place are routed to their own operations (or a 405), never read as an id."""

    regex = r"[A-Za-z0-9\-.]{1,64}"

    def convert(self, value: str) -> str:
        """Return the id as it stands."""
        return value

    def to_string(self, value: str) -> str:
        """Return the id as it stands."""
        return value


register_url_convertor("fhirid", FhirIdConvertor())

# How /openapi.json describes an instant parameter (``_since``): what the server parses (ISO 8601 with a zone).
INSTANT_SCHEMA = {
    "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
    "examples": ["2026-11-22T10:00:00Z"],
}


class FhirResponse(JSONResponse):
    """A JSON response with the FHIR media type."""

    media_type = FHIR_JSON


class FhirRoute(APIRoute):
    """A route whose errors (domain, validation, authentication) become OperationOutcome responses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so that every error is answered with an OperationOutcome."""
        handler = super().get_route_handler()

        async def fhir_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except VertebroError as error:
                outcome = operation_outcome(error.status_code, error.message, expression=error.field)
                headers = None
                if error.status_code == 405:  # a path no documented operation matches is still readable (GET)
                    allow = allowed_methods(request.app.openapi(), request.url.path) or ["GET"]
                    headers = {"Allow": ", ".join(allow)}
                return FhirResponse(outcome, status_code=error.status_code, headers=headers)
            except RequestValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:]) or str(first["loc"][0])
                outcome = operation_outcome(400, f"{where}: {first['msg']}", expression=where)
                return FhirResponse(outcome, status_code=400)

        return fhir_handler


def bundle(
    request: Request,
    resources: list[Resource],
    *,
    kind: str,
    next_url: str | None = None,
    included: list[Resource] | None = None,
    self_url: str | None = None,
) -> Resource:
    """Return a Bundle of resources (a searchset with ``match`` and ``include`` entries, or another type)."""
    links = [{"relation": "self", "url": self_url or str(request.url)}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    result: Resource = {"resourceType": "Bundle", "type": kind, "link": links}
    if kind == "searchset":
        result["total"] = len(resources) if next_url is None else None
        if result["total"] is None:
            del result["total"]
    base = str(request.base_url).rstrip("/") + "/fhir"
    result["entry"] = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            **({"search": {"mode": "match"}} if kind == "searchset" else {}),
        }
        for r in resources
    ]
    result["entry"].extend(
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "include"}}
        for r in included or []
    )
    return result
