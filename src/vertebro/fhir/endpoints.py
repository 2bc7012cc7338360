"""The /fhir routes: metadata, CodeSystems, read, search (``_include``), Patient/$everything; the write,
history, Bundle and ``$export`` routes come from :mod:`write_endpoints` and :mod:`export_endpoints`.

Specific routes are registered before the catch-all ``/{type}/{id}`` and ``/{type}`` routes.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from fastapi import APIRouter, Request

from vertebro.fhir import search, service, writes
from vertebro.fhir.auth import Clinical, UoW
from vertebro.fhir.capability import capability_statement
from vertebro.fhir.codes import code_systems
from vertebro.fhir.elements import Resource
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


# A search date as /openapi.json describes it: an optional prefix and a FHIR date, or nothing (a parameter with an
# empty value is ignored, FHIR R4 search 3.1.1.1.2).
DATE_VALUE = r"^((eq|ne|gt|lt|ge|le|sa|eb|ap)?[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?)?)?$"


def _documented(resource_type: str) -> dict[str, Any]:
    """The query parameters of a search, for /openapi.json (the handler reads them from the query itself,
    so that it sees every parameter sent, also those it does not support)."""
    parameters: list[dict[str, Any]] = []
    for name in service.search_parameters(resource_type):
        schema: dict[str, Any] = {"type": "string"}
        if name == "_count":  # more than MAX_COUNT is served as MAX_COUNT (a server may return fewer)
            schema = {"type": "integer", "minimum": 0}
        elif name in ("_after", "_offset"):
            schema = {"type": "integer", "minimum": 0, "maximum": MAX_RECORD_ID}
        elif name == "subject" and "patient" in service.DATA_PARAMETERS.get(resource_type, {}):
            continue  # accepted as well as patient, documented once (patient)
        elif name in ("patient", "subject"):
            schema = {"type": "string", "pattern": PATIENT_REFERENCE}
        elif service.DATA_PARAMETERS.get(resource_type, {}).get(name, ("",))[0] == "date" or name == "birthdate":
            schema = {"type": "string", "pattern": DATE_VALUE}
        elif name == "_format":
            schema = {"type": "string", "enum": ["json", "application/json", "application/fhir+json"]}
        elif name in ("_sort", "_revinclude"):
            # any text: a key or path not supported is refused under handling=strict, else ignored (R4 search
            # 3.1.1.1.2), so the document names what is used rather than restricting the value
            supported = service.sort_keys(resource_type) if name == "_sort" else service.REVINCLUDE
            description = f"used: {', '.join(supported)}" + (" (- before a key: descending)" if name == "_sort" else "")
            parameters.append(
                {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
            )
            continue
        elif name == "_include":
            elements = service.PATIENT_ELEMENTS.get(resource_type, ())
            schema = {"type": "string", "enum": ["*", *(f"{resource_type}:{e}" for e in elements)]}
        required = name == "subject"  # the one patient parameter of AdverseEvent
        parameters.append({"name": name, "in": "query", "required": required, "schema": schema})
    return {"parameters": parameters}


def _searchset(request: Request, parameters: search.Parameters, page: service.SearchPage, paging: str) -> Resource:
    keep = search.elements(parameters)
    result = bundle(
        request,
        [search.only_elements(r, keep) for r in page.found],
        kind="searchset",
        included=page.included,
        self_url=str(request.url.replace(query=parameters.query())),
        next_url=None
        if page.next_at is None
        else str(request.url.replace(query=parameters.query(**{paging: str(page.next_at)}))),
    )
    result["total"] = page.total
    return result


def _page_start(parameters: search.Parameters, name: str) -> int:
    value = parameters.single(name) or "0"
    if not value.isdigit() or int(value) > MAX_RECORD_ID:
        raise InvalidResource(f"{name}={value!r} is not a page position", field=name)
    return int(value)


def _count(parameters: search.Parameters) -> int:
    if parameters.single("_summary") == "count":
        return 0
    return search.count(parameters, service.DEFAULT_COUNT, service.MAX_COUNT)


@router.get("/Patient", response_class=FhirResponse, openapi_extra=_documented("Patient"))
def patient_search(request: Request, uow: UoW, user: Clinical) -> FhirResponse:
    """Search patients by ``_id``, identifier (``[system|]value``), name (word prefix; ``name:exact``), gender and
    birth date (with prefixes: ``ge1940``); comma lists are OR, repeats AND; keyset paging (``next`` link)."""
    prefer = request.headers.get("prefer")
    parameters = search.parse(request.query_params.multi_items(), service.PATIENT_PARAMETERS, prefer=prefer)
    search.chosen(parameters, "_sort", service.PATIENT_SORT, prefer=prefer)  # the page order already
    page = service.search_patients(
        uow, user, parameters, count=_count(parameters), after_id=_page_start(parameters, "_after")
    )
    uow.commit()
    return FhirResponse(_searchset(request, parameters, page, "_after"))


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
    supported = service.search_parameters(resource_type)

    def search_type(request: Request, uow: UoW, user: Clinical) -> FhirResponse:
        prefer = request.headers.get("prefer")
        parameters = search.parse(request.query_params.multi_items(), supported, prefer=prefer)
        page = service.search_type(
            uow,
            user,
            resource_type,
            parameters,
            count=_count(parameters),
            offset=_page_start(parameters, "_offset"),
            sort=search.chosen(parameters, "_sort", service.sort_keys(resource_type), prefer=prefer),
            revinclude=search.chosen(parameters, "_revinclude", service.REVINCLUDE, prefer=prefer),
        )
        uow.commit()
        return FhirResponse(_searchset(request, parameters, page, "_offset"))

    names = ", ".join(n for n in service.DATA_PARAMETERS[resource_type])
    keys = ", ".join(service.sort_keys(resource_type))
    search_type.__doc__ = (
        f"Search {resource_type} of one patient ({names}; dates take prefixes such as ge2024-01-01, comma lists "
        f"are OR); paged with a `next` link; `_include={resource_type}:patient` adds the Patient, "
        f"`_revinclude=Provenance:target` the Provenance of the page; `_sort` by {keys} "
        "(`-` for descending)."
    )
    router.add_api_route(
        f"/{resource_type}",
        search_type,
        methods=["GET"],
        response_class=FhirResponse,
        name=f"search_{resource_type}",
        openapi_extra=_documented(resource_type),
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
@router.patch("/{resource_type}/{resource_id}", response_class=FhirResponse, include_in_schema=False)
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
