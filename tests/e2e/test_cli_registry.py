"""End-to-end: ``vertebro registry export`` as a researcher's data manager runs it."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.e2e.test_cli import run
from tests.integration.registry.conftest import Treated, add_treated
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

pytestmark = pytest.mark.e2e
SALT = "cli-test-salt-0123456789"


def _database(tmp_path: Path) -> dict[str, str]:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}", "VERTEBRO_REGISTRY_SALT": SALT}
    assert run("db", "upgrade", env=env).returncode == 0
    engine = make_engine(env["VERTEBRO_DATABASE_URL"])
    with UnitOfWork(make_session_factory(engine)) as uow:
        for i in range(3):
            add_treated(uow.session, Treated(f"CLI-{i}", name=f"Cli Person {i}", follow_ups={"2w": (3, 30.0, 8)}))
        uow.commit()
    engine.dispose()
    return env


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_deidentified_files(tmp_path: Path, fmt: str) -> None:
    env = _database(tmp_path)
    result = run("registry", "export", str(tmp_path / "out"), "--format", fmt, "--deidentified", env=env)
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 de-identified procedures" in result.stderr
    if fmt == "csv":
        with (tmp_path / "out" / "procedures.csv").open() as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = pq.read_table(tmp_path / "out" / "procedures.parquet").to_pylist()
    assert len(rows) == 3
    assert all(str(r["patient"]).startswith("P") for r in rows)
    content = b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    assert b"Cli Person" not in content
    assert b"CLI-" not in content


def test_export_refuses_without_the_flag_or_the_salt(tmp_path: Path) -> None:
    env = _database(tmp_path)
    refused = run("registry", "export", str(tmp_path / "out"), env=env)
    assert refused.returncode == 2
    assert "--deidentified is required" in refused.stderr
    no_salt = run(
        "registry", "export", str(tmp_path / "out"), "--deidentified", env={**env, "VERTEBRO_REGISTRY_SALT": ""}
    )
    assert no_salt.returncode == 2
    assert "VERTEBRO_REGISTRY_SALT is not set" in no_salt.stderr
    assert not (tmp_path / "out").exists()


def test_rebuild_builds_the_registry(tmp_path: Path) -> None:
    env = _database(tmp_path)
    result = run("registry", "rebuild", env=env)
    assert result.returncode == 0, result.stderr
    assert "Rebuilt the registry: 3 treated cases" in result.stderr
