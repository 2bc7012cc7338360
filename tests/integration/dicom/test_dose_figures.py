"""Dose figures of signed procedures per operator (SQLite and PostgreSQL), and the ``vertebro dicom`` commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.integration.store.test_care import DOSE, NOW, in_procedure, sign
from vertebro.cli import app
from vertebro.clinical.dose import dose_figures
from vertebro.dicom.repository import DicomRepository
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
        rows = DicomRepository(uow.session).signed_doses("vertebroplasty")
    assert rows == [("dr.rad", DOSE.dap_gy_cm2, None, DOSE.fluoroscopy_minutes)]
    figures = {f.group: f for f in dose_figures([(r[0], r[1]) for r in rows], "dap_gy_cm2")}
    assert (figures["dr.rad"].procedures, figures["dr.rad"].median) == (1, DOSE.dap_gy_cm2)


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
    assert "vertebroplasty: 0 signed procedures" in doses.output
    assert "kerma-area product (Gy·cm²)\tall\t0\t-\t-" in doses.output
