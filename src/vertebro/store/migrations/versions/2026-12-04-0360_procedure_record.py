"""The procedure record is the truth: drafts, radiation dose, a reason for a date change; discharge overrides.

* ``procedures``: ``start_recorded`` (False while a draft has no start time typed), fluoroscopy time and dose
  (``fluoroscopy_minutes``, ``dap_gy_cm2``, ``air_kerma_mgy``, ``ctdivol_mgy``, ``dlp_mgy_cm``) and
  ``date_change_reason``. Existing records had a start time: ``start_recorded`` is true for them.
* ``procedure_levels``: the cement product and volume may be empty in a draft; ``leaks`` lists every leak site
  (existing rows: their one ``leakage`` site, or an empty list).
* ``discharges``: ``override_reason``, ``override_by`` and ``overridden`` (the refusals set aside).
* A case in ``monitoring`` without a signed record (the old "Sign procedure" action allowed it) goes back to
  ``in_procedure``, where the radiologist can complete and sign the record; not reversed on downgrade.

On SQLite the ``procedure_levels`` table is rebuilt to relax the two columns, which drops its triggers: the
registry's queueing triggers of that table (revision 7a0d1e2f0330) are created again here. Nothing references
``procedure_levels``, so rebuilding it deletes nothing.

Revision ID: 7a0d1e2f0360
Revises: 7a0d1e2f0340
Create Date: 2026-12-04 23:50:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7a0d1e2f0360"
down_revision: str | Sequence[str] | None = "7a0d1e2f0370"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LEVEL_CASE = "(SELECT case_id FROM procedures WHERE id = {row}.procedure_id)"
# The registry's SQLite triggers on procedure_levels, as revision 7a0d1e2f0330 made them.
LEVEL_TRIGGERS = (("update", "UPDATE", "NEW"), ("insert", "INSERT", "NEW"), ("delete", "DELETE", "OLD"))


def _sqlite_level_triggers() -> None:
    for suffix, event, row in LEVEL_TRIGGERS:
        name = f"registry_queue_procedure_levels_{suffix}"
        value = LEVEL_CASE.format(row=row)
        op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
        op.execute(
            sa.text(
                f"CREATE TRIGGER {name} AFTER {event} ON procedure_levels BEGIN "
                f"INSERT OR IGNORE INTO registry_stale (case_id) SELECT {value} WHERE {value} IS NOT NULL; END"
            )
        )


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("procedures", sa.Column("start_recorded", sa.Boolean(), nullable=True))
    for name in ("fluoroscopy_minutes", "dap_gy_cm2", "air_kerma_mgy", "ctdivol_mgy", "dlp_mgy_cm"):
        op.add_column("procedures", sa.Column(name, sa.Double(), nullable=True))
    op.add_column("procedures", sa.Column("date_change_reason", sa.String(length=500), nullable=True))
    op.execute(sa.text("UPDATE procedures SET start_recorded = TRUE"))

    op.add_column("procedure_levels", sa.Column("leaks", JSON_DOCUMENT, nullable=True))
    with op.batch_alter_table("procedure_levels", schema=None) as batch_op:
        batch_op.alter_column("cement_product", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("cement_volume_ml", existing_type=sa.Double(), nullable=True)
    op.execute(sa.text("UPDATE procedure_levels SET leaks = '[]' WHERE leakage = 'none'"))
    op.execute(
        sa.text(
            "UPDATE procedure_levels SET leaks = "
            + ("jsonb_build_array(leakage)" if op.get_bind().dialect.name == "postgresql" else "json_array(leakage)")
            + " WHERE leakage <> 'none'"
        )
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_level_triggers()

    # A case the old "Sign procedure" action moved to monitoring without a signed record goes back to the room,
    # where its record can be completed and signed (monitoring or later only with a signed record).
    op.execute(
        sa.text(
            "UPDATE case_workflows SET state = 'in_procedure', version = version + 1 WHERE state = 'monitoring' "
            "AND NOT EXISTS (SELECT 1 FROM procedures p WHERE p.case_id = case_workflows.case_id "
            "AND p.signed_at IS NOT NULL)"
        )
    )

    op.add_column("discharges", sa.Column("override_reason", sa.String(length=2000), nullable=True))
    op.add_column("discharges", sa.Column("override_by", sa.String(length=128), nullable=True))
    op.add_column("discharges", sa.Column("overridden", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    """Revert this revision (draft levels without a product or volume are removed first)."""
    with op.batch_alter_table("discharges", schema=None) as batch_op:
        batch_op.drop_column("overridden")
        batch_op.drop_column("override_by")
        batch_op.drop_column("override_reason")
    op.execute(sa.text("DELETE FROM procedure_levels WHERE cement_product IS NULL OR cement_volume_ml IS NULL"))
    with op.batch_alter_table("procedure_levels", schema=None) as batch_op:
        batch_op.alter_column("cement_volume_ml", existing_type=sa.Double(), nullable=False)
        batch_op.alter_column("cement_product", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("leaks")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_level_triggers()
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): rebuilding ``procedures`` would cascade to its levels.
    for name in (
        "date_change_reason",
        "dlp_mgy_cm",
        "ctdivol_mgy",
        "air_kerma_mgy",
        "dap_gy_cm2",
        "fluoroscopy_minutes",
        "start_recorded",
    ):
        op.execute(sa.text(f"ALTER TABLE procedures DROP COLUMN {name}"))
