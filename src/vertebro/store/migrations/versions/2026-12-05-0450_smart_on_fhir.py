"""SMART on FHIR (decision 0030): clients and apps, codes, access tokens, used assertion ids, EHR launches.

* ``smart_clients``: registered system clients (public JWKS, allowed scopes, role) and apps (redirect URIs).
* ``smart_authorization_codes``: codes given to apps that a member of staff authorized (SHA-256 only).
* ``smart_access_tokens``: issued access tokens (SHA-256 only), with scope and expiry.
* ``smart_assertion_ids``: the ``jti`` of client assertions already used, until they expire.
* ``smart_launches``: an EHR launch of vertebro, from the redirect to the EHR to the chart it opens.

Revision ID: 7a0d1e2f0450
Revises: 7a0d1e2f0500
Create Date: 2026-12-05 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0450"
down_revision: str | Sequence[str] | None = "7a0d1e2f0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the five SMART tables."""
    op.create_table(
        "smart_clients",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("jwks", JSON_DOCUMENT, nullable=True),
        sa.Column("redirect_uris", JSON_DOCUMENT, nullable=True),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        _time("created_at"),
        sa.CheckConstraint(
            "role IN ('coordinator', 'nurse', 'radiologist', 'service_lead', 'admin')",
            name=op.f("ck_smart_clients_role_known"),
        ),
        sa.CheckConstraint("kind IN ('system', 'app')", name=op.f("ck_smart_clients_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_smart_clients_client_id")),
    )
    op.create_table(
        "smart_access_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        _time("issued_at"),
        _time("expires_at"),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["smart_clients.client_id"], name=op.f("fk_smart_access_tokens_client_id_smart_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_access_tokens")),
    )
    op.create_index(op.f("ix_smart_access_tokens_client_id"), "smart_access_tokens", ["client_id"], unique=False)
    op.create_index(op.f("ix_smart_access_tokens_expires_at"), "smart_access_tokens", ["expires_at"], unique=False)
    op.create_table(
        "smart_authorization_codes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=1000), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        _time("expires_at"),
        _time("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["smart_clients.client_id"], name=op.f("fk_smart_authorization_codes_client_id_smart_clients")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_smart_authorization_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_authorization_codes")),
    )
    op.create_index(
        op.f("ix_smart_authorization_codes_client_id"), "smart_authorization_codes", ["client_id"], unique=False
    )
    op.create_table(
        "smart_assertion_ids",
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_smart_assertion_ids")),
    )
    op.create_index(op.f("ix_smart_assertion_ids_expires_at"), "smart_assertion_ids", ["expires_at"], unique=False)
    op.create_table(
        "smart_launches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("token_endpoint", sa.String(length=500), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=True),
        _time("created_at"),
        _time("expires_at"),
        sa.Column("open_id", sa.String(length=64), nullable=True),
        sa.Column("ehr_patient", sa.String(length=128), nullable=True),
        sa.Column("identifier_system", sa.String(length=255), nullable=True),
        sa.Column("identifier_value", sa.String(length=255), nullable=True),
        _time("opened_at", nullable=True),
        sa.Column("opened_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smart_launches")),
        sa.UniqueConstraint("open_id", name=op.f("uq_smart_launches_open_id")),
    )
    op.create_index(op.f("ix_smart_launches_expires_at"), "smart_launches", ["expires_at"], unique=False)

def downgrade() -> None:
    """Drop the five SMART tables."""
    op.drop_index(op.f("ix_smart_launches_expires_at"), table_name="smart_launches")
    op.drop_table("smart_launches")
    op.drop_index(op.f("ix_smart_assertion_ids_expires_at"), table_name="smart_assertion_ids")
    op.drop_table("smart_assertion_ids")
    op.drop_index(op.f("ix_smart_authorization_codes_client_id"), table_name="smart_authorization_codes")
    op.drop_table("smart_authorization_codes")
    op.drop_index(op.f("ix_smart_access_tokens_expires_at"), table_name="smart_access_tokens")
    op.drop_index(op.f("ix_smart_access_tokens_client_id"), table_name="smart_access_tokens")
    op.drop_table("smart_access_tokens")
    op.drop_table("smart_clients")
