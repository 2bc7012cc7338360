"""Schedule plans: the planner's proposals, kept until the service lead accepts or discards them.

A row holds the scheduling instance built from the database, the CP-SAT plan (edited in place when the
service lead moves a session) and the first-come-first-served baseline, as JSON documents in the
documented formats, plus the mapping from instance ids back to cases and rooms. Accepting creates the
bookings through the booking service (``slot_reservations`` still forbids double booking).

Revision ID: 7a0d1e2f0320
Revises: 7a0d1e2f0310
Create Date: 2026-11-22 03:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0320"
down_revision: str | Sequence[str] | None = "7a0d1e2f0310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``schedule_plans``."""
    op.create_table(
        "schedule_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("weeks", sa.SmallInteger(), nullable=False),
        sa.Column("time_limit_seconds", sa.Double(), nullable=False),
        sa.Column("instance", JSON_DOCUMENT, nullable=False),
        sa.Column("plan", JSON_DOCUMENT, nullable=False),
        sa.Column("baseline", JSON_DOCUMENT, nullable=False),
        sa.Column("references", JSON_DOCUMENT, nullable=False),
        sa.Column("edits", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'discarded')", name=op.f("ck_schedule_plans_status_known")
        ),
        sa.CheckConstraint("weeks BETWEEN 1 AND 12", name=op.f("ck_schedule_plans_weeks_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_plans")),
    )
    op.create_index("ix_schedule_plans_created_at", "schedule_plans", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop ``schedule_plans``."""
    op.drop_index("ix_schedule_plans_created_at", table_name="schedule_plans")
    op.drop_table("schedule_plans")
