"""Run the Alembic migrations shipped inside the package, without any ``alembic.ini``.

The CLI's ``vertebro db upgrade`` calls :func:`upgrade`. Developers create a new revision with
``alembic -c src/vertebro/store/migrations/alembic.ini revision --autogenerate -m "..."``
(the database comes from ``VERTEBRO_DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from vertebro.errors import NotMigrated
from vertebro.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"


def alembic_config(database_url: str | URL | None = None) -> Config:
    """Return an Alembic configuration for the packaged migrations.

    ``database_url`` is handed to ``env.py`` through ``Config.attributes`` (not the ini
    interpolation, so passwords containing ``%`` are safe). Without it ``env.py`` falls
    back to the settings (``VERTEBRO_DATABASE_URL``).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision`` in one transaction."""
    _run(database_url, revision, downgrade=False)


def downgrade(database_url: str | URL, revision: str) -> None:
    """Migrate the database at ``database_url`` down to ``revision`` (``"base"``: empty)."""
    _run(database_url, revision, downgrade=True)


def head_revision() -> str:
    """Return the newest revision shipped with the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(database_url: str | URL) -> str | None:
    """Return the revision the database is at, or None if it was never migrated."""
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def ensure_at_head(database_url: str | URL) -> None:
    """Raise :class:`~vertebro.errors.NotMigrated` unless the database is at the head revision.

    A boundary calls this before its first unit of work, so that an empty or outdated database
    gives a clear "run ``vertebro db upgrade``" instead of a missing-table error.
    """
    current = current_revision(database_url)
    head = head_revision()
    if current != head:
        raise NotMigrated(
            f"the database is at revision {current or 'none (empty)'} but this version of "
            f"vertebro needs {head}; run `vertebro db upgrade`"
        )


def _run(database_url: str | URL, revision: str, *, downgrade: bool) -> None:
    config = alembic_config(database_url)
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if downgrade:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
    finally:
        engine.dispose()


# Indexes that exist only in the database (PostgreSQL trigram search), not in the models.
DATABASE_ONLY_INDEXES = frozenset({"ix_patients_name_trgm", "ix_patients_identifier_trgm"})


def in_models(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic ``include_object`` hook: leave the database-only search indexes and the job queue's
    tables (Procrastinate's own schema, ``procrastinate_*``, PostgreSQL only) out of comparisons."""
    if type_ == "table" and reflected and compare_to is None and (name or "").startswith("procrastinate_"):
        return False
    return not (type_ == "index" and reflected and name in DATABASE_ONLY_INDEXES)
