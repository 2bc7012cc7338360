"""The procedure room over DICOM: performed procedure steps and radiation dose reports (decision 0023).

* ``modality_steps``: each Modality Performed Procedure Step a modality reported (status, times, dose).
* ``dose_reports``: each Radiation Dose Structured Report stored, with its accumulated values.

New tables only: existing rows are untouched on SQLite and PostgreSQL.

Revision ID: 7a0d1e2f0390
Revises: 7a0d1e2f0350
Create Date: 2026-12-05 00:55:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0390"
down_revision: str | Sequence[str] | None = "7a0d1e2f0380"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOSE_COLUMNS = ("fluoroscopy_minutes", "dap_gy_cm2", "air_kerma_mgy", "ctdivol_mgy", "dlp_mgy_cm")


def _dose_columns() -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Double(), nullable=True) for name in DOSE_COLUMNS]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "modality_steps",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("calling_ae", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        *_dose_columns(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('IN PROGRESS', 'COMPLETED', 'DISCONTINUED')", name=op.f("ck_modality_steps_status_known")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_modality_steps_case_id_cases")),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_modality_steps_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modality_steps")),
        sa.UniqueConstraint("sop_instance_uid", name=op.f("uq_modality_steps_sop_instance_uid")),
    )
    op.create_index(op.f("ix_modality_steps_case_id"), "modality_steps", ["case_id"], unique=False)
    op.create_table(
        "dose_reports",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("sop_class_uid", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.Column("calling_ae", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        *_dose_columns(),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_dose_reports_case_id_cases")),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"], name=op.f("fk_dose_reports_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_reports")),
        sa.UniqueConstraint("sop_instance_uid", name=op.f("uq_dose_reports_sop_instance_uid")),
    )
    op.create_index(op.f("ix_dose_reports_case_id"), "dose_reports", ["case_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_dose_reports_case_id"), table_name="dose_reports")
    op.drop_table("dose_reports")
    op.drop_index(op.f("ix_modality_steps_case_id"), table_name="modality_steps")
    op.drop_table("modality_steps")
