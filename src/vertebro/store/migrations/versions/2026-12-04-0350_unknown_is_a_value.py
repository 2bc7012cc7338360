"""Unknown is a value: the old defaults in stored case facts become "not recorded".

Before this revision ``patient.hospitalized`` defaulted to ``false`` and ``medications`` / ``allergies``
to ``[]``, and the stored facts are the full validated case (every default written out), so a stored
``false`` or ``[]`` cannot be told apart from an explicit "no" / "reviewed: none". Read as defaults they
would say "outpatient" and "takes no medicines, no allergies" for patients nobody asked: they become not
recorded (null), and staff record them again before the case can be booked (decision 0015). A recorded
``true`` or a non-empty list is kept as it is.

Revision ID: 7a0d1e2f0350
Revises: 7a0d1e2f0340
Create Date: 2026-12-04 23:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "7a0d1e2f0350"
down_revision: str | Sequence[str] | None = "7a0d1e2f0360"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_cases = sa.table(
    "cases",
    sa.column("id", sa.BigInteger()),
    sa.column("facts", sa.JSON().with_variant(JSONB(), "postgresql")),
)


def defaults_to_not_recorded(facts: dict[str, Any]) -> dict[str, Any]:
    """Return the facts with the old defaults (hospitalized false, empty medication and allergy lists) as null."""
    new = dict(facts)
    patient = dict(new.get("patient") or {})
    if patient.get("hospitalized") is False:
        patient["hospitalized"] = None
        new["patient"] = patient
    for key in ("medications", "allergies"):
        if new.get(key) == []:
            new[key] = None
    return new


def not_recorded_to_defaults(facts: dict[str, Any]) -> dict[str, Any]:
    """Return the facts as the previous schema reads them: defaults back, coded allergies as their words."""
    new = dict(facts)
    patient = dict(new.get("patient") or {})
    if patient.get("hospitalized") is None:
        patient["hospitalized"] = False
        new["patient"] = patient
    for key in ("medications", "allergies"):
        if new.get(key) is None:
            new[key] = []
    new["allergies"] = [
        a if isinstance(a, str) else str(a.get("text") or f"{a.get('system')}|{a.get('code')}")[:100]
        for a in new["allergies"]
    ]
    return new


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any]], batch: int = 1000) -> None:
    """Rewrite every case's facts in batches of ``batch`` rows (by id), on SQLite and PostgreSQL alike."""
    connection = op.get_bind()
    last = -1
    while True:
        query = sa.select(_cases.c.id, _cases.c.facts).where(_cases.c.id > last).order_by(_cases.c.id).limit(batch)
        rows = connection.execute(query).all()
        if not rows:
            return
        for case_id, facts in rows:
            last = case_id
            if not isinstance(facts, dict):
                continue
            new = change(facts)
            if new != facts:
                connection.execute(sa.update(_cases).where(_cases.c.id == case_id).values(facts=new))


def upgrade() -> None:
    _rewrite(defaults_to_not_recorded)


def downgrade() -> None:
    _rewrite(not_recorded_to_defaults)
