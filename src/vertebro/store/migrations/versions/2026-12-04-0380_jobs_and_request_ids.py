"""Durable background jobs and request ids: the Procrastinate schema (PostgreSQL), ``job_results``,
``audit_log.request_id``.

On PostgreSQL this applies the job queue's schema as shipped with the pinned Procrastinate 3.10.0 (a copy
lives beside the migrations, ``procrastinate-3.10.0.sql``, so that a later Procrastinate cannot change
what this revision creates; an upgrade of Procrastinate adds a migration running its delta scripts).
On SQLite there is no queue: jobs run in the server process (decision 0022).

``audit_log`` is append-only (triggers reject UPDATE and DELETE): adding a nullable column without a
default rewrites no row and fires no row trigger on either database, so the triggers stay as they are
and existing rows get NULL. The downgrade drops the column: SQLite's native ``DROP COLUMN`` (3.35+)
keeps the table and its triggers (they do not name the column); PostgreSQL drops it in place.

Revision ID: 7a0d1e2f0380
Revises: 7a0d1e2f0340
Create Date: 2026-12-04 23:45:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0380"
down_revision: str | Sequence[str] | None = "7a0d1e2f0350"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROCRASTINATE_SCHEMA = Path(__file__).resolve().parent.parent / "procrastinate-3.10.0.sql"

DROP_PROCRASTINATE = """
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT tablename FROM pg_tables
                WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
    END LOOP;
    FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
    END LOOP;
    FOR item IN SELECT t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%' AND t.typtype IN ('e', 'c')
                LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
    END LOOP;
END;
$$;
"""


def _driver_execute(sql: str) -> None:
    # psycopg runs a script of several statements when it is given no parameters.
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("request_id", sa.String(length=64), nullable=True))
    op.create_table(
        "job_results",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_job_results")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _driver_execute(PROCRASTINATE_SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _driver_execute(DROP_PROCRASTINATE)
    op.drop_table("job_results")
    op.drop_column("audit_log", "request_id")
