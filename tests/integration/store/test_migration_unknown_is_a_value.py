"""Migration 0350 on SQLite and PostgreSQL: old default facts become "not recorded", recorded facts stay."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from vertebro.clinical import Case
from vertebro.store import migrate
from vertebro.store.db import make_engine

BEFORE = "7a0d1e2f0340"
REVISION = "7a0d1e2f0350"


def _old_facts(**changes: Any) -> dict[str, Any]:
    """A case as the previous schema stored it: every default written out."""
    facts: dict[str, Any] = {
        "patient": {"identifier": "M-1", "age": 74, "sex": "female", "pregnant": None, "hospitalized": False},
        "fractures": [{"level": "L1", "cause": "osteoporotic", "mri_edema": True}],
        "pain": {"nrs": 8},
        "red_flags": {"active_infection": False, "fever": None, "cancer_history": None},
        "allergies": [],
        "medications": [],
    }
    facts.update(changes)
    return facts


def _insert(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for index, facts in enumerate(rows, start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO patients (id, identifier, sex, created_at, version) VALUES (:id, :ident, 'female', :now, 1)"
                ),
                {"id": index, "ident": f"M-{index}", "now": now},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO cases (id, patient_id, facts, created_at, version) VALUES (:id, :id, :facts, :now, 1)"
                ).bindparams(sa.bindparam("facts", type_=sa.JSON())),
                {"id": index, "facts": facts, "now": now},
            )


def _facts(engine: sa.Engine) -> dict[int, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, facts FROM cases ORDER BY id")).all()
    return {row[0]: row[1] if isinstance(row[1], dict) else json.loads(row[1]) for row in rows}


def test_old_defaults_become_not_recorded_and_recorded_values_stay(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, BEFORE)
    engine = make_engine(empty_db_url, poolclass=NullPool)
    try:
        _insert(
            engine,
            [
                _old_facts(),  # every default
                _old_facts(
                    patient={"identifier": "M-2", "age": 80, "sex": "male", "hospitalized": True},
                    allergies=["latex"],
                    medications=[{"name": "apixaban"}],
                ),
            ],
        )
        migrate.upgrade(empty_db_url)
        assert migrate.current_revision(empty_db_url) == migrate.head_revision()
        facts = _facts(engine)
        assert facts[1]["patient"]["hospitalized"] is None
        assert facts[1]["medications"] is None
        assert facts[1]["allergies"] is None
        assert facts[1]["red_flags"]["active_infection"] is False  # an explicit "no" (never a default) stays
        assert facts[2]["patient"]["hospitalized"] is True
        assert facts[2]["allergies"] == ["latex"]
        assert facts[2]["medications"] == [{"name": "apixaban"}]
        case = Case.model_validate_json(json.dumps(facts[1]))
        assert case.patient.hospitalized is None
        assert case.medications is None
        assert case.allergies is None

        migrate.downgrade(empty_db_url, BEFORE)
        old = _facts(engine)
        assert old[1]["patient"]["hospitalized"] is False
        assert old[1]["medications"] == []
        assert old[1]["allergies"] == []
        assert old[2]["allergies"] == ["latex"]
    finally:
        engine.dispose()


def test_a_coded_allergy_is_turned_into_words_on_downgrade(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url, poolclass=NullPool)
    try:
        coded = {"code": "426722004", "system": "http://snomed.info/sct", "text": "X-ray dye"}
        _insert(engine, [_old_facts(allergies=[coded, "latex"])])
        migrate.downgrade(empty_db_url, BEFORE)
        assert _facts(engine)[1]["allergies"] == ["X-ray dye", "latex"]
    finally:
        engine.dispose()
