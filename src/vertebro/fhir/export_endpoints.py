"""Routes of Bulk Data ``$export``: kick-off (system, Patient, Group), status, files, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from vertebro.fhir import export_jobs
from vertebro.fhir.auth import Clinical, UoW, Writer
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


def _export_dir(request: Request) -> Path:
    folder: Path = request.app.state.settings.export_dir
    return folder


def _kick_off(
    request: Request, uow: UoW, user: Clinical, query: ExportQuery, level: str, group: str | None
) -> Response:
    export = export_jobs.ExportRequest(
        level, str(request.url), query.types, query.since, query.output_format, query.prefer, group
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


@router.get("/$export-status/{job_id}", response_class=FhirResponse)
def export_status(request: Request, uow: UoW, user: Clinical, job_id: str) -> Response:
    """The job's status: 202 with X-Progress while it runs, 200 with the manifest when complete."""
    durable = getattr(request.app.state, "job_queue", None) is not None
    job = export_jobs.job_of(uow, user, job_id, durable_queue=durable)
    uow.commit()
    if job.status == "complete":
        base = str(request.base_url).rstrip("/") + "/fhir"
        return JSONResponse(export_jobs.manifest(job, base), headers={"Expires": "never"})
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
    """One NDJSON file of a complete export (only for the member of staff who requested it)."""
    path = export_jobs.file_of(uow, user, job_id, file_name, _export_dir(request))
    uow.commit()
    return FileResponse(path, media_type="application/fhir+ndjson")
