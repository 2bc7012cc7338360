"""The cement timer's times, recorded on each treated level (decision 0034).

* ``procedure_levels.cement_mixed_at``: when mixing of this level's cement started (the timer's zero).
* ``procedure_levels.timer_paused_at`` and ``timer_paused_seconds``: a pause in progress and the pauses so far, so
  that the timer shows the same phase after a save or a reload (the cement keeps setting while paused).
* ``procedure_levels.injection_started_at`` and ``injection_ended_at``: the injection of this level.

All nullable: existing levels have no timer. On SQLite the columns are added and dropped with ALTER TABLE
(no batch rebuild, which would drop the registry's triggers on the table).

Revision ID: 7a0d1e2f0490
Revises: 7a0d1e2f0460
Create Date: 2026-12-05 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0490"
down_revision: str | Sequence[str] | None = "7a0d1e2f0460"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("cement_mixed_at", "timer_paused_at", "injection_started_at", "injection_ended_at")


def upgrade() -> None:
    """Add the timer's columns to procedure_levels."""
    for name in MOMENTS:
        op.add_column("procedure_levels", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("procedure_levels", sa.Column("timer_paused_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the timer's columns."""
    op.drop_column("procedure_levels", "timer_paused_seconds")
    for name in reversed(MOMENTS):
        op.drop_column("procedure_levels", name)
