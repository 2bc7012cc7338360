"""Routes of /fhir writes (create, update and JSON Patch with If-Match), vread, history and transaction/batch Bundles.

``transaction`` (``POST /fhir``) is registered by :mod:`vertebro.fhir.endpoints` (a path equal to the prefix).
"""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request

from vertebro.fhir import bundles, history, service, writes
from vertebro.fhir.auth import Clinical, UoW, Writer
from vertebro.fhir.elements import Resource
from vertebro.fhir.responses import INSTANT_SCHEMA, FhirResponse, FhirRoute
from vertebro.fhir.service import MAX_COUNT
from vertebro.ids import MAX_RECORD_ID, FhirId

router = APIRouter(route_class=FhirRoute)

FhirBody = Annotated[Any, Body(media_type="application/fhir+json")]
PatchBody = Annotated[Any, Body(media_type=writes.JSON_PATCH)]


def http_date(instant: str) -> str:
    """Return a FHIR instant as an HTTP date (RFC 9110 section 5.6.7), e.g. for Last-Modified."""
    return format_datetime(dt.datetime.fromisoformat(instant).astimezone(dt.UTC), usegmt=True)


def _written(written: writes.Written, base: str, status: int) -> FhirResponse:
    headers = {"ETag": written.etag, "Location": f"{base}/{written.location}"}
    if written.last_modified:
        headers["Last-Modified"] = http_date(written.last_modified)
    return FhirResponse(written.resource, status_code=status, headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _history_bundle(
    request: Request, resources: list[Resource], more: bool = False, offset: int = 0, count: int = 0
) -> Resource:
    base = _base(request)
    entries = []
    for resource in resources:
        meta = resource["meta"]
        key = f"{resource['resourceType']}/{resource['id']}"
        first = meta["versionId"] == "1"
        entry: Resource = {
            "fullUrl": f"{base}/{key}",
            "resource": resource,
            "request": {"method": "POST" if first else "PUT", "url": resource["resourceType"] if first else key},
            "response": {"status": "201 Created" if first else "200 OK", "etag": f'W/"{meta["versionId"]}"'},
        }
        if "lastUpdated" in meta:
            entry["response"]["lastModified"] = meta["lastUpdated"]
        entries.append(entry)
    history: Resource = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": str(request.url)}],
    }
    if more or offset:  # one page of several: no total (this page is not all there is)
        del history["total"]
    if more:  # older versions follow
        after = str(request.url.include_query_params(_offset=offset + count))
        history["link"].append({"relation": "next", "url": after})
    if entries:  # FHIR JSON has no empty arrays
        history["entry"] = entries
    return history


def system_history(
    request: Request,
    uow: UoW,
    user: Clinical,
    since: Annotated[str | None, Query(alias="_since", json_schema_extra=INSTANT_SCHEMA)] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = 100,
    offset: Annotated[int, Query(alias="_offset", ge=0, le=MAX_RECORD_ID)] = 0,
) -> FhirResponse:
    """Every version written through /fhir of every type, newest first (`_since`, `_count`, `next` links)."""
    found, more = history.system_history(uow, user, since=since, count=count, offset=offset)
    uow.commit()
    return FhirResponse(_history_bundle(request, found, more, offset, count))


router.add_api_route("/_history", system_history, methods=["GET"], response_class=FhirResponse, name="history_system")


def transaction(request: Request, uow: UoW, user: Writer, body: FhirBody) -> FhirResponse:
    """A transaction (all or nothing) or batch (entry by entry) Bundle of creates, updates and reads."""
    try:
        response = bundles.process(uow, user, body)
    except bundles.EntryFailed as failed:
        return FhirResponse(failed.outcome(), status_code=failed.status_code)
    uow.commit()
    return FhirResponse(response)


def _write_routes(resource_type: str) -> None:
    def create(
        request: Request,
        uow: UoW,
        user: Writer,
        body: FhirBody,
        if_none_exist: Annotated[str | None, Header()] = None,
    ) -> FhirResponse:
        written = writes.create(uow, user, resource_type, body, if_none_exist=if_none_exist)
        uow.commit()
        return _written(written, _base(request), 201 if written.created else 200)

    def update(
        request: Request,
        uow: UoW,
        user: Writer,
        resource_id: FhirId,
        body: FhirBody,
        if_match: Annotated[str | None, Header()] = None,
    ) -> FhirResponse:
        written = writes.update(uow, user, resource_type, resource_id, body, if_match)
        uow.commit()
        return _written(written, _base(request), 200)

    def patch(
        request: Request,
        uow: UoW,
        user: Writer,
        resource_id: FhirId,
        body: PatchBody,
        if_match: Annotated[str | None, Header()] = None,
    ) -> FhirResponse:
        content_type = request.headers.get("content-type")
        written = writes.patch(uow, user, resource_type, resource_id, body, if_match, content_type=content_type)
        uow.commit()
        return _written(written, _base(request), 200)

    def type_history(
        request: Request,
        uow: UoW,
        user: Clinical,
        since: Annotated[str | None, Query(alias="_since", json_schema_extra=INSTANT_SCHEMA)] = None,
        count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT)] = 100,
        offset: Annotated[int, Query(alias="_offset", ge=0, le=MAX_RECORD_ID)] = 0,
    ) -> FhirResponse:
        found, more = history.type_history(uow, user, resource_type, since=since, count=count, offset=offset)
        uow.commit()
        return FhirResponse(_history_bundle(request, found, more, offset, count))

    def read(uow: UoW, user: Clinical, resource_id: FhirId) -> FhirResponse:
        resource = service.read(uow, user, resource_type, resource_id)
        uow.commit()
        version_id = (resource.get("meta") or {}).get("versionId")
        return FhirResponse(resource, headers={"ETag": f'W/"{version_id}"'} if version_id else None)

    def instance_history(request: Request, uow: UoW, user: Clinical, resource_id: FhirId) -> FhirResponse:
        found = history.instance_history(uow, user, resource_type, resource_id)
        uow.commit()
        return FhirResponse(_history_bundle(request, found))

    def vread(uow: UoW, user: Clinical, resource_id: FhirId, version_id: FhirId) -> FhirResponse:
        found = history.vread(uow, user, resource_type, resource_id, version_id)
        uow.commit()
        meta = found["meta"]
        headers = {"ETag": f'W/"{meta["versionId"]}"'}
        if "lastUpdated" in meta:
            headers["Last-Modified"] = http_date(meta["lastUpdated"])
        return FhirResponse(found, headers=headers)

    create.__doc__ = f"Create a {resource_type} (201, Location and ETag of version 1)."
    update.__doc__ = f"Update a {resource_type}: If-Match with the version's ETag is required (428), 412 if stale."
    patch.__doc__ = (
        f"Patch a {resource_type} with a JSON Patch (application/json-patch+json): If-Match is required (428), "
        "412 if stale, 422 if the patch cannot be applied."
    )
    type_history.__doc__ = f"Every version of {resource_type} written, newest first (`_since`, `_count`)."
    read.__doc__ = f"Read the current version of one {resource_type} (ETag of its version)."
    instance_history.__doc__ = f"Every kept version of one {resource_type}, newest first."
    vread.__doc__ = f"One version of a {resource_type}."
    path = f"/{resource_type}"
    routes: list[tuple[str, Any, str, str]] = [
        (path, create, "POST", "create"),
        (f"{path}/_history", type_history, "GET", "history_type"),
        (f"{path}/{{resource_id:fhirid}}", read, "GET", "read"),
        (f"{path}/{{resource_id:fhirid}}", update, "PUT", "update"),
        (f"{path}/{{resource_id:fhirid}}", patch, "PATCH", "patch"),
        (f"{path}/{{resource_id:fhirid}}/_history", instance_history, "GET", "history_instance"),
        (f"{path}/{{resource_id:fhirid}}/_history/{{version_id}}", vread, "GET", "vread"),
    ]
    for route_path, endpoint, method, name in routes:
        router.add_api_route(
            route_path,
            endpoint,
            methods=[method],
            response_class=FhirResponse,
            name=f"{name}_{resource_type}",
            status_code=201 if name == "create" else 200,
        )


for _type in writes.WRITABLE_TYPES:
    _write_routes(_type)
