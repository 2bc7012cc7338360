"""Worklist columns: where a case came from and which profile gave its default verdict; indexes to sort by.

* ``case_workflows.channel`` (portal, staff or fhir): cases opened by a patient's request are 'portal'
  (they have an appointment request); every other existing case is 'staff' (the FHIR imports before this
  revision left no marker on the case).
* ``case_workflows.default_profile``: the profile of the latest assessment's default verdict, copied from
  that assessment so the worklist names the profile beside its verdict without reading the assessments.
* indexes on ``patients.birth_date`` (search and sort by date of birth) and ``cases.created_at`` (sort by
  request date).

Revision ID: 7a0d1e2f0430
Revises: 7a0d1e2f0380
Create Date: 2026-12-05 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0430"
down_revision: str | Sequence[str] | None = "7a0d1e2f0390"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on both databases: a batch copy on SQLite would drop the state-count triggers
    op.add_column("case_workflows", sa.Column("channel", sa.String(length=8), server_default="staff", nullable=False))
    op.add_column("case_workflows", sa.Column("default_profile", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE case_workflows SET channel = 'portal' WHERE EXISTS "
        "(SELECT 1 FROM appointment_requests r WHERE r.case_id = case_workflows.case_id)"
    )
    op.execute(
        "UPDATE case_workflows SET default_profile = (SELECT a.default_profile FROM assessments a "
        "WHERE a.case_id = case_workflows.case_id ORDER BY a.created_at DESC, a.id DESC LIMIT 1)"
    )
    op.create_index("ix_patients_birth_date", "patients", ["birth_date"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_index("ix_patients_birth_date", table_name="patients")
    op.drop_column("case_workflows", "default_profile")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35)
    op.drop_column("case_workflows", "channel")
