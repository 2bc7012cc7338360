"""Engines, sessions and the unit of work.

Services receive a :class:`UnitOfWork` and never commit; the boundary that opened it (a CLI
command, later a web request) calls :meth:`UnitOfWork.commit`. Leaving the ``with`` block
without committing rolls everything back, audit entries included.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from vertebro.store.portal.repository import PortalRepository
from vertebro.store.repository import (
    AssessmentRepository,
    AuditRepository,
    CaseRepository,
    PatientRepository,
)
from vertebro.store.staff_repository import LoginAttemptRepository, UserRepository, WebSessionRepository
from vertebro.store.workflow_repository import BookingRepository, ClinicalRecordRepository, WorkflowRepository


def sqlite_database_path(url: URL) -> Path | None:
    """Return the file of an SQLite URL, or None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long an SQLite transaction waits for another connection's write transaction before giving up."""


def make_engine(database_url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` (``sqlite:///path`` or ``postgresql+psycopg://``).

    For SQLite (decision 0020) the database folder is created if missing, and every connection gets:

    * the write-ahead log (``journal_mode=WAL``): readers never block the writer and the writer never
      blocks readers; ``synchronous=FULL`` keeps every acknowledged commit through a power cut;
    * a busy timeout of :data:`SQLITE_BUSY_TIMEOUT_S`: a transaction waits for the current writer
      instead of failing with "database is locked";
    * ``BEGIN IMMEDIATE`` for every transaction (SQLAlchemy emits it itself, the ``sqlite3`` driver's
      legacy transaction handling is off): the write lock is taken when the transaction starts, so write
      transactions queue behind each other through the busy timeout. A transaction that began as a
      reader and later writes (most requests do: reads are audited) cannot be refused mid-way, which a
      deferred ``BEGIN`` allows (SQLite answers "database is locked" at once, without waiting);
    * foreign keys on.

    Transactions, savepoints and DDL then behave as on PostgreSQL. Extra keyword arguments go to
    :func:`sqlalchemy.create_engine`.
    """
    url = make_url(database_url)
    path = sqlite_database_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, wal=path is not None)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver: SQLAlchemy begins
        cursor = dbapi_connection.cursor()
        try:
            if wal:  # a file database; in-memory databases have no write-ahead log
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(bind: Engine | Connection, **kwargs: Any) -> sessionmaker[Session]:
    """Return a session factory bound to an engine (or, in tests, to one connection).

    Objects stay loaded after commit (``expire_on_commit=False``) so a boundary can still
    read ids and versions it got from a service. Extra keyword arguments go to
    :class:`sqlalchemy.orm.sessionmaker`.
    """
    kwargs.setdefault("expire_on_commit", False)
    return sessionmaker(bind=bind, **kwargs)


class UnitOfWork:
    """One business transaction: a session plus the repositories that use it.

    Use it as a context manager and call :meth:`commit` at the end; anything not committed
    when the block exits (normally or by an exception) is rolled back. Objects loaded in the
    block stay readable afterwards, detached from any session.
    """

    session: Session
    patients: PatientRepository
    cases: CaseRepository
    assessments: AssessmentRepository
    audit: AuditRepository
    users: UserRepository
    web_sessions: WebSessionRepository
    login_attempts: LoginAttemptRepository
    workflows: WorkflowRepository
    bookings: BookingRepository
    records: ClinicalRecordRepository
    portal: PortalRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.patients = PatientRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.assessments = AssessmentRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.users = UserRepository(self.session)
        self.web_sessions = WebSessionRepository(self.session)
        self.login_attempts = LoginAttemptRepository(self.session)
        self.workflows = WorkflowRepository(self.session)
        self.bookings = BookingRepository(self.session)
        self.records = ClinicalRecordRepository(self.session)
        self.portal = PortalRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing rolls back whatever was not committed. Unlike rollback() it does not
        # expire loaded objects, so what a block read stays readable (detached) after it.
        self.session.close()

    def commit(self) -> None:
        """Commit everything done so far in this unit of work."""
        self.session.commit()

    def rollback(self) -> None:
        """Discard everything done since the last commit."""
        self.session.rollback()
