"""The /fhir routes: metadata, CodeSystems, read, search (``_include``), Patient/$everything; the write,
history, Bundle and ``$export`` routes come from :mod:`write_endpoints` and :mod:`export_endpoints`.

Specific routes are registered before the catch-all ``/{type}/{id}`` and ``/{type}`` routes.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

from fastapi import APIRouter, Query, Request

from vertebro.fhir import service, writes
from vertebro.fhir.auth import Clinical, UoW
from vertebro.fhir.capability import capability_statement
from vertebro.fhir.codes import code_systems
from vertebro.fhir.errors import InvalidResource, NotAllowed, allowed_methods
from vertebro.fhir.export_endpoints import router as export_router
from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.responses import FhirResponse, FhirRoute, bundle
from vertebro.fhir.write_endpoints import router as write_router
from vertebro.fhir.write_endpoints import transaction
from vertebro.ids import MAX_RECORD_ID, FhirId, record_id

router = APIRouter(prefix="/fhir", tags=["FHIR R4"], route_class=FhirRoute)


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request) -> FhirResponse:
    """The CapabilityStatement: what this server supports."""
    return FhirResponse(capability_statement(str(request.base_url).rstrip("/") + "/fhir", version("vertebro")))


@router.get("/CodeSystem", response_class=FhirResponse)
def code_system_search(request: Request) -> FhirResponse:
    """vertebro's local CodeSystems (codes with no standard equivalent)."""
    return FhirResponse(bundle(request, list(code_systems().values()), kind="searchset"))


@router.get("/CodeSystem/{code_system_id}", response_class=FhirResponse, include_in_schema=False)
def code_system_read(code_system_id: str) -> FhirResponse:
    """One local CodeSystem (documented in the CapabilityStatement)."""
    found = code_systems().get(code_system_id)
    if found is None:
        outcome = operation_outcome(404, f"CodeSystem/{code_system_id} does not exist", expression="id")
        return FhirResponse(outcome, status_code=404)
    return FhirResponse(found)


router.add_api_route("", transaction, methods=["POST"], response_class=FhirResponse, name="transaction")
router.include_router(export_router)
router.include_router(write_router)


@router.get("/Patient", response_class=FhirResponse)
def patient_search(
    request: Request,
    uow: UoW,
    user: Clinical,
    identifier: str | None = None,
    name: str | None = None,
    birthdate: str | None = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=service.MAX_COUNT)] = 50,
    after: Annotated[int, Query(alias="_after", ge=0, le=MAX_RECORD_ID)] = 0,
) -> FhirResponse:
    """Search patients by identifier (``[system|]value``), name (word prefix) and birth date; keyset paging."""
    found, next_after = service.search_patients(
        uow, user, identifier=identifier, name=name, birthdate=birthdate, count=count, after_id=after
    )
    uow.commit()
    next_url = str(request.url.include_query_params(_after=next_after)) if next_after is not None else None
    return FhirResponse(bundle(request, found, kind="searchset", next_url=next_url))


@router.get("/Patient/{resource_id:fhirid}/$everything", response_class=FhirResponse)
def patient_everything(request: Request, uow: UoW, user: Clinical, resource_id: FhirId) -> FhirResponse:
    """Every resource of one patient's record (that the token's scopes allow), as a searchset Bundle."""
    record = record_id(resource_id)
    if record is None:
        outcome = operation_outcome(404, f"Patient/{resource_id} does not exist", expression="id")
        return FhirResponse(outcome, status_code=404)
    resources = service.patient_record(uow, user, record, interaction="operation-everything")
    uow.commit()
    return FhirResponse(bundle(request, resources, kind="searchset"))


PATIENT_REFERENCE = r"^(Patient/)?[1-9][0-9]{0,14}$"  # ?patient=: a Patient id or reference (vertebro.ids)


def _search_route(resource_type: str) -> None:
    elements = service.PATIENT_ELEMENTS.get(resource_type, ())
    includable = {"items": {"enum": ["*", *(f"{resource_type}:{e}" for e in elements)]}}

    def search(
        request: Request,
        uow: UoW,
        user: Clinical,
        patient: Annotated[str | None, Query(json_schema_extra={"pattern": PATIENT_REFERENCE})] = None,
        code: str | None = None,
        status: str | None = None,
        date: str | None = None,
        include: Annotated[list[str] | None, Query(alias="_include")] = None,
        count: Annotated[int, Query(alias="_count", ge=1, le=service.MAX_COUNT)] = service.MAX_COUNT,
    ) -> FhirResponse:
        found, included = service.search(
            uow, user, resource_type, patient=patient, code=code, status=status, date=date, include=include
        )
        uow.commit()
        return FhirResponse(bundle(request, found[:count], kind="searchset", included=included))

    # the values _include takes on this type, in /openapi.json (a runtime annotation: it depends on the type)
    search.__annotations__["include"] = Annotated[
        list[str] | None, Query(alias="_include", json_schema_extra=includable)
    ]
    search.__doc__ = (
        f"Search {resource_type} of one patient by code, status and date; "
        f"`_include={resource_type}:patient` adds the Patient."
    )
    router.add_api_route(
        f"/{resource_type}", search, methods=["GET"], response_class=FhirResponse, name=f"search_{resource_type}"
    )


for _type in service.PATIENT_DATA_TYPES:
    _search_route(_type)


@router.get("/{resource_type}/{resource_id}", response_class=FhirResponse, include_in_schema=False)
def resource_read(uow: UoW, user: Clinical, resource_type: str, resource_id: FhirId) -> FhirResponse:
    """Read one resource of any supported type (documented in the CapabilityStatement)."""
    resource = service.read(uow, user, resource_type, resource_id)
    uow.commit()
    version_id = (resource.get("meta") or {}).get("versionId")
    return FhirResponse(resource, headers={"ETag": f'W/"{version_id}"'} if version_id else None)


@router.get("/{resource_type}", response_class=FhirResponse, include_in_schema=False)
def unsupported_type(resource_type: str) -> FhirResponse:
    """Answer a search of a type vertebro does not serve with an OperationOutcome."""
    service.check_type(resource_type)
    outcome = operation_outcome(404, f"{resource_type} cannot be searched here", expression="type")
    return FhirResponse(outcome, status_code=404)


@router.post("/{resource_type}", response_class=FhirResponse, include_in_schema=False)
@router.put("/{resource_type}/{resource_id}", response_class=FhirResponse, include_in_schema=False)
def unsupported_write(request: Request, resource_type: str) -> FhirResponse:
    """Answer a write of a type vertebro does not accept with an OperationOutcome (405)."""
    allowed = allowed_methods(request.app.openapi(), request.url.path)
    if allowed and request.method not in allowed:  # a path served for other methods, e.g. POST /fhir/metadata
        if resource_type in service.RESOURCE_TYPES and resource_type not in writes.WRITABLE_TYPES:
            raise writes.not_writable(resource_type)
        raise NotAllowed(f"{request.method} is not allowed on {request.url.path} (allowed: {', '.join(allowed)})")
    service.check_type(resource_type)
    if resource_type in writes.WRITABLE_TYPES:  # its own routes take every FHIR id: this one is not one
        raise InvalidResource(f"{request.url.path} does not end in a FHIR id (A-Z, a-z, 0-9, - and .)", field="id")
    raise writes.not_writable(resource_type)  # writable types have their own routes, registered earlier
