"""The /fhir routes: metadata, CodeSystems, read, search and Patient/$everything, errors as OperationOutcome."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from importlib.metadata import version
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from vertebro.errors import VertebroError
from vertebro.fhir import service
from vertebro.fhir.auth import Clinical, UoW
from vertebro.fhir.capability import capability_statement
from vertebro.fhir.codes import code_systems
from vertebro.fhir.elements import Resource
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
                return FhirResponse(outcome, status_code=error.status_code)
            except RequestValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:]) or str(first["loc"][0])
                outcome = operation_outcome(400, f"{where}: {first['msg']}", expression=where)
                return FhirResponse(outcome, status_code=400)

        return fhir_handler


router = APIRouter(prefix="/fhir", tags=["FHIR R4"], route_class=FhirRoute)


def _bundle(request: Request, resources: list[Resource], *, kind: str, next_url: str | None = None) -> Resource:
    links = [{"relation": "self", "url": str(request.url)}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    bundle: Resource = {"resourceType": "Bundle", "type": kind, "link": links}
    if kind == "searchset":
        bundle["total"] = len(resources) if next_url is None else None
        if bundle["total"] is None:
            del bundle["total"]
    base = str(request.base_url).rstrip("/") + "/fhir"
    bundle["entry"] = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            **({"search": {"mode": "match"}} if kind == "searchset" else {}),
        }
        for r in resources
    ]
    return bundle


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request) -> FhirResponse:
    """The CapabilityStatement: what this server supports."""
    return FhirResponse(capability_statement(str(request.base_url).rstrip("/") + "/fhir", version("vertebro")))


@router.get("/CodeSystem", response_class=FhirResponse)
def code_system_search(request: Request) -> FhirResponse:
    """vertebro's local CodeSystems (codes with no standard equivalent)."""
    return FhirResponse(_bundle(request, list(code_systems().values()), kind="searchset"))


@router.get("/CodeSystem/{code_system_id}", response_class=FhirResponse, include_in_schema=False)
def code_system_read(code_system_id: str) -> FhirResponse:
    """One local CodeSystem (documented in the CapabilityStatement)."""
    found = code_systems().get(code_system_id)
    if found is None:
        outcome = operation_outcome(404, f"CodeSystem/{code_system_id} does not exist", expression="id")
        return FhirResponse(outcome, status_code=404)
    return FhirResponse(found)


@router.get("/Patient", response_class=FhirResponse)
def patient_search(
    request: Request,
    uow: UoW,
    actor: Clinical,
    identifier: str | None = None,
    name: str | None = None,
    birthdate: str | None = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=service.MAX_COUNT)] = 50,
    after: Annotated[int, Query(alias="_after", ge=0)] = 0,
) -> FhirResponse:
    """Search patients by identifier (``[system|]value``), name (word prefix) and birth date; keyset paging."""
    found, next_after = service.search_patients(
        uow, actor, identifier=identifier, name=name, birthdate=birthdate, count=count, after_id=after
    )
    uow.commit()
    next_url = str(request.url.include_query_params(_after=next_after)) if next_after is not None else None
    return FhirResponse(_bundle(request, found, kind="searchset", next_url=next_url))


@router.get("/Patient/{patient_id}", response_class=FhirResponse)
def patient_read(uow: UoW, actor: Clinical, patient_id: str) -> FhirResponse:
    """Read one Patient."""
    resource = service.read(uow, actor, "Patient", patient_id)
    uow.commit()
    return FhirResponse(resource, headers={"ETag": f'W/"{resource["meta"]["versionId"]}"'})


@router.get("/Patient/{patient_id}/$everything", response_class=FhirResponse)
def patient_everything(request: Request, uow: UoW, actor: Clinical, patient_id: str) -> FhirResponse:
    """Every resource of one patient's record, as a searchset Bundle."""
    if not patient_id.isdigit():
        outcome = operation_outcome(404, f"Patient/{patient_id} does not exist", expression="id")
        return FhirResponse(outcome, status_code=404)
    resources = service.patient_record(uow, actor, int(patient_id), interaction="operation-everything")
    uow.commit()
    return FhirResponse(_bundle(request, resources, kind="searchset"))


def _search_route(resource_type: str) -> None:
    def search(
        request: Request,
        uow: UoW,
        actor: Clinical,
        patient: str | None = None,
        code: str | None = None,
        status: str | None = None,
        date: str | None = None,
        count: Annotated[int, Query(alias="_count", ge=1, le=service.MAX_COUNT)] = service.MAX_COUNT,
    ) -> FhirResponse:
        found = service.search(uow, actor, resource_type, patient=patient, code=code, status=status, date=date)
        uow.commit()
        return FhirResponse(_bundle(request, found[:count], kind="searchset"))

    search.__doc__ = f"Search {resource_type} of one patient by code, status and date."
    router.add_api_route(
        f"/{resource_type}", search, methods=["GET"], response_class=FhirResponse, name=f"search_{resource_type}"
    )


for _type in service.PATIENT_DATA_TYPES:
    _search_route(_type)


@router.get("/{resource_type}/{resource_id}", response_class=FhirResponse, include_in_schema=False)
def resource_read(uow: UoW, actor: Clinical, resource_type: str, resource_id: str) -> FhirResponse:
    """Read one resource of any supported type (documented in the CapabilityStatement)."""
    resource = service.read(uow, actor, resource_type, resource_id)
    uow.commit()
    return FhirResponse(resource)


@router.get("/{resource_type}", response_class=FhirResponse, include_in_schema=False)
def unsupported_type(resource_type: str) -> FhirResponse:
    """Answer a search of a type vertebro does not serve with an OperationOutcome."""
    service.check_type(resource_type)
    outcome = operation_outcome(404, f"{resource_type} cannot be searched here", expression="type")
    return FhirResponse(outcome, status_code=404)
