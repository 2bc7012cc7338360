"""Dose figures of signed procedures per operator (SQLite and PostgreSQL), and the ``vertebro dicom`` commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.integration.store.test_care import DOSE, NOW, in_procedure, sign
from vertebro.cli import app
from vertebro.registry.service import dose_tables
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork


def test_only_signed_records_count_per_operator(session_factory: sessionmaker[Session]) -> None:
    today = (NOW - dt.timedelta(hours=4)).astimezone().date()  # the day sign() starts the procedure
    signed = in_procedure(session_factory, "DF-1", today)
    drafted = in_procedure(session_factory, "DF-2", today)
    with UnitOfWork(session_factory) as uow:
        sign(uow, signed)
        sign(uow, drafted, sign=False)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        (table,) = dose_tables(uow)
    assert (table.technique, table.guidance, table.procedures) == ("vertebroplasty", "fluoroscopy", 1)
    rows = {(row.dimension, row.group): {f.quantity: f for f in row.figures} for row in table.rows}
    assert set(rows) == {("service", "all"), ("operator", "dr.rad"), ("levels", "1 level")}
    dap = rows[("operator", "dr.rad")]["dap_gy_cm2"]
    assert (dap.procedures, dap.median) == (1, DOSE.dap_gy_cm2)
    assert rows[("service", "all")]["air_kerma_mgy"].procedures == 0  # not recorded: not counted


def test_serve_refuses_to_start_without_peers_and_doses_prints_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("VERTEBRO_DATABASE_URL", url)
    monkeypatch.delenv("VERTEBRO_DICOM_PEERS", raising=False)
    runner = CliRunner()
    refused = runner.invoke(app, ["dicom", "serve", "--port", "0"])
    assert refused.exit_code == 2
    assert "VERTEBRO_DICOM_PEERS" in refused.output
    doses = runner.invoke(app, ["dicom", "doses"])
    assert doses.exit_code == 0, doses.output
    assert "no signed procedure record: no dose figures" in doses.output
    refused = runner.invoke(app, ["dicom", "doses", "--technique", "cementoplasty"])
    assert refused.exit_code == 2
    assert "technique: expected vertebroplasty or kyphoplasty" in refused.output
