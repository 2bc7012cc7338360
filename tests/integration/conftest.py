"""Database fixtures: every test that uses ``db_url`` runs on SQLite and on PostgreSQL.

* SQLite: a temporary database file.
* PostgreSQL: a throw-away database ``vertebro_test_<random>`` created on the server at
  ``VERTEBRO_TEST_POSTGRES_URL`` (default: postgres on 127.0.0.1:5432, trust auth) and
  dropped at the end of the run. An unreachable server FAILS the tests; they never skip.

The schema is built once per backend by the real Alembic migrations
(:func:`vertebro.store.migrate.upgrade`); ``create_all`` is never used. Each test runs in a
connection-level transaction that is rolled back afterwards, and sessions join it through
savepoints, so a unit of work can commit and roll back as usual without leaking rows.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from vertebro.clinical.facts import Case
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.service import RecordedCase, record_case

POSTGRES_URL_ENV = "VERTEBRO_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def _postgres_server_url() -> URL:
    return make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))


@contextmanager
def _postgres_database() -> Iterator[URL]:
    """Create a throw-away PostgreSQL database and drop it afterwards."""
    server = _postgres_server_url()
    admin = create_engine(
        server,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )
    name = f"vertebro_test_{secrets.token_hex(6)}"
    problem: str | None = None
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DBAPIError as error:
        problem = str(error.orig)
    if problem is not None:
        admin.dispose()
        shown = server.render_as_string(hide_password=True)
        pytest.fail(
            f"cannot create a test database on PostgreSQL at {shown}: {problem}\n"
            "The store tests run on PostgreSQL as well as SQLite and never skip it. "
            "Start a server with `bash scripts/ensure-postgres.sh`, or set "
            f"{POSTGRES_URL_ENV} to a server where this user may CREATE DATABASE.",
            pytrace=False,
        )
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'vertebro_{secrets.token_hex(4)}.db'}"
        return
    with _postgres_database() as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the session's test database, one per backend (tests run once for each)."""
    backend: str = request.param
    with _database(backend, tmp_path_factory.mktemp(backend)) as url:
        yield url


@pytest.fixture
def empty_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """URL of a further, unmigrated database on the same backend, for migration tests."""
    with _database(make_url(db_url).get_backend_name(), tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """Engine on the test database, migrated to head once per backend and session."""
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that join the test transaction through savepoints."""
    return make_session_factory(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def make_case() -> Callable[..., Case]:
    """Return a builder of valid cases: ``make_case(identifier, levels=..., **patient)``."""

    def build(
        identifier: str | None = "MRN-0001",
        *,
        levels: Sequence[str] = ("L1",),
        name: str | None = "Ada Example",
        sex: str = "female",
        birth_date: dt.date | None = dt.date(1947, 3, 14),
        procedure_date: dt.date | None = dt.date(2026, 12, 1),
    ) -> Case:
        patient: dict[str, Any] = {"age": 79, "sex": sex}
        if identifier is not None:
            patient["identifier"] = identifier
        if name is not None:
            patient["name"] = name
        if birth_date is not None:
            patient["birth_date"] = birth_date
        return Case.model_validate(
            {
                "patient": patient,
                "fractures": [
                    {
                        "level": level,
                        "cause": "osteoporotic",
                        "onset_weeks": 4.0,
                        "mri_edema": True,
                        "bone_scan_uptake": None,
                        "height_loss_percent": 30.0,
                    }
                    for level in levels
                ],
                "pain": {"nrs": 8, "trend": "stable"},
                "procedure_date": procedure_date,
            }
        )

    return build


@pytest.fixture
def record() -> Callable[..., RecordedCase]:
    """Return ``record(uow, case, **overrides)``: :func:`record_case` with test defaults."""

    def run(uow: UnitOfWork, case: Case, **overrides: Any) -> RecordedCase:
        arguments: dict[str, Any] = {
            "actor": "dr.tester",
            "source": "pytest",
            "assessment": {
                "ruleset_version": "test-1",
                "profiles": {"acr": {"category": "appropriate"}},
                "levels": [fracture.level for fracture in case.fractures],
            },
            "ruleset_version": "test-1",
            "default_profile": "acr",
            "default_category": "appropriate",
            "treatment": "vertebroplasty",
            "genant_by_level": {fracture.level: 2 for fracture in case.fractures},
        }
        arguments.update(overrides)
        return record_case(uow, case, **arguments)

    return run
