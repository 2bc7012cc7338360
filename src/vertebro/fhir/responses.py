"""FHIR responses: the media type, routes whose errors become OperationOutcomes, and Bundles of results."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor

from vertebro.errors import VertebroError
from vertebro.fhir.elements import Resource
from vertebro.fhir.errors import InvalidToken, NotAcceptable, UnsupportedMediaType, allowed_methods
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


FHIR_VERSIONS = ("4.0", "4.0.1")  # what a fhirVersion media type parameter may name (R4)
_JSON_MEDIA = frozenset(
    {"application/fhir+json", "application/json", "application/fhir+ndjson", "application/ndjson", "json"}
)
_ANY_MEDIA = frozenset({"*/*", "application/*"})


def _media_range(text: str) -> tuple[str, dict[str, str]]:
    media, *rest = (part.strip() for part in text.split(";"))
    parameters = {}
    for item in rest:
        key, _, value = item.partition("=")
        parameters[key.strip().lower()] = value.strip().strip('"')
    return media.lower(), parameters


def negotiation_error(request: Request) -> tuple[int, str] | None:
    """Return the status (406, 415) and message when a request asks for or sends what is not FHIR R4 JSON.

    ``_format`` overrides Accept (FHIR R4 http 3.1.0.1.9); a ``fhirVersion`` parameter other than 4.0 is refused
    (FHIR R4 versioning 2.1.0.3.2); an XML or other non-JSON body is 415.
    """
    requested = request.query_params.get("_format")
    if requested is not None:
        media, parameters = _media_range(requested)
        if media not in _JSON_MEDIA or parameters.get("fhirversion", "4.0") not in FHIR_VERSIONS:
            return 406, f"_format={requested!r}: this server answers FHIR R4 JSON only (application/fhir+json)"
    elif accept := request.headers.get("accept"):
        usable = False
        for item in accept.split(","):
            media, parameters = _media_range(item)
            if not media or parameters.get("q", "1") in ("0", "0.0", "0.00", "0.000"):
                continue
            if parameters.get("fhirversion", "4.0") not in FHIR_VERSIONS:
                continue
            usable = usable or media in _JSON_MEDIA or media in _ANY_MEDIA
        if not usable:
            return 406, f"Accept {accept!r}: this server answers FHIR R4 JSON only (application/fhir+json)"
    sent = request.headers.get("content-type")
    if sent and request.method in ("POST", "PUT", "PATCH"):
        media, parameters = _media_range(sent)
        if not (media in _JSON_MEDIA or media.endswith("+json")):
            return 415, f"Content-Type {sent!r}: this server reads FHIR R4 JSON only (application/fhir+json)"
        if parameters.get("fhirversion", "4.0") not in FHIR_VERSIONS:
            return 415, f"Content-Type {sent!r}: this server reads FHIR R4 (fhirVersion=4.0) only"
    return None


def check_negotiation(request: Request) -> None:
    """Raise NotAcceptable (406) or UnsupportedMediaType (415) when :func:`negotiation_error` finds a problem."""
    refused = negotiation_error(request)
    if refused is not None:
        raise (NotAcceptable if refused[0] == 406 else UnsupportedMediaType)(refused[1])


def _negotiates(dependant: Dependant) -> bool:
    """Whether a dependency of the route checks the negotiation itself (after authentication: a request
    that is not signed in is told so first)."""
    return any(getattr(d.call, "checks_negotiation", False) or _negotiates(d) for d in dependant.dependencies)


def bearer_challenge(error: VertebroError) -> str:
    """The ``WWW-Authenticate`` value of a 401: the realm, and ``error="invalid_token"`` when a bearer token was
    sent but is not valid (RFC 6750 section 3.1; a request without credentials gets no error code)."""
    if isinstance(error, InvalidToken):
        return 'Bearer realm="vertebro FHIR", error="invalid_token", error_description="the access token is not valid"'
    return 'Bearer realm="vertebro FHIR"'


class FhirRoute(APIRoute):
    """A route whose errors (domain, validation, authentication) become OperationOutcome responses."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so that every error is answered with an OperationOutcome."""
        handler = super().get_route_handler()
        checked_by_dependency = _negotiates(self.dependant)

        async def fhir_handler(request: Request) -> Response:
            refused = None if checked_by_dependency else negotiation_error(request)
            if refused is not None:
                return FhirResponse(operation_outcome(refused[0], refused[1]), status_code=refused[0])
            try:
                return await handler(request)
            except VertebroError as error:
                outcome = operation_outcome(error.status_code, error.message, expression=error.field)
                headers = None
                if error.status_code == 401:  # RFC 9110 section 11.6.1: say how to authenticate
                    headers = {"WWW-Authenticate": bearer_challenge(error)}
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
    if not result["entry"]:  # FHIR JSON has no empty arrays (R4 json.html): no match, no entry element
        del result["entry"]
    return result
