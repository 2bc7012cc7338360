"""The CDS Hooks 2.0 routes: ``GET /cds-services`` (discovery) and ``POST /cds-services/{id}`` (cards).

Called by EHRs, not by staff: there is no staff session. When ``VERTEBRO_CDS_JWKS`` is configured every call
needs a JWT signed by one of its keys (401 otherwise); when it is not, calls are accepted without one, and
vertebro then does not look up whether it knows the patient (no link card, nothing of ours is read). A call
that does read our records (the patient lookup) is audited as a read by ``cds:<iss>``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from vertebro.errors import InvalidInput, PreconditionFailed, VertebroError
from vertebro.fhir.auth import UoW
from vertebro.fhir.cds_hooks import SERVICES, CaseReader, cards, discovery
from vertebro.fhir.cds_jwt import BadToken, ReplayGuard, verify
from vertebro.fhir.codes import system
from vertebro.fhir.elements import Resource
from vertebro.fhir.repository import FhirRepository


class CdsRoute(APIRoute):
    """A route whose domain errors are answered as JSON ``{"detail", "field"}`` whatever the Accept header."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so that a VertebroError becomes a JSON error response."""
        handler = super().get_route_handler()

        async def cds_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except VertebroError as error:
                headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if error.status_code == 401 else None
                body = {"detail": error.message, "field": error.field}
                response = JSONResponse(body, status_code=error.status_code, headers=headers)
            response.headers.update(cors_headers(request))
            return response

        return cds_handler


def cors_headers(request: Request) -> dict[str, str]:
    """Return the CORS headers for a call from a configured EHR origin (``VERTEBRO_CDS_ALLOWED_ORIGINS``), none
    for another origin (the browser then refuses the response). CDS Hooks 2.0 "CORS"; Fetch standard "CORS protocol".
    """
    origin = request.headers.get("origin")
    if origin is None or origin not in request.app.state.settings.cds_allowed_origins:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def check_prefetched_patient(body: dict[str, Any]) -> None:
    """Refuse a call whose prefetched Patient is not ``context.patientId`` (the cards would be about someone
    else): 412 naming both ids."""
    context = body.get("context")
    prefetch = body.get("prefetch")
    if not isinstance(context, dict) or not isinstance(prefetch, dict):
        return
    patient = prefetch.get("patient")
    if isinstance(patient, dict) and patient.get("resourceType") == "Bundle":
        entries = [e.get("resource") for e in patient.get("entry") or [] if isinstance(e, dict)]
        patient = next((r for r in entries if isinstance(r, dict) and r.get("resourceType") == "Patient"), None)
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        return
    wanted = context.get("patientId")
    if isinstance(wanted, str) and patient.get("id") != wanted:
        raise PreconditionFailed(
            f"prefetch.patient is Patient/{patient.get('id')}, not context.patientId {wanted!r}: "
            "vertebro will not advise on one patient from another's record",
            field="prefetch.patient",
        )


def _claims(request: Request, service_id: str, replay: ReplayGuard) -> dict[str, Any] | None:
    """Return the verified JWT claims, or None when no JWKS is configured (unauthenticated calls allowed)."""
    settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    if settings.cds_jwks is None:
        return None
    if not header.lower().startswith("bearer "):
        raise BadToken("a JWT (Authorization: Bearer) is required by this CDS service", field="authorization")
    audience = str(request.base_url).rstrip("/") + f"/cds-services/{service_id}"
    return verify(
        header[7:].strip(), jwks=settings.cds_jwks, audience=audience, issuers=settings.cds_issuers, replay=replay
    )


def _known_patient(uow: UoW, request: Request, actor: str, hook: str) -> Callable[[Resource], str | None]:
    def link(patient: Resource) -> str | None:
        identifiers = [
            i for i in patient.get("identifier") or [] if isinstance(i, dict) and isinstance(i.get("value"), str)
        ]
        ours = [i for i in identifiers if i.get("system") == system("identifier-patient")]
        repository = FhirRepository(uow.session)
        for identifier in ours or identifiers:
            found = repository.search_patients(identifier=identifier["value"], limit=1)
            if found:
                uow.audit.append_reads(
                    actor=actor,
                    patient_ids=[found[0].id],
                    detail={"via": "cds-hooks", "hook": hook},
                    source=request.client.host if request.client else None,
                )
                return str(request.base_url).rstrip("/") + f"/patients/{found[0].id}"
        return None

    return link


CDS_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CDS Hooks 2.0 hook call (https://cds-hooks.hl7.org/2.0/#http-request-1).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["hook", "hookInstance", "context"],
                    "properties": {
                        "hook": {"type": "string", "enum": sorted({spec["hook"] for spec in SERVICES.values()})},
                        "hookInstance": {"type": "string"},
                        "fhirServer": {"type": "string"},
                        "context": {
                            "type": "object",
                            "required": ["patientId"],
                            "properties": {"patientId": {"type": "string"}, "draftOrders": {"type": "object"}},
                        },
                        "prefetch": {"type": "object"},
                    },
                }
            }
        },
    }
}


def cds_router(reader: CaseReader) -> APIRouter:
    """Return the CDS Hooks router; ``reader`` builds a case from FHIR resources (``intake.fhir_bundle``)."""
    router = APIRouter(prefix="/cds-services", tags=["CDS Hooks 2.0"], route_class=CdsRoute)
    replay = ReplayGuard()

    @router.options("", status_code=204, responses={204: {"description": "CORS preflight (configured origins)"}})
    def cds_discovery_preflight() -> Response:
        """Answer a browser's CORS preflight of discovery (headers only for VERTEBRO_CDS_ALLOWED_ORIGINS)."""
        return Response(status_code=204)

    @router.options(
        "/{service_id}", status_code=204, responses={204: {"description": "CORS preflight (configured origins)"}}
    )
    def cds_service_preflight(service_id: str) -> Response:
        """Answer a browser's CORS preflight of a service (headers only for VERTEBRO_CDS_ALLOWED_ORIGINS)."""
        return Response(status_code=204)

    @router.get("")
    def cds_discovery(request: Request) -> JSONResponse:
        """The CDS services vertebro offers (order-select, order-sign, patient-view) and their prefetch."""
        return JSONResponse(discovery(jwt_required=request.app.state.settings.cds_jwks is not None))

    @router.post("/{service_id}", openapi_extra=CDS_REQUEST)
    async def cds_service(request: Request, uow: UoW, service_id: str) -> JSONResponse:
        """Answer one hook call with cards (authenticated by the EHR's JWT when a JWKS is configured)."""
        claims = _claims(request, service_id, replay)
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("the request body is not JSON", field="body") from None
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object", field="body")
        check_prefetched_patient(body)
        actor = f"cds:{claims['iss']}"[:128] if claims is not None else None
        link = _known_patient(uow, request, actor, str(body.get("hook"))) if actor is not None else None
        response = cards(service_id, body, reader=reader, policy=request.app.state.policy, patient_link=link)
        uow.commit()
        return JSONResponse(response)

    return router
