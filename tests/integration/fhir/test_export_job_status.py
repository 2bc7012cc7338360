"""An export job that stops on an error the export does not expect ends as failed, never "running" (issue 14)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from vertebro.fhir.export_jobs import run_job
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FhirExportJob


def test_a_job_stopped_by_an_error_reports_failed_with_the_reason(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # A Group job whose group no longer resolves: the error is raised after the job was marked running.
    with UnitOfWork(session_factory) as uow:
        uow.session.add(
            FhirExportJob(
                id="f" * 32,
                requested_by="t.nurse",
                source="pytest",
                request_url="http://test/fhir/Group/gone/$export",
                level="group",
                group_id="gone",
                types=["Patient"],
                status="queued",
                output={},
            )
        )
        uow.commit()
    run_job(session_factory, "f" * 32, tmp_path)
    with UnitOfWork(session_factory) as uow:
        job = uow.session.get(FhirExportJob, "f" * 32)
        assert job is not None
        assert (job.status, job.finished_at is not None) == ("failed", True)
        assert "NotFound" in (job.error or "")
    assert not (tmp_path / ("f" * 32)).exists()
