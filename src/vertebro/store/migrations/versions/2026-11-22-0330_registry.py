"""The outcomes registry: technique and the verdict at the decision, the derived registry entries.

* ``procedures.technique`` (vertebroplasty or kyphoplasty): existing records take the treatment of the
  case's latest assessment when it is kyphoplasty, vertebroplasty otherwise.
* ``case_workflows.decision_category``: the default profile's verdict when the decision was taken;
  existing decided cases take the category of their latest assessment.
* ``registry_entries``: one derived row per treated case (see ``vertebro.registry.repository``);
  ``registry_stale`` queues the cases whose entry must be rebuilt. Triggers on every source table
  queue the case; every existing treated case is queued here, so the first read builds the registry.
* ``registry_cells``: the entries summed by procedure month and cohort dimensions (the dashboard's
  materialised aggregate, maintained with the entries).
* Indexes for the dashboard at a million procedures, incl. partial indexes of unanswered follow-ups.

Revision ID: 7a0d1e2f0330
Revises: 7a0d1e2f0320
Create Date: 2026-11-22 03:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a0d1e2f0330"
down_revision: str | Sequence[str] | None = "7a0d1e2f0320"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the case id of a row as SQL over the row alias R, the columns whose update matters or None for all)
SOURCES = (
    ("cases", "R.id", "facts, created_at, patient_id"),
    ("fractures", "R.case_id", None),
    ("case_workflows", "R.case_id", "decision_category"),
    ("procedures", "R.case_id", None),
    ("procedure_levels", "(SELECT case_id FROM procedures WHERE id = R.procedure_id)", None),
    ("follow_ups", "R.case_id", None),
    ("complications", "R.case_id", None),
)
INSERTS_TOO = {"fractures", "procedures", "procedure_levels", "follow_ups", "complications"}


def _pg_up() -> list[str]:
    branches = []
    for table, case_id, _ in SOURCES:
        value = case_id.replace("R.", "r.")
        branches.append(
            f"IF TG_TABLE_NAME = '{table}' THEN\n"
            f"  INSERT INTO registry_stale (case_id) SELECT {value} WHERE {value} IS NOT NULL\n"
            "  ON CONFLICT (case_id) DO UPDATE SET case_id = EXCLUDED.case_id;\n"
            "END IF;"
        )
    body = "\n".join(branches)
    statements = [
        f"""
        CREATE FUNCTION registry_queue_case() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE r record;
        BEGIN
            IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
            {body}
            RETURN NULL;
        END
        $$
        """
    ]
    for table, _, columns in SOURCES:
        events = []
        if table in INSERTS_TOO:
            events += ["INSERT", "DELETE"]
        events.append(f"UPDATE OF {columns}" if columns else "UPDATE")
        statements.append(
            f"CREATE TRIGGER registry_queue_{table} AFTER {' OR '.join(events)} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION registry_queue_case()"
        )
    return statements


def _pg_down() -> list[str]:
    drops = [f"DROP TRIGGER IF EXISTS registry_queue_{table} ON {table}" for table, _, _ in SOURCES]
    return [*drops, "DROP FUNCTION IF EXISTS registry_queue_case()"]


def _sqlite_triggers() -> list[tuple[str, str]]:
    triggers = []
    for table, case_id, columns in SOURCES:
        events = [("update", f"UPDATE OF {columns}" if columns else "UPDATE", "NEW")]
        if table in INSERTS_TOO:
            events += [("insert", "INSERT", "NEW"), ("delete", "DELETE", "OLD")]
        for suffix, event, row in events:
            name = f"registry_queue_{table}_{suffix}"
            value = case_id.replace("R.", f"{row}.")
            triggers.append(
                (
                    name,
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                    f"INSERT OR IGNORE INTO registry_stale (case_id) SELECT {value} WHERE {value} IS NOT NULL; END",
                )
            )
    return triggers


_MOMENTS = ("n", "s", "ss")
_VISITS = ("2w", "3m", "12m")
_MEASURES_3 = ("nrs", "odi", "rdq")
CELL_MEASURES = (
    "procedures",
    *[f"{m}_0_{k}" for m in _MEASURES_3 for k in _MOMENTS],
    *[f"{m}_{v}_{k}" for m in _MEASURES_3 for v in _VISITS for k in _MOMENTS],
    *[f"{m}_{v}_chg_{k}" for m in _MEASURES_3 for v in _VISITS for k in _MOMENTS],
    *[f"{m}_{v}_resp" for m in _MEASURES_3 for v in _VISITS],
    "nrs_2w_below4",
    "complicated",
    "serious",
    "embolism",
    "leak_symptomatic_cases",
    "levels",
    "leak_levels",
    "new_fracture_1y",
    "wait_n",
    "wait_s",
    "wait_ss",
    "wait_0_7",
    "wait_8_14",
    "wait_15_28",
    "wait_29_56",
    "wait_57_90",
    "wait_91_plus",
    *[f"{k}_{v}" for v in _VISITS for k in ("planned", "answered", "open")],
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("technique", sa.String(length=16), server_default="vertebroplasty", nullable=False)
        )
        batch_op.create_check_constraint("technique_known", "technique IN ('vertebroplasty', 'kyphoplasty')")
    op.execute(
        sa.text(
            "UPDATE procedures SET technique = 'kyphoplasty' WHERE case_id IN "
            "(SELECT case_id FROM case_workflows WHERE treatment = 'kyphoplasty')"
        )
    )
    with op.batch_alter_table("case_workflows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_category", sa.String(length=32), nullable=True))
    op.execute(
        sa.text("UPDATE case_workflows SET decision_category = default_category WHERE decision IS NOT NULL")
    )

    op.create_table(
        "registry_entries",
        sa.Column("case_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("procedure_on", sa.Date(), nullable=False),
        sa.Column("wait_days", sa.Integer(), nullable=False),
        sa.Column("cause_group", sa.String(length=16), nullable=False),
        sa.Column("fracture_age_weeks", sa.Double(), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=False),
        sa.Column("levels", sa.SmallInteger(), nullable=False),
        sa.Column("technique", sa.String(length=16), nullable=False),
        sa.Column("operator", sa.String(length=128), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=True),
        sa.Column("leak_levels", sa.SmallInteger(), nullable=False),
        sa.Column("leak_symptomatic", sa.SmallInteger(), nullable=False),
        sa.Column("complications", sa.Integer(), nullable=False),
        sa.Column("serious_complications", sa.Integer(), nullable=False),
        sa.Column("embolism", sa.SmallInteger(), nullable=False),
        sa.Column("new_fracture_1y", sa.SmallInteger(), nullable=False),
        sa.Column("nrs_0", sa.SmallInteger(), nullable=True),
        sa.Column("odi_0", sa.Double(), nullable=True),
        sa.Column("rdq_0", sa.SmallInteger(), nullable=True),
        *[
            column
            for visit in ("2w", "3m", "12m")
            for column in (
                sa.Column(f"due_from_{visit}", sa.Date(), nullable=True),
                sa.Column(f"due_until_{visit}", sa.Date(), nullable=True),
                sa.Column(f"done_on_{visit}", sa.Date(), nullable=True),
                sa.Column(f"nrs_{visit}", sa.SmallInteger(), nullable=True),
                sa.Column(f"odi_{visit}", sa.Double(), nullable=True),
                sa.Column(f"rdq_{visit}", sa.SmallInteger(), nullable=True),
            )
        ],
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_registry_entries")),
    )
    with op.batch_alter_table("registry_entries", schema=None) as batch_op:
        batch_op.create_index("ix_registry_entries_procedure_on", ["procedure_on"], unique=False)
        batch_op.create_index(
            "ix_registry_entries_operator_procedure_on", ["operator", "procedure_on"], unique=False
        )
        batch_op.create_index(
            "ix_registry_entries_cohort", ["cause_group", "age_band", "technique", "procedure_on"], unique=False
        )
        batch_op.create_index("ix_registry_entries_patient_id", ["patient_id"], unique=False)
        for visit in ("2w", "3m", "12m"):
            batch_op.create_index(
                f"ix_registry_entries_open_{visit}",
                [f"due_until_{visit}"],
                unique=False,
                postgresql_where=sa.text(f"done_on_{visit} IS NULL"),
                sqlite_where=sa.text(f"done_on_{visit} IS NULL"),
            )
    op.create_table(
        "registry_stale",
        sa.Column("case_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_registry_stale")),
    )
    for table, by_operator in (("registry_cells", True), ("registry_month_cells", False)):
        dimensions = ["month", "cause_group", "age_band", "levels_band", "technique", "operator", "verdict"]
        if not by_operator:
            dimensions.remove("operator")
        op.create_table(
            table,
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("cause_group", sa.String(length=16), nullable=False),
            sa.Column("age_band", sa.String(length=16), nullable=False),
            sa.Column("levels_band", sa.SmallInteger(), nullable=False),
            sa.Column("technique", sa.String(length=16), nullable=False),
            *([sa.Column("operator", sa.String(length=128), nullable=False)] if by_operator else []),
            sa.Column("verdict", sa.String(length=32), nullable=False),
            *[sa.Column(name, sa.Double(), nullable=False) for name in CELL_MEASURES],
            sa.Column("settles_on", sa.Date(), nullable=True),
            sa.PrimaryKeyConstraint(*dimensions, name=op.f(f"pk_{table}")),
        )
    op.execute(sa.text("INSERT INTO registry_stale (case_id) SELECT case_id FROM procedures"))
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_up():
            op.execute(sa.text(statement))
    else:
        for _, statement in _sqlite_triggers():
            op.execute(sa.text(statement))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in _pg_down():
            op.execute(sa.text(statement))
    else:
        for name, _ in _sqlite_triggers():
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    op.drop_table("registry_month_cells")
    op.drop_table("registry_cells")
    op.drop_table("registry_stale")
    with op.batch_alter_table("registry_entries", schema=None) as batch_op:
        for visit in ("2w", "3m", "12m"):
            batch_op.drop_index(f"ix_registry_entries_open_{visit}")
        batch_op.drop_index("ix_registry_entries_patient_id")
        batch_op.drop_index("ix_registry_entries_cohort")
        batch_op.drop_index("ix_registry_entries_operator_procedure_on")
        batch_op.drop_index("ix_registry_entries_procedure_on")
    op.drop_table("registry_entries")
    with op.batch_alter_table("case_workflows", schema=None) as batch_op:
        batch_op.drop_column("decision_category")
    with op.batch_alter_table("procedures", schema=None) as batch_op:
        batch_op.drop_constraint("technique_known", type_="check")
        batch_op.drop_column("technique")
