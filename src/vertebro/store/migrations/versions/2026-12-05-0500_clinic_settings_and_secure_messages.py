"""The clinic's contact details edited by the admin (``clinic_settings``, one row) and secure messages between
patients and the team (``message_threads``, ``thread_messages``): three new, empty tables (decision 0035).

No existing row changes. The downgrade drops the three tables.

Revision ID: 7a0d1e2f0500
Revises: 7a0d1e2f0410
Create Date: 2026-12-05 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0500"
down_revision: str | Sequence[str] | None = "7a0d1e2f0410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the clinic settings, the message threads and their messages."""
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("opening_hours", sa.String(length=200), nullable=False),
        sa.Column("out_of_hours", sa.String(length=200), nullable=True),
        sa.Column("directions", sa.String(length=1000), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_clinic_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_settings")),
    )
    op.create_table(
        "message_threads",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("assignee_user", sa.String(length=64), nullable=True),
        sa.Column("assignee_role", sa.String(length=32), nullable=True),
        sa.Column("staff_unread", sa.Boolean(), nullable=False),
        sa.Column("patient_unread", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_message_threads_status_known")),
        sa.CheckConstraint(
            "assignee_user IS NULL OR assignee_role IS NULL", name=op.f("ck_message_threads_one_assignee")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_message_threads_case_id_cases")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_message_threads_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_threads")),
    )
    op.create_index("ix_message_threads_inbox", "message_threads", ["status", "last_message_at"], unique=False)
    op.create_index(op.f("ix_message_threads_patient_id"), "message_threads", ["patient_id"], unique=False)
    op.create_table(
        "thread_messages",
        sa.Column("id", BIGINT_PK, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("author_kind", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=4000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "author_kind IN ('patient', 'staff')", name=op.f("ck_thread_messages_author_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["message_threads.id"], name=op.f("fk_thread_messages_thread_id_message_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_messages")),
    )
    op.create_index(op.f("ix_thread_messages_thread_id"), "thread_messages", ["thread_id"], unique=False)


def downgrade() -> None:
    """Drop the messages, the threads and the clinic settings."""
    op.drop_index(op.f("ix_thread_messages_thread_id"), table_name="thread_messages")
    op.drop_table("thread_messages")
    op.drop_index(op.f("ix_message_threads_patient_id"), table_name="message_threads")
    op.drop_index("ix_message_threads_inbox", table_name="message_threads")
    op.drop_table("message_threads")
    op.drop_table("clinic_settings")
