"""SMART clients: when a client or app was revoked, and by whom, for the admin page (decision 0039).

* ``smart_clients.revoked_at`` and ``smart_clients.revoked_by``: the first revocation (the audit trail keeps every
  one). Clients revoked before this revision get them from their first ``smart_client_revoked`` audit entry; a
  revoked client without one keeps both empty (the page then says only "Revoked").

Both nullable. On SQLite the columns are added and dropped with ALTER TABLE (no batch rebuild).

Revision ID: 7a0d1e2f0550
Revises: 7a0d1e2f0540
Create Date: 2026-12-06 04:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0550"
down_revision: str | Sequence[str] | None = "7a0d1e2f0540"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns; fill them for clients already revoked from the audit trail."""
    op.add_column("smart_clients", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("smart_clients", sa.Column("revoked_by", sa.String(length=128), nullable=True))
    clients = sa.table(
        "smart_clients",
        sa.column("id", sa.BigInteger()),
        sa.column("active", sa.Boolean()),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
        sa.column("revoked_by", sa.String()),
    )
    audit = sa.table(
        "audit_log",
        sa.column("occurred_at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity_type", sa.String()),
        sa.column("entity_id", sa.String()),
    )
    connection = op.get_bind()
    revoked = connection.execute(sa.select(clients.c.id).where(clients.c.active.is_(False))).scalars().all()
    for client_id in revoked:
        first = connection.execute(
            sa.select(audit.c.occurred_at, audit.c.actor)
            .where(
                audit.c.action == "smart_client_revoked",
                audit.c.entity_type == "smart_client",
                audit.c.entity_id == str(client_id),
            )
            .order_by(audit.c.occurred_at)
            .limit(1)
        ).first()
        if first is not None:
            connection.execute(
                sa.update(clients)
                .where(clients.c.id == client_id)
                .values(revoked_at=first.occurred_at, revoked_by=first.actor)
            )


def downgrade() -> None:
    """Drop the two columns."""
    op.drop_column("smart_clients", "revoked_by")
    op.drop_column("smart_clients", "revoked_at")
