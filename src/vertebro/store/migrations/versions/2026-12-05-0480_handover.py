"""Hand-over: what another role must record before a case can go on, kept for the worklist's "for you".

``case_workflows.handover_roles`` ("radiologist" or "nurse,radiologist") and ``case_workflows.handover`` (the
words, e.g. "needs the radiologist: imaging: L1: date of the MRI or bone scan") are copied from the latest
assessment whenever a case is assessed (``pathway.handover.fact_handovers``, decision 0033). Existing cases are
filled from their latest stored assessment.

Revision ID: 7a0d1e2f0480
Revises: 7a0d1e2f0510
Create Date: 2026-12-05 21:40:00+00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from vertebro.pathway.handover import fact_handovers, stored_handover

revision: str = "7a0d1e2f0480"
down_revision: str | Sequence[str] | None = "7a0d1e2f0510"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN on both databases: a batch copy on SQLite would drop the state-count triggers
    op.add_column("case_workflows", sa.Column("handover_roles", sa.String(length=64), nullable=True))
    op.add_column("case_workflows", sa.Column("handover", sa.String(length=500), nullable=True))
    bind = op.get_bind()
    latest = sa.text(
        "SELECT w.case_id, (SELECT a.result FROM assessments a WHERE a.case_id = w.case_id "
        "ORDER BY a.created_at DESC, a.id DESC LIMIT 1) FROM case_workflows w"
    )
    update = sa.text("UPDATE case_workflows SET handover_roles = :roles, handover = :text WHERE case_id = :case_id")
    for case_id, result in bind.execute(latest).all():
        data: Any = json.loads(result) if isinstance(result, str) else result
        if not isinstance(data, dict):
            continue
        roles, text = stored_handover(fact_handovers(data))
        if roles is not None:
            bind.execute(update, {"roles": roles, "text": text, "case_id": case_id})


def downgrade() -> None:
    op.drop_column("case_workflows", "handover")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35)
    op.drop_column("case_workflows", "handover_roles")
