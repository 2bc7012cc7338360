"""One active booking per case: the bookings left active by a bare 'cancel booking' step are cancelled.

Before this revision the ``cancel_booking`` pathway step (API and chart) moved a case back to 'prepared'
without cancelling its booking, and re-booking then left the case with two active bookings. This revision
repairs such rows on both databases, then a partial unique index keeps one active booking per case:

* an active booking of a case that is not scheduled or later is cancelled, its slots freed;
* of several active bookings of one case, the newest stays; the others are cancelled, their slots freed;
* a case left 'scheduled' without an active booking (a bare 'book' step) goes back to 'prepared'.

Revision ID: 7a0d1e2f0370
Revises: 7a0d1e2f0340
Create Date: 2026-12-04 23:45:00+00:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0370"
down_revision: str | Sequence[str] | None = "7a0d1e2f0340"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOKED_OR_LATER = "('scheduled', 'in_procedure', 'monitoring', 'discharged', 'follow_up', 'closed')"
STALE = (
    "SELECT b.id FROM bookings b JOIN case_workflows w ON w.case_id = b.case_id "
    f"WHERE b.status = 'booked' AND w.state NOT IN {BOOKED_OR_LATER}"
)
OLDER = (
    "SELECT b.id FROM bookings b WHERE b.status = 'booked' AND EXISTS "
    "(SELECT 1 FROM bookings n WHERE n.case_id = b.case_id AND n.status = 'booked' AND n.id > b.id)"
)
REASON = "cancelled by the 0370 data repair: the case had left 'scheduled' or was booked twice"


def _cancel(ids_query: str, now: dt.datetime) -> None:
    ids = [row[0] for row in op.get_bind().execute(sa.text(ids_query))]
    for booking_id in ids:
        op.get_bind().execute(sa.text("DELETE FROM slot_reservations WHERE booking_id = :id"), {"id": booking_id})
        op.get_bind().execute(
            sa.text(
                "UPDATE bookings SET status = 'cancelled', cancelled_at = :now, "
                "cancel_reason = COALESCE(cancel_reason, :reason) WHERE id = :id"
            ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
            {"id": booking_id, "now": now, "reason": REASON},
        )


def upgrade() -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    _cancel(STALE, now)
    _cancel(OLDER, now)
    op.execute(
        "UPDATE case_workflows SET state = 'prepared' WHERE state = 'scheduled' AND NOT EXISTS "
        "(SELECT 1 FROM bookings b WHERE b.case_id = case_workflows.case_id AND b.status = 'booked')"
    )
    op.create_index(
        "uq_bookings_one_active_per_case",
        "bookings",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
        sqlite_where=sa.text("status = 'booked'"),
    )


def downgrade() -> None:
    op.drop_index("uq_bookings_one_active_per_case", table_name="bookings")
