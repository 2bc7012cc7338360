"""Routes of Bulk Data ``$export``: kick-off (system, Patient, Group), status, files, cancel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from vertebro.fhir import export_jobs, search
from vertebro.fhir.auth import Clinical, UoW, Writer
from vertebro.fhir.errors import InvalidResource
from vertebro.fhir.operation_outcome import operation_outcome
from vertebro.fhir.responses import INSTANT_SCHEMA, FhirResponse, FhirRoute
from vertebro.fhir.service import RESOURCE_TYPES

router = APIRouter(route_class=FhirRoute)


TYPE_LIST = f"^({'|'.join(RESOURCE_TYPES)})(,({'|'.join(RESOURCE_TYPES)}))*$"  # _type: a comma-separated list


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """The kick-off parameters every ``$export`` level takes."""

    types: str | None
    since: str | None
    output_format: str | None
    prefer: str | None
    ignored: tuple[str, ...] = ()  # kick-off parameters not implemented, ignored (reported in the manifest)


def export_query(
    types: Annotated[str | None, Query(alias="_type", json_schema_extra={"pattern": TYPE_LIST})] = None,
    since: Annotated[str | None, Query(alias="_since", json_schema_extra=INSTANT_SCHEMA)] = None,
    output_format: Annotated[
        str | None, Query(alias="_outputFormat", json_schema_extra={"enum": sorted(export_jobs.OUTPUT_FORMATS)})
    ] = None,
    prefer: Annotated[str | None, Header(json_schema_extra={"enum": ["respond-async"]})] = None,
) -> ExportQuery:
    """Return the kick-off parameters of an ``$export`` request."""
    return ExportQuery(types, since, output_format, prefer)


ExportParams = Annotated[ExportQuery, Depends(export_query)]
FhirBody = Annotated[Any, Body(media_type="application/fhir+json")]
# Bulk Data kick-off parameters vertebro does not implement: refused under Prefer: handling=strict, else ignored
# (Bulk Data IG 2.0.0, "Query Parameters"). ``patient`` is always refused: ignoring it would export more.
# Any other name (a misspelt ``_sinse``, a later version's parameter) is treated the same: never silently dropped.
NOT_IMPLEMENTED = ("_typeFilter", "_elements", "includeAssociatedData")
SUPPORTED = ("_type", "_since", "_outputFormat")
_VALUE_KEYS = ("valueString", "valueInstant", "valueDateTime", "valueCode", "valueBoolean", "valueReference")


def _check_unsupported(names: list[str], prefer: str | None) -> tuple[str, ...]:
    """Refuse ``patient``, and the parameters not implemented under handling=strict; return those ignored."""
    if "patient" in names:
        raise InvalidResource(
            "the patient parameter is not supported: export a Group (state-<workflow state>) or every patient",
            field="patient",
        )
    unsupported = [n for n in names if n not in SUPPORTED]
    if unsupported and search.strict(prefer):
        raise InvalidResource(
            f"{', '.join(unsupported)} not supported by this server (Prefer: handling=strict)", field=unsupported[0]
        )
    return tuple(dict.fromkeys(unsupported))


def _from_parameters(body: Any, prefer: str | None) -> ExportQuery:
    """Return the kick-off parameters of a POST ``$export`` (a Parameters resource, Bulk Data IG 2.0.0)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidResource("a POST $export takes a Parameters resource", field="Parameters")
    values: dict[str, list[str]] = {}
    names: list[str] = []
    for index, parameter in enumerate(body.get("parameter") or []):
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            raise InvalidResource("a parameter needs a name", field=f"Parameters.parameter[{index}]")
        names.append(parameter["name"])
        value = next((parameter[k] for k in _VALUE_KEYS if k in parameter), None)
        if isinstance(value, str):
            values.setdefault(parameter["name"], []).append(value)
        elif parameter["name"] in SUPPORTED:  # e.g. _type as valueInteger: dropping it would export everything
            raise InvalidResource(
                f"{parameter['name']} needs a text value (valueString, valueInstant for _since)",
                field=f"Parameters.parameter[{index}].value[x]",
            )
    ignored = _check_unsupported(names, prefer)
    for name in ("_since", "_outputFormat"):
        if len(values.get(name, [])) > 1:
            raise InvalidResource(f"{name} is given more than once", field=f"Parameters.parameter.{name}")
    types = ",".join(values["_type"]) if "_type" in values else None
    since = values.get("_since", [None])[0]
    return ExportQuery(types, since, values.get("_outputFormat", [None])[0], prefer, ignored)


def _export_dir(request: Request) -> Path:
    folder: Path = request.app.state.settings.export_dir
    return folder


def _kick_off(
    request: Request, uow: UoW, user: Clinical, query: ExportQuery, level: str, group: str | None
) -> Response:
    ignored = query.ignored
    if request.method == "GET":
        ignored = _check_unsupported(list(request.query_params.keys()), query.prefer)
    export = export_jobs.ExportRequest(
        level, str(request.url), query.types, query.since, query.output_format, query.prefer, group, ignored
    )
    job = export_jobs.kick_off(uow, user, export)
    queue: export_jobs.ExportQueue | None = getattr(request.app.state, "job_queue", None)
    task: BackgroundTask | None = None
    if queue is not None:  # PostgreSQL: a `vertebro worker` runs it (queued in this transaction)
        queue.defer_export(uow, job.id)
    else:  # SQLite: in this process, after the response
        task = BackgroundTask(export_jobs.run_job, request.app.state.session_factory, job.id, _export_dir(request))
    uow.commit()
    status_url = str(request.base_url).rstrip("/") + f"/fhir/$export-status/{job.id}"
    return Response(status_code=202, headers={"Content-Location": status_url}, background=task)


@router.get("/$export", response_class=FhirResponse, status_code=202)
def export_system(request: Request, uow: UoW, user: Clinical, query: ExportParams) -> Response:
    """Start an export of every patient's data (Prefer: respond-async); 202 with Content-Location."""
    return _kick_off(request, uow, user, query, "system", None)


@router.get("/Patient/$export", response_class=FhirResponse, status_code=202)
def export_patients(request: Request, uow: UoW, user: Clinical, query: ExportParams) -> Response:
    """Start an export of all patients' compartments (Prefer: respond-async); 202 with Content-Location."""
    return _kick_off(request, uow, user, query, "patient", None)


@router.get("/Group/{group_id}/$export", response_class=FhirResponse, status_code=202)
def export_group(request: Request, uow: UoW, user: Clinical, group_id: str, query: ExportParams) -> Response:
    """Start an export of a Group's patients (``state-<workflow state>``); 202 with Content-Location."""
    return _kick_off(request, uow, user, query, "group", group_id)


@router.post("/$export", response_class=FhirResponse, status_code=202)
def export_system_post(
    request: Request, uow: UoW, user: Clinical, body: FhirBody, prefer: Annotated[str | None, Header()] = None
) -> Response:
    """Start an export of every patient's data with a Parameters body (Prefer: respond-async); 202."""
    return _kick_off(request, uow, user, _from_parameters(body, prefer), "system", None)


@router.post("/Patient/$export", response_class=FhirResponse, status_code=202)
def export_patients_post(
    request: Request, uow: UoW, user: Clinical, body: FhirBody, prefer: Annotated[str | None, Header()] = None
) -> Response:
    """Start an export of all patients' compartments with a Parameters body (Prefer: respond-async); 202."""
    return _kick_off(request, uow, user, _from_parameters(body, prefer), "patient", None)


@router.post("/Group/{group_id}/$export", response_class=FhirResponse, status_code=202)
def export_group_post(
    request: Request,
    uow: UoW,
    user: Clinical,
    group_id: str,
    body: FhirBody,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Start an export of a Group's patients with a Parameters body (Prefer: respond-async); 202."""
    return _kick_off(request, uow, user, _from_parameters(body, prefer), "group", group_id)


@router.get("/$export-status/{job_id}", response_class=FhirResponse)
def export_status(request: Request, uow: UoW, user: Clinical, job_id: str) -> Response:
    """The job's status: 202 with X-Progress while it runs, 200 with the manifest when complete."""
    durable = getattr(request.app.state, "job_queue", None) is not None
    job = export_jobs.job_of(uow, user, job_id, durable_queue=durable)
    uow.commit()
    if job.status == "complete":
        base = str(request.base_url).rstrip("/") + "/fhir"
        # the files stay until the client deletes the job: "never expires" is a year ahead (RFC 2616 14.21)
        expires = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=365), usegmt=True)
        return JSONResponse(export_jobs.manifest(job, base), headers={"Expires": expires})
    if job.status == "failed":
        return FhirResponse(operation_outcome(500, f"the export failed: {job.error}"), status_code=500)
    done = f"{job.done} of {job.total}" if job.total else f"{job.done}"
    headers = {"X-Progress": f"{job.status}: {done} patients", "Retry-After": "2"}
    return Response(status_code=202, headers=headers)


@router.delete("/$export-status/{job_id}", response_class=FhirResponse, status_code=202)
def export_cancel(request: Request, uow: UoW, user: Writer, job_id: str) -> Response:
    """Cancel a running export, or delete a finished one and its files (202)."""
    export_jobs.cancel(uow, user, job_id, _export_dir(request))
    uow.commit()
    return Response(status_code=202)


@router.get("/$export-file/{job_id}/{file_name}", response_class=FhirResponse)
def export_file(request: Request, uow: UoW, user: Clinical, job_id: str, file_name: str) -> Response:
    """One NDJSON file of a complete export (only for the member of staff who requested it); the manifest's
    ``error`` file (OperationOutcome.ndjson) names the kick-off parameters the export ignored."""
    if file_name == export_jobs.IGNORED_FILE:
        text = export_jobs.ignored_outcomes(uow, user, job_id)
        uow.commit()
        return Response(text, media_type="application/fhir+ndjson")
    path = export_jobs.file_of(uow, user, job_id, file_name, _export_dir(request))
    uow.commit()
    return FileResponse(path, media_type="application/fhir+ndjson")
