"""Bulk Data ``$export`` as asynchronous jobs: kick-off, status, files, cancel.

A kick-off stores a job row (``fhir_export_jobs``) and the response hands the work to the server's
background tasks (:func:`run_job`, in the same process, after the 202 is sent). The job commits its progress
and the read audit batch by batch, so any worker (SQLite or PostgreSQL) answers the status from the row,
and a cancel (DELETE) is seen at the next batch. Files are written under ``VERTEBRO_EXPORT_DIR/<job>/``.
A job whose row has not moved for :data:`STALE_AFTER` (the server stopped) is reported as failed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.fhir.auth import FhirUser
from vertebro.fhir.bulk import export_ndjson
from vertebro.fhir.errors import InvalidResource, instant
from vertebro.fhir.repository import FhirRepository
from vertebro.fhir.service import RESOURCE_TYPES
from vertebro.fhir.smart import ACTOR_PREFIX
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.pathway.machine import Role
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import STATES, FhirExportJob
from vertebro.store.workflow import Actor

log = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(minutes=10)
OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
FILE_NAME = re.compile(r"^([A-Z][A-Za-z]+)\.ndjson$")
GROUP_PREFIX = "state-"  # Group/state-<workflow state>: the patients with a case in that state


class Cancelled(Exception):
    """The job was cancelled (its row deleted) while it ran."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What a kick-off asks for."""

    level: str  # system, patient or group
    request_url: str
    types: str | None
    since: str | None
    output_format: str | None
    prefer: str | None
    group_id: str | None = None
    ignored: tuple[str, ...] = ()  # kick-off parameters not implemented, ignored (not under handling=strict)


def group_members(repository: FhirRepository, group_id: str) -> list[int]:
    """Return the patient ids of a Group (``state-<workflow state>``); 404 naming the groups otherwise."""
    state = group_id.removeprefix(GROUP_PREFIX)
    if not group_id.startswith(GROUP_PREFIX) or state not in STATES:
        groups = ", ".join(GROUP_PREFIX + s for s in STATES)
        raise NotFound(f"Group/{group_id} does not exist (groups: {groups})", field="group_id")
    return repository.patient_ids_in_state(state)


def _types(user: FhirUser, text: str | None) -> list[str]:
    if text is not None:
        types = [t.strip() for t in text.split(",") if t.strip()]
        if not types:
            raise InvalidResource("_type names no resource type (leave it out to export every type)", field="_type")
        unknown = [t for t in types if t not in RESOURCE_TYPES]
        if unknown:
            raise InvalidResource(
                f"_type names {', '.join(unknown)}, which vertebro does not export ({', '.join(RESOURCE_TYPES)})",
                field="_type",
            )
        for kind in types:
            user.grant.require(kind, "read")
        return types
    allowed = [t for t in RESOURCE_TYPES if user.grant.allows(t, "read")]
    if not allowed:
        user.grant.require("Patient", "read")
    return allowed


def kick_off(uow: UnitOfWork, user: FhirUser, request: ExportRequest) -> FhirExportJob:
    """Check an ``$export`` request and store its job (queued); the caller commits and starts :func:`run_job`."""
    if "respond-async" not in (request.prefer or ""):
        raise InvalidResource("$export is asynchronous: send the header Prefer: respond-async", field="Prefer")
    if request.output_format is not None and request.output_format not in OUTPUT_FORMATS:
        raise InvalidResource(
            f"_outputFormat={request.output_format!r} is not supported (application/fhir+ndjson)",
            field="_outputFormat",
        )
    types = _types(user, request.types)
    since = instant(request.since, "_since") if request.since is not None else None
    repository = FhirRepository(uow.session)
    members = group_members(repository, request.group_id) if request.group_id is not None else None
    job = FhirExportJob(
        id=secrets.token_hex(16),
        requested_by=user.actor.username,
        source=user.actor.source,
        request_url=request.request_url[:2000],
        level=request.level,
        group_id=request.group_id,
        types=types,
        since=since,
        status="queued",
        total=repository.count_patients(members) if since is None else 0,
        output={},
        ignored=list(request.ignored) or None,
    )
    repository.add_job(job)
    uow.audit.append(
        actor=user.actor.username,
        action="export_requested",
        entity_type="fhir_export",
        entity_id=job.id,
        detail={"level": request.level, "types": types, "group": request.group_id},
        source=user.actor.source,
    )
    return job


class ExportQueue(Protocol):
    """A durable job queue (the ``vertebro worker`` on PostgreSQL) that runs export jobs outside the server."""

    def defer_export(self, uow: UnitOfWork, job_id: str) -> None:
        """Queue the export job in the unit of work's transaction (it runs once the caller commits)."""


def _requester_role(uow: UnitOfWork, requested_by: str) -> Role:
    """Return the role of whoever asked for a job: a member of staff or a SMART client (``client:<id>``)."""
    if requested_by.startswith(ACTOR_PREFIX):
        client = SmartRepository(uow.session).client(requested_by.removeprefix(ACTOR_PREFIX))
        return Role(client.role) if client is not None and client.role is not None else Role.SERVICE_LEAD
    user = uow.users.get_by_username(requested_by)
    return Role(user.role) if user is not None else Role.SERVICE_LEAD


def run_job(session_factory: sessionmaker[Session], job_id: str, export_dir: Path, *, restart: bool = False) -> None:
    """Run a queued export job to the end (or until it is cancelled); commits batch by batch.

    With ``restart`` (the job queue retrying a job whose worker died), a job left ``running`` starts again
    from its first patient: its files are written anew, its progress counted from zero, and the read audit
    of the batches the dead worker had not committed is written once, by this run. Whatever error stops the
    job (a database error included), its row ends as failed with the reason: a job that died in this process
    is never reported as "running" (decision 0020).
    """
    try:
        _run_job(session_factory, job_id, export_dir, restart=restart)
    except Exception as error:  # any error: the status must say the job ended
        log.exception("export job %s failed", job_id)
        shutil.rmtree(export_dir / job_id, ignore_errors=True)
        with UnitOfWork(session_factory) as uow:
            job = FhirRepository(uow.session).job(job_id)
            if job is not None and job.status in ("queued", "running"):
                job.status, job.finished_at = "failed", utc_now()
                job.error = f"the export stopped on an internal error ({type(error).__name__}): request it again"
                uow.commit()


def _run_job(session_factory: sessionmaker[Session], job_id: str, export_dir: Path, *, restart: bool = False) -> None:
    folder = export_dir / job_id
    with UnitOfWork(session_factory) as uow:
        repository = FhirRepository(uow.session)
        job = repository.job(job_id)
        if job is None or job.status not in (("queued", "running") if restart else ("queued",)):
            return
        if job.status == "running":
            shutil.rmtree(folder, ignore_errors=True)
            job.done = 0
        role = _requester_role(uow, job.requested_by)
        actor = Actor(job.requested_by, role, job.source)
        job.status, job.updated_at = "running", utc_now()
        uow.commit()
        members = group_members(repository, job.group_id) if job.group_id is not None else None

        def progress(done: int) -> None:
            current = repository.job(job_id)
            if current is None or current.status == "cancelled":
                raise Cancelled
            current.done += done
            current.updated_at = utc_now()
            uow.commit()

        try:
            counts = export_ndjson(
                uow,
                actor,
                folder,
                since=job.since,
                types=frozenset(job.types or RESOURCE_TYPES),
                patient_ids=members,
                progress=progress,
            )
        except Cancelled:
            uow.rollback()
            shutil.rmtree(folder, ignore_errors=True)
            return
        except (VertebroError, OSError, ValueError) as error:
            uow.rollback()
            shutil.rmtree(folder, ignore_errors=True)
            failed = repository.job(job_id)
            if failed is not None:
                failed.status, failed.error, failed.finished_at = "failed", str(error)[:2000], utc_now()
                uow.commit()
            return
        finished = repository.job(job_id)
        if finished is None:  # deleted after the last batch
            uow.rollback()
            shutil.rmtree(folder, ignore_errors=True)
            return
        finished.status, finished.output, finished.finished_at = "complete", counts, utc_now()
        finished.updated_at = finished.finished_at
        uow.commit()


def job_of(uow: UnitOfWork, user: FhirUser, job_id: str, *, durable_queue: bool = False) -> FhirExportJob:
    """Return the caller's own export job; 404 for unknown jobs and other users' jobs alike.

    With ``durable_queue`` (PostgreSQL's job queue) a queued job waits for a worker however long that takes,
    so only a running job that stopped moving is reported as failed.
    """
    job = FhirRepository(uow.session).job(job_id)
    if job is None or job.requested_by != user.actor.username:
        raise NotFound(f"there is no export job {job_id!r} of yours", field="job_id")
    stale = ("running",) if durable_queue else ("queued", "running")
    if job.status in stale and utc_now() - job.updated_at > STALE_AFTER:
        job.status, job.error = "failed", "interrupted: the server stopped while exporting; request it again"
    return job


def cancel(uow: UnitOfWork, user: FhirUser, job_id: str, export_dir: Path) -> None:
    """Cancel a job, or delete a finished job and its files (the running job stops at its next batch)."""
    job = job_of(uow, user, job_id)
    FhirRepository(uow.session).delete_job(job)
    shutil.rmtree(export_dir / job.id, ignore_errors=True)
    uow.audit.append(
        actor=user.actor.username,
        action="export_deleted",
        entity_type="fhir_export",
        entity_id=job.id,
        source=user.actor.source,
    )


def manifest(job: FhirExportJob, base_url: str) -> dict[str, object]:
    """Return the Bulk Data completion manifest of a complete job."""
    return {
        "transactionTime": job.created_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": kind, "url": f"{base_url}/$export-file/{job.id}/{kind}.ndjson", "count": count}
            for kind, count in sorted(job.output.items())
        ],
        "error": [{"type": "OperationOutcome", "url": f"{base_url}/$export-file/{job.id}/{IGNORED_FILE}"}]
        if job.ignored
        else [],
    }


IGNORED_FILE = "OperationOutcome.ndjson"


def ignored_outcomes(uow: UnitOfWork, user: FhirUser, job_id: str) -> str:
    """Return the NDJSON file of the caller's complete job naming each kick-off parameter it ignored, one
    OperationOutcome (warning, not-supported) each, as the manifest's ``error`` lists it (Bulk Data IG 2.0.0:
    a server that processed a request with unsupported parameters says so there); 404 when none was ignored."""
    job = job_of(uow, user, job_id)
    if job.status != "complete" or not job.ignored:
        raise NotFound(f"export job {job_id} has no file {IGNORED_FILE!r}", field="file_name")
    lines = []
    for name in job.ignored:
        issue = {
            "severity": "warning",
            "code": "not-supported",
            "diagnostics": f"{name} was ignored: this server does not implement it, so the export is not narrowed "
            "by it (send Prefer: handling=strict to have such a request refused)",
            "expression": [name],
        }
        lines.append(json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}, separators=(",", ":")))
    _audit_download(uow, user, job, IGNORED_FILE)
    return "\n".join(lines) + "\n"


def _audit_download(uow: UnitOfWork, user: FhirUser, job: FhirExportJob, file_name: str) -> None:
    uow.audit.append(
        actor=user.actor.username,
        action="export_downloaded",
        entity_type="fhir_export",
        entity_id=job.id,
        detail={"file": file_name},
        source=user.actor.source,
    )


def file_of(uow: UnitOfWork, user: FhirUser, job_id: str, file_name: str, export_dir: Path) -> Path:
    """Return the path of one NDJSON file of the caller's complete job; 404 naming what is missing."""
    job = job_of(uow, user, job_id)
    match = FILE_NAME.match(file_name)
    if job.status != "complete" or match is None or match.group(1) not in job.output:
        raise NotFound(f"export job {job_id} has no file {file_name!r}", field="file_name")
    path = export_dir / job.id / file_name
    if not path.is_file():
        raise InvalidInput(f"the file {file_name} of export job {job_id} is gone: request the export again")
    user.grant.require(match.group(1), "read")
    _audit_download(uow, user, job, file_name)
    return path
