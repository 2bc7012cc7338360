"""Migration 7a0d1e2f0360 on existing rows (SQLite and PostgreSQL): a case stuck in monitoring without a signed
record goes back to the room, existing levels get their leak list, existing records their start time."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from vertebro.store import migrate
from vertebro.store.db import make_engine

REVISION = "7a0d1e2f0360"
AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _before() -> str:
    down = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _insert(connection: sa.Connection, table: str, key: str = "id", **values: object) -> int:
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    result = connection.execute(sa.insert(reflected).values(**values).returning(reflected.c[key]))
    return int(result.scalar_one())


def _case(connection: sa.Connection, identifier: str, state: str, *, signed: bool, leakage: str) -> int:
    patient = _insert(connection, "patients", identifier=identifier, sex="female", created_at=AT, version=1)
    facts = {"patient": {"identifier": identifier, "age": 80, "sex": "female"}, "fractures": [{"level": "L1"}]}
    facts["pain"] = {"nrs": 8}
    case = _insert(
        connection, "cases", patient_id=patient, facts=json.loads(json.dumps(facts)), created_at=AT, version=1
    )
    _insert(
        connection,
        "case_workflows",
        "case_id",
        case_id=case,
        state=state,
        checklist={},
        insurance_status="not_required",
        updated_at=AT,
        version=3,
    )
    procedure = _insert(
        connection,
        "procedures",
        case_id=case,
        operator="dr.old",
        technique="vertebroplasty",
        sedation=False,
        started_at=AT,
        complications=[],
        signed_by="dr.old" if signed else None,
        signed_at=AT if signed else None,
        version=1,
    )
    _insert(
        connection,
        "procedure_levels",
        procedure_id=procedure,
        level="L1",
        approach="bipedicular",
        guidance="fluoroscopy",
        contrast=False,
        cement_product="PMMA",
        cement_volume_ml=4.0,
        leakage=leakage,
        leakage_symptomatic=False,
    )
    return case


def test_existing_rows_are_migrated(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, _before())
    engine = make_engine(empty_db_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            stuck = _case(connection, "MIG-1", "monitoring", signed=False, leakage="venous")
            fine = _case(connection, "MIG-2", "monitoring", signed=True, leakage="none")
        migrate.upgrade(empty_db_url)
        with engine.connect() as connection:
            states = dict(connection.execute(sa.text("SELECT case_id, state FROM case_workflows")).all())
            versions = dict(connection.execute(sa.text("SELECT case_id, version FROM case_workflows")).all())
            leaks = {
                row.level + str(row.procedure_id): row.leaks
                for row in connection.execute(sa.text("SELECT procedure_id, level, leaks FROM procedure_levels"))
            }
            starts = {bool(v) for (v,) in connection.execute(sa.text("SELECT start_recorded FROM procedures"))}
    finally:
        engine.dispose()
    assert states == {stuck: "in_procedure", fine: "monitoring"}
    assert versions == {stuck: 4, fine: 3}
    parsed = sorted(json.loads(v) if isinstance(v, str) else v for v in leaks.values())
    assert parsed == [[], ["venous"]]
    assert starts == {True}
