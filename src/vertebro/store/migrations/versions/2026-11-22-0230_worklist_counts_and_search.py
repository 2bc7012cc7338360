"""Worklist performance: per-state case counts kept by triggers, trigram search indexes on PostgreSQL.

The worklist shows how many cases are in each state on every view; counting 100,000 workflows each time
is too slow, so ``case_state_counts`` is kept exact by triggers on ``case_workflows`` (both databases).
Searching names and identifiers by a fragment uses trigram (GIN) indexes on PostgreSQL; SQLite scans.

Revision ID: 5c1f2b7d9e40
Revises: 3723c65cf71f
Create Date: 2026-11-22 02:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1f2b7d9e40"
down_revision: str | Sequence[str] | None = "3723c65cf71f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_UP = [
    """
    CREATE FUNCTION case_state_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE case_state_counts SET n = n - 1 WHERE state = OLD.state;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO case_state_counts (state, n) VALUES (NEW.state, 1)
            ON CONFLICT (state) DO UPDATE SET n = case_state_counts.n + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER case_state_counts_track
    AFTER INSERT OR DELETE OR UPDATE OF state ON case_workflows
    FOR EACH ROW EXECUTE FUNCTION case_state_counts_track()
    """,
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_patients_name_trgm ON patients USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX ix_patients_identifier_trgm ON patients USING gin (lower(identifier) gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_patients_identifier_trgm",
    "DROP INDEX IF EXISTS ix_patients_name_trgm",
    "DROP TRIGGER IF EXISTS case_state_counts_track ON case_workflows",
    "DROP FUNCTION IF EXISTS case_state_counts_track()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER case_state_counts_insert AFTER INSERT ON case_workflows BEGIN
        INSERT INTO case_state_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER case_state_counts_update AFTER UPDATE OF state ON case_workflows BEGIN
        UPDATE case_state_counts SET n = n - 1 WHERE state = OLD.state;
        INSERT INTO case_state_counts (state, n) VALUES (NEW.state, 1)
        ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER case_state_counts_delete AFTER DELETE ON case_workflows BEGIN
        UPDATE case_state_counts SET n = n - 1 WHERE state = OLD.state;
    END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS case_state_counts_delete",
    "DROP TRIGGER IF EXISTS case_state_counts_update",
    "DROP TRIGGER IF EXISTS case_state_counts_insert",
]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "case_state_counts",
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_case_state_counts")),
    )
    op.execute(
        sa.text("INSERT INTO case_state_counts (state, n) SELECT state, count(*) FROM case_workflows GROUP BY state")
    )
    statements = PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    statements = PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(sa.text(statement))
    op.drop_table("case_state_counts")
