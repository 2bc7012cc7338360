"""Entry points for a command line or job: save an assessed case, read the worklist.

Each call opens the database at a URL, checks that its schema is migrated to the revision this
code ships, runs one unit of work and commits it. This module is the only part of the store that
knows the shape of :class:`vertebro.clinical.assessment.Assessment`; the service receives plain
values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from vertebro.clinical.assessment import Assessment
from vertebro.clinical.facts import Case
from vertebro.errors import NotMigrated
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.service import RecordedCase, WorklistRow, record_case, worklist


def assessment_fields(assessment: Assessment) -> dict[str, Any]:
    """Return the values :func:`~vertebro.store.service.record_case` needs besides the JSON."""
    return {
        "ruleset_version": assessment.ruleset_version,
        "default_profile": assessment.recommendation.default_profile,
        "default_category": assessment.default_verdict.category.value,
        "treatment": assessment.recommendation.treatment.value,
        "genant_by_level": {
            finding.level: None if finding.morphometry is None else finding.morphometry.genant_grade
            for finding in assessment.fractures
        },
    }


def save_assessment(
    database_url: str | URL,
    case: Case,
    assessment: Assessment,
    data: Mapping[str, Any],
    *,
    actor: str,
    source: str | None,
) -> RecordedCase:
    """Store a case and its assessment (``data``: the assessment as JSON) and commit.

    Raises :class:`~vertebro.errors.NotMigrated` if the database needs ``vertebro db upgrade``,
    :class:`~vertebro.errors.InvalidInput` if the case has no ``patient.identifier``.
    """
    with _session_factory(database_url) as factory, UnitOfWork(factory) as uow:
        recorded = record_case(uow, case, actor=actor, source=source, assessment=data, **assessment_fields(assessment))
        uow.commit()
    return recorded


def read_worklist(database_url: str | URL, *, actor: str, source: str | None) -> list[WorklistRow]:
    """Return the worklist and commit the audit entries recording who read which patient."""
    with _session_factory(database_url) as factory, UnitOfWork(factory) as uow:
        rows = worklist(uow, actor=actor, source=source)
        uow.commit()
    return rows


def ensure_migrated(database_url: str | URL) -> None:
    """Raise :class:`~vertebro.errors.NotMigrated` unless the database is at the head revision."""
    current = migrate.current_revision(database_url)
    head = migrate.head_revision()
    if current != head:
        raise NotMigrated(
            f"the database is at revision {current or 'none (empty)'} but this version of "
            f"vertebro needs {head}; run `vertebro db upgrade`"
        )


@contextmanager
def _session_factory(database_url: str | URL) -> Iterator[sessionmaker[Session]]:
    ensure_migrated(database_url)
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
