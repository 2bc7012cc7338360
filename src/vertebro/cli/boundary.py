"""The command line's transaction boundary: open a unit of work, call a service, commit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vertebro.clinical import Assessment, Case
from vertebro.store import service
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.migrate import ensure_at_head


@contextmanager
def unit_of_work(database_url: str) -> Iterator[UnitOfWork]:
    """Yield a unit of work on the database; the caller commits, anything else is rolled back.

    Refuses (``NotMigrated``) a database whose schema is not at this code's migration head.
    """
    ensure_at_head(database_url)
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()


def save_assessment(
    database_url: str,
    case: Case,
    assessment: Assessment,
    data: dict[str, Any],
    *,
    actor: str,
    source: str,
    fact_sources: tuple[str, dict[str, Any]] | None = None,
) -> service.RecordedCase:
    """Record one case with its assessment (and, read from FHIR, where its facts came from) and commit."""
    with unit_of_work(database_url) as uow:
        recorded = service.record_assessment(
            uow, case, assessment, data, actor=actor, source=source, fact_sources=fact_sources
        )
        uow.commit()
        return recorded
