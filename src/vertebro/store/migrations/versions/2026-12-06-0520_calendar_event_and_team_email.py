"""A moved appointment stays one calendar event; the team's e-mail address for "a patient message is waiting".

* ``bookings.calendar_uid``: the patient's calendar event (iCalendar ``UID``) this booking is; a booking made by
  moving another carries the moved booking's, so the patient's calendar updates the event it holds. Null: the
  event named after the booking's own id (every booking stored before this revision).
* ``bookings.calendar_sequence``: the ``SEQUENCE`` of the last calendar file sent for it (0 when booked; a move
  and a cancellation each send one higher).
* ``clinic_settings.team_email``: where the team is told that a patient's message is waiting (no name, no
  content); null: no such e-mail is sent.

Plain ADD COLUMN on both databases (no batch rebuild, which would drop triggers and trips foreign keys).

Revision ID: 7a0d1e2f0520
Revises: 7a0d1e2f0490
Create Date: 2026-12-06 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0520"
down_revision: str | Sequence[str] | None = "7a0d1e2f0490"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bookings", sa.Column("calendar_uid", sa.String(length=128), nullable=True))
    op.add_column("bookings", sa.Column("calendar_sequence", sa.Integer(), server_default="0", nullable=False))
    op.add_column("clinic_settings", sa.Column("team_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column("clinic_settings", "team_email")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35)
    op.drop_column("bookings", "calendar_sequence")
    op.drop_column("bookings", "calendar_uid")
