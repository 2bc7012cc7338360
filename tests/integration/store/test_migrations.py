"""The migrations build exactly the schema the models describe, and can be reverted."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.pool import NullPool

from vertebro.errors import NotMigrated
from vertebro.store import migrate
from vertebro.store.base import Base
from vertebro.store.db import make_engine

TABLES = {"patients", "cases", "fractures", "assessments", "audit_log"}


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        opts = {"compare_type": True, "compare_server_default": True, "include_object": migrate.in_models}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert _diff(engine) == []


def test_database_is_at_head(db_url: str, engine: Engine) -> None:
    assert migrate.current_revision(db_url) == migrate.head_revision()
    migrate.ensure_at_head(db_url)


def test_unmigrated_database_is_reported(empty_db_url: str) -> None:
    with pytest.raises(NotMigrated, match="vertebro db upgrade") as caught:
        migrate.ensure_at_head(empty_db_url)
    assert caught.value.status_code == 503


def test_downgrade_to_base_and_upgrade_again(empty_db_url: str) -> None:
    assert migrate.current_revision(empty_db_url) is None
    migrate.upgrade(empty_db_url)
    migrate.downgrade(empty_db_url, "base")
    engine = make_engine(empty_db_url, poolclass=NullPool)
    try:
        assert TABLES.isdisjoint(inspect(engine).get_table_names())
        assert migrate.current_revision(empty_db_url) is None
        migrate.upgrade(empty_db_url)
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert _diff(engine) == []
    finally:
        engine.dispose()
