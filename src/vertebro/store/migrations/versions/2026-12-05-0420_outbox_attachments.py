"""Messages to patients carry a calendar file: ``outbox_messages.attachment`` (iCalendar text, nullable);
patients' requests to cancel or move an appointment: ``appointment_change_requests`` (a new, empty table).

Adding a nullable column without a default rewrites no row on either database; existing messages get
NULL (no attachment). The downgrade drops the column (SQLite 3.35+ native ``DROP COLUMN``).

Revision ID: 7a0d1e2f0420
Revises: 7a0d1e2f0380
Create Date: 2026-12-05 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0420"
down_revision: str | Sequence[str] | None = "7a0d1e2f0430"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the attachment column and the change requests table."""
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment", sa.Text(), nullable=True))
    op.create_table(
        "appointment_change_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('cancel', 'reschedule')", name=op.f("ck_appointment_change_requests_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_appointment_change_requests_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appointment_change_requests_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_change_requests")),
    )
    with op.batch_alter_table("appointment_change_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_change_requests_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    """Drop the change requests and the attachment column."""
    with op.batch_alter_table("appointment_change_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_change_requests_case_id"))
    op.drop_table("appointment_change_requests")
    op.drop_column("outbox_messages", "attachment")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35): no table rebuild
