"""Where each fact of a case read from FHIR came from: ``case_fact_sources`` (a new, empty table, one row per case
read from FHIR; decision 0031); the Bulk Data kick-off parameters an export ignored: ``fhir_export_jobs.ignored``
(nullable JSON; existing jobs get NULL, none ignored as far as anyone knows, and rewrite no row).

Existing cases get no row: their sources were not kept, and the chart says so for a case imported from FHIR
before this change rather than guessing them. The downgrade drops the table and the column (SQLite 3.35+ native
``DROP COLUMN``).

Revision ID: 7a0d1e2f0460
Revises: 7a0d1e2f0480
Create Date: 2026-12-05 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0460"
down_revision: str | Sequence[str] | None = "7a0d1e2f0480"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add the fact sources table and the ignored parameters of export jobs."""
    op.create_table(
        "case_fact_sources",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("document", JSON_DOCUMENT, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_fact_sources_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_fact_sources")),
    )
    with op.batch_alter_table("fhir_export_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ignored", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    """Drop the ignored parameters of export jobs and the fact sources table."""
    op.drop_column("fhir_export_jobs", "ignored")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35): no table rebuild
    op.drop_table("case_fact_sources")
