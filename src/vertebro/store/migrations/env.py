"""Alembic environment for vertebro: configured from code, never from the working directory.

The connection comes, in order of preference, from ``config.attributes["connection"]`` (set by
:mod:`vertebro.store.migrate`), ``config.attributes["database_url"]``, the ini option
``sqlalchemy.url``, or the settings (``VERTEBRO_DATABASE_URL``).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from vertebro.config import Settings
from vertebro.store import models  # noqa: F401  (registers the tables on the metadata)
from vertebro.store.base import Base, UTCDateTime
from vertebro.store.db import make_engine
from vertebro.store.migrate import in_models

config = context.config
target_metadata = Base.metadata


def _database_url() -> URL:
    url: str | URL | None = config.attributes.get("database_url")
    if url is None:
        url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    return make_url(url)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types without importing application code in migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migration SQL for the configured URL without connecting."""
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a new one to the configured URL."""
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(_database_url(), poolclass=NullPool)
    try:
        with engine.connect() as new_connection:
            _configure(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
