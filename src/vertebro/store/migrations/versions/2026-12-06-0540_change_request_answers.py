"""How staff answered a patient's request to cancel or move an appointment: ``appointment_change_answers``, a new,
empty table (decision 0040).

Each row is one answer (moved, cancelled, kept as booked, or the patient could not be reached) with who gave it,
when, and an optional note. A partial unique index allows at most one closing answer (anything but
"unreachable") per request on both databases. No existing row changes: every request stored before this
revision has no answer, so it shows as open until staff record one. The downgrade drops the table.

Revision ID: 7a0d1e2f0540
Revises: 7a0d1e2f0490
Create Date: 2026-12-06 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0540"
down_revision: str | Sequence[str] | None = "7a0d1e2f0530"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSING = sa.text("outcome <> 'unreachable'")


def upgrade() -> None:
    """Create the answers table, its index by request and the one-closing-answer index."""
    op.create_table(
        "appointment_change_answers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('moved', 'cancelled', 'kept', 'unreachable')",
            name=op.f("ck_appointment_change_answers_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["appointment_change_requests.id"],
            name=op.f("fk_appointment_change_answers_request_id_appointment_change_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_change_answers")),
    )
    op.create_index(
        op.f("ix_appointment_change_answers_request_id"), "appointment_change_answers", ["request_id"], unique=False
    )
    op.create_index(
        "uq_appointment_change_answers_one_closing",
        "appointment_change_answers",
        ["request_id"],
        unique=True,
        postgresql_where=CLOSING,
        sqlite_where=CLOSING,
    )


def downgrade() -> None:
    """Drop the answers table and its indexes."""
    op.drop_index("uq_appointment_change_answers_one_closing", table_name="appointment_change_answers")
    op.drop_index(op.f("ix_appointment_change_answers_request_id"), table_name="appointment_change_answers")
    op.drop_table("appointment_change_answers")
