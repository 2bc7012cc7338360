"""Referral details staff enter: who referred the patient (name, organisation, contact) and the patient's contact.

* ``cases.referrer_name``, ``cases.referrer_organisation``, ``cases.referrer_contact``: the referrer of this
  case (a referral belongs to the case; the same patient may be referred again by someone else).
* ``patients.phone``, ``patients.email``: how the team reaches the patient (a portal account keeps its own).

All nullable: cases and patients stored before this revision have none recorded (shown as "not recorded").

Revision ID: 7a0d1e2f0510
Revises: 7a0d1e2f0450
Create Date: 2026-12-05 22:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0510"
down_revision: str | Sequence[str] | None = "7a0d1e2f0450"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on both databases (a batch rebuild of patients fails with foreign keys enforced)
    op.add_column("cases", sa.Column("referrer_name", sa.String(length=200), nullable=True))
    op.add_column("cases", sa.Column("referrer_organisation", sa.String(length=200), nullable=True))
    op.add_column("cases", sa.Column("referrer_contact", sa.String(length=254), nullable=True))
    op.add_column("patients", sa.Column("phone", sa.String(length=40), nullable=True))
    op.add_column("patients", sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column("patients", "email")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35)
    op.drop_column("patients", "phone")
    op.drop_column("cases", "referrer_contact")
    op.drop_column("cases", "referrer_organisation")
    op.drop_column("cases", "referrer_name")
