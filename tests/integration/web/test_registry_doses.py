"""The registry's dose figures (issue 16): median and 75th percentile per operator, level count and guidance, the
service's local reference level, only signed records, no patient data; the same figures from the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.integration.registry.conftest import Treated, add_treated
from vertebro.cli import app
from vertebro.pathway.machine import Role
from vertebro.store import migrate
from vertebro.store.db import make_engine, make_session_factory


def _doses(session_factory: sessionmaker[Session]) -> None:
    """11 fluoroscopy vertebroplasties by dr.a (KAP 1..11 Gy·cm²), one two-level one by dr.b (KAP 100), a draft that
    must not count, and a CT-guided kyphoplasty."""
    with session_factory() as session:
        for i in range(1, 12):
            add_treated(
                session,
                Treated(
                    f"DOSE-{i}", name=f"Dose Patient {i}", dose={"dap_gy_cm2": float(i), "air_kerma_mgy": 10.0 * i}
                ),
            )
        add_treated(
            session,
            Treated(
                "DOSE-B",
                name="Bea Bravo",
                operator="dr.b",
                levels=(("L1", "none", False), ("L2", "none", False)),
                dose={"dap_gy_cm2": 100.0, "fluoroscopy_minutes": 12.0},
            ),
        )
        add_treated(session, Treated("DOSE-D", name="Dan Draft", signed=False, dose={"dap_gy_cm2": 9000.0}))
        add_treated(
            session,
            Treated(
                "DOSE-CT",
                name="Cy Ct",
                technique="kyphoplasty",
                guidance=("ct",),
                dose={"ctdivol_mgy": 12.5, "dlp_mgy_cm": 400.0},
            ),
        )
        session.commit()


def _section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="h-dose" id="doses">(.*?)</section>', page, re.S)
    assert match, "the dose section is missing"
    return match.group(1)


def test_the_dose_section_gives_local_reference_levels_from_signed_records(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _doses(session_factory)
    lead = signed_in(Role.SERVICE_LEAD)
    page = lead.get("/registry")
    assert page.status_code == 200, page.text[:500]
    section = _section(page.text)
    assert "Vertebroplasty under fluoroscopy: 12 signed procedures" in section  # the draft is not counted
    fluoroscopy = section.split("Kyphoplasty under CT")[0]
    rows = dict(re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', fluoroscopy))
    service = rows["Service (local reference level)"]
    # KAP 1..11 and 100: median 6.5, 75th percentile 9.25 (linear interpolation); Ka,r 10..110 from 11 of them
    assert "n = 12; median 6.5; 75th percentile 9.25" in service
    assert "n = 11; median 60; 75th percentile 85" in service
    assert "n = 1; median 12; 75th percentile not set (fewer than 10)" in service  # fluoroscopy time
    assert "n = 11; median 6; 75th percentile 8.5" in rows["Operator dr.a"]
    assert "n = 1; median 100; 75th percentile not set" in rows["Operator dr.b"]
    assert "n = 11; median 6; 75th percentile 8.5" in rows["1 level"]
    assert "n = 1; median 100;" in rows["2 levels"]
    assert "9000" not in section
    assert "9e+03" not in section
    assert "Kyphoplasty under CT: 1 signed procedure<" in section
    assert "CTDIvol (mGy): n, median, 75th percentile" in section
    assert "n = 1; median 12.5;" in section
    assert "n = 1; median 400;" in section
    for name in ("DOSE-", "Dose Patient", "Bea Bravo", "Cy Ct", "/patients/"):
        assert name not in section  # aggregates only: no patient appears in the dose figures


def test_the_dose_section_follows_the_roles_of_the_registry(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _doses(session_factory)
    assert "n = 12; median 6.5; 75th percentile 9.25" in _section(signed_in(Role.ADMIN).get("/registry").text)
    assert signed_in(Role.RADIOLOGIST).get("/registry").status_code == 403


def test_no_signed_record_says_so(signed_in: Callable[[Role], TestClient]) -> None:
    assert "No signed procedure record yet: no dose figures." in _section(signed_in(Role.ADMIN).get("/registry").text)


def test_the_command_prints_the_same_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'doses.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        _doses(make_session_factory(engine))
    finally:
        engine.dispose()
    monkeypatch.setenv("VERTEBRO_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["dicom", "doses"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "vertebroplasty under fluoroscopy: 12 signed procedures" in lines
    assert "kerma-area product (Gy·cm²)\tservice\tall\t12\t6.5\t9.25" in lines
    assert "kerma-area product (Gy·cm²)\toperator\tdr.b\t1\t100\t-" in lines
    assert "kerma-area product (Gy·cm²)\tlevels\t2 levels\t1\t100\t-" in lines
    assert "dose-length product (mGy·cm)\tservice\tall\t1\t400\t-" in lines
    only = CliRunner().invoke(app, ["dicom", "doses", "--technique", "kyphoplasty"])
    assert "vertebroplasty under fluoroscopy" not in only.output
    assert "kyphoplasty under CT: 1 signed procedure" in only.output.splitlines()
