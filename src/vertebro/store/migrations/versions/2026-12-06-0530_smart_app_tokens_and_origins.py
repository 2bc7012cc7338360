"""SMART apps: which app a token belongs to, and the web origins an app runs on (decision 0039).

* ``web_sessions.smart_client_id``: the app whose access token the session is (None: a member of staff's own
  session or API token), so that revoking the app ends every token it was given.
* ``smart_clients.allowed_origins``: the web origins (``scheme://host[:port]``) a browser-based app runs on, the
  only origins that get CORS headers on /fhir and the token endpoint. Apps registered before this revision get
  the origins of their redirect URIs, as new registrations do when no origin is given.

All nullable. On SQLite the columns are added and dropped with ALTER TABLE (no batch rebuild).

Revision ID: 7a0d1e2f0530
Revises: 7a0d1e2f0490
Create Date: 2026-12-06 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0530"
down_revision: str | Sequence[str] | None = "7a0d1e2f0520"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(uri: str) -> str:
    """The origin of a redirect URI (this revision's own copy: migrations do not import the app)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = parts.port
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS.get(parts.scheme) else "")


def upgrade() -> None:
    """Add the two columns; give registered apps the origins of their redirect URIs."""
    op.add_column("web_sessions", sa.Column("smart_client_id", sa.String(length=128), nullable=True))
    op.create_index(op.f("ix_web_sessions_smart_client_id"), "web_sessions", ["smart_client_id"], unique=False)
    op.add_column("smart_clients", sa.Column("allowed_origins", JSON_DOCUMENT, nullable=True))
    clients = sa.table(
        "smart_clients",
        sa.column("id", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("redirect_uris", JSON_DOCUMENT),
        sa.column("allowed_origins", JSON_DOCUMENT),
    )
    connection = op.get_bind()
    apps = connection.execute(sa.select(clients.c.id, clients.c.redirect_uris).where(clients.c.kind == "app")).all()
    for row in apps:
        origins = sorted({_origin(uri) for uri in row.redirect_uris or []})
        connection.execute(sa.update(clients).where(clients.c.id == row.id).values(allowed_origins=origins))


def downgrade() -> None:
    """Drop the two columns."""
    op.drop_column("smart_clients", "allowed_origins")
    op.drop_index(op.f("ix_web_sessions_smart_client_id"), table_name="web_sessions")
    op.drop_column("web_sessions", "smart_client_id")
