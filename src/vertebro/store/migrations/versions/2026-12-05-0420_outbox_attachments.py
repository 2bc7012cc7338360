"""Messages to patients carry a calendar file: ``outbox_messages.attachment`` (iCalendar text, nullable).

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
down_revision: str | Sequence[str] | None = "7a0d1e2f0380"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the attachment column."""
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the attachment column."""
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("attachment")
