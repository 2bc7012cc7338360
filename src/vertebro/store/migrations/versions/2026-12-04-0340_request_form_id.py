"""Appointment requests remember the form they came from (a form sent twice opens one request).

Revision ID: 7a0d1e2f0340
Revises: 7a0d1e2f0330
Create Date: 2026-12-04 16:15:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0340"
down_revision: str | Sequence[str] | None = "7a0d1e2f0330"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("appointment_requests", sa.Column("form_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_appointment_requests_form_id"), "appointment_requests", ["form_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_appointment_requests_form_id"), table_name="appointment_requests")
    with op.batch_alter_table("appointment_requests") as batch:
        batch.drop_column("form_id")
