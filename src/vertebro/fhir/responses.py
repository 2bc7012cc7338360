"""FHIR responses: the media type, routes whose errors become OperationOutcomes, and Bundles of results."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from vertebro.errors import VertebroError
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import allowed_methods
from vertebro.fhir.operation_outcome import operation_outcome

FHIR_JSON = "application/fhir+json"


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
                allow = allowed_methods(request.app.openapi(), request.url.path) if error.status_code == 405 else []
                headers = {"Allow": ", ".join(allow)} if allow else None
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
) -> Resource:
    """Return a Bundle of resources (a searchset with ``match`` and ``include`` entries, or another type)."""
    links = [{"relation": "self", "url": str(request.url)}]
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
