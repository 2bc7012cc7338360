"""The system of a patient's identifier, as the EHR sent it (``Patient.identifier.system``).

Before this revision a Patient created through /fhir came back with vertebro's own identifier system
whatever system the client had sent, and identifier search ignored the system. Existing rows keep NULL,
which means vertebro's own system (what they were shown with until now).

Revision ID: 7a0d1e2f0410
Revises: 7a0d1e2f0380
Create Date: 2026-12-05 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0410"
down_revision: str | Sequence[str] | None = "7a0d1e2f0420"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable identifier system column."""
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("identifier_system", sa.String(255), nullable=True))


def downgrade() -> None:
    """Drop the identifier system column."""
    # ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop the patients table, which other tables
    # reference, and SQLite refuses that while foreign keys are enforced (decision 0020).
    op.drop_column("patients", "identifier_system")
