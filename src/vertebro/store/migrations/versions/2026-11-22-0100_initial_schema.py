"""Initial schema: patients, cases, fractures, assessments and the append-only audit log.

The audit log is made append-only by the database itself: on PostgreSQL a trigger function
rejects UPDATE, DELETE and TRUNCATE; on SQLite BEFORE UPDATE / BEFORE DELETE triggers abort.
Both raise an integrity error with the message ``audit_log is append-only``.

Revision ID: ed5715abd7c9
Revises:
Create Date: 2026-11-22 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ed5715abd7c9"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)

PG_APPEND_ONLY = [
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit_log is append-only: ' || TG_OP || ' is not allowed',
            ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
]
PG_DROP_APPEND_ONLY = [
    "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
]
SQLITE_APPEND_ONLY = [
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
]
SQLITE_DROP_APPEND_ONLY = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
]


def upgrade() -> None:
    """Create the tables, their indexes and the audit log's append-only triggers."""
    op.create_table(
        "patients",
        sa.Column("id", ID, nullable=False),
        sa.Column("identifier", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("identifier", name=op.f("uq_patients_identifier")),
    )
    op.create_table(
        "cases",
        sa.Column("id", ID, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("facts", JSON_DOCUMENT, nullable=False),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_cases_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_patient_id"), "cases", ["patient_id"])
    op.create_table(
        "fractures",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=3), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("onset_weeks", sa.Double(), nullable=True),
        sa.Column("mri_edema", sa.Boolean(), nullable=True),
        sa.Column("bone_scan_uptake", sa.Boolean(), nullable=True),
        sa.Column("height_loss_percent", sa.Double(), nullable=True),
        sa.Column("genant_grade", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "genant_grade BETWEEN 0 AND 3",
            name=op.f("ck_fractures_genant_grade_range"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_fractures_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fractures")),
        sa.UniqueConstraint(
            "case_id", "level", name=op.f("uq_fractures_case_id_level")
        ),
    )
    op.create_table(
        "assessments",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=64), nullable=False),
        sa.Column("default_profile", sa.String(length=32), nullable=False),
        sa.Column("default_category", sa.String(length=32), nullable=False),
        sa.Column("treatment", sa.String(length=64), nullable=False),
        sa.Column("result", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_assessments_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index(
        "ix_assessments_case_id_created_at", "assessments", ["case_id", "created_at"]
    )
    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", JSON_DOCUMENT, nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "length(actor) > 0", name=op.f("ck_audit_log_actor_not_empty")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"])
    op.create_index(op.f("ix_audit_log_patient_id"), "audit_log", ["patient_id"])
    for statement in _append_only_statements(drop=False):
        op.execute(statement)


def downgrade() -> None:
    """Drop the append-only triggers and every table."""
    for statement in _append_only_statements(drop=True):
        op.execute(statement)
    op.drop_index(op.f("ix_audit_log_patient_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_occurred_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_assessments_case_id_created_at", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("fractures")
    op.drop_index(op.f("ix_cases_patient_id"), table_name="cases")
    op.drop_table("cases")
    op.drop_table("patients")


def _append_only_statements(*, drop: bool) -> list[str]:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        return PG_DROP_APPEND_ONLY if drop else PG_APPEND_ONLY
    if dialect == "sqlite":
        return SQLITE_DROP_APPEND_ONLY if drop else SQLITE_APPEND_ONLY
    raise NotImplementedError(f"no append-only audit triggers for dialect {dialect!r}")
