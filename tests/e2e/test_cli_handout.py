"""End-to-end: ``vertebro handout`` on the demo database, and ``vertebro education build``."""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from vertebro.education.dates import long_date

pytestmark = pytest.mark.e2e


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vertebro", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A migrated SQLite database with the demo patients (DEMO-0001's procedure is 21 days from today)."""
    folder = tmp_path_factory.mktemp("handout")
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "VERTEBRO_CLINIC_PHONE": "0100 200 300"}
    for command in (("db", "upgrade"), ("demo",)):
        result = run(*command, env=env, cwd=folder)
        assert result.returncode == 0, result.stderr
    return folder, env


def test_the_preparation_handout_pdf_of_a_demo_patient(demo: tuple[Path, dict[str, str]]) -> None:
    folder, env = demo
    out = folder / "out" / "prep.pdf"
    result = run(
        "handout", "DEMO-0001", "--kind", "preparation", "--out", str(out), "--timezone", "Europe/London",
        "--actor", "nurse.e2e", env=env, cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "written to" in result.stdout
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
    procedure = dt.date.today() + dt.timedelta(days=21)
    assert "Margaret Ellison" in text
    assert f"last dose on {long_date(procedure - dt.timedelta(days=6))}" in text  # warfarin, 5 whole days
    assert "0100 200 300" in text
    with sqlite3.connect(folder / "demo.db") as db:
        reads = db.execute(
            "SELECT entity_type, detail FROM audit_log WHERE actor = 'nurse.e2e' AND action = 'read'"
        ).fetchall()
    assert len(reads) == 1
    assert reads[0][0] == "patient"
    assert '"kind": "preparation"' in reads[0][1] or '"kind":"preparation"' in reads[0][1]


def test_the_discharge_sheet_as_html(demo: tuple[Path, dict[str, str]]) -> None:
    folder, env = demo
    out = folder / "discharge.html"
    result = run("handout", "DEMO-0002", "--kind", "discharge", "--out", str(out), env=env, cwd=folder)
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "Walter Brandt" in html
    assert "When to get help" in html


def test_the_procedure_report_needs_a_signed_procedure_record(demo: tuple[Path, dict[str, str]]) -> None:
    folder, env = demo
    out = folder / "report.pdf"
    result = run("handout", "DEMO-0001", "--kind", "procedure-report", "--out", str(out), env=env, cwd=folder)
    assert result.returncode == 2
    assert "procedure record" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("patient", "problem"),
    [("NOBODY-1", "no patient with identifier"), ("DEMO-0003", "not vertebroplasty or kyphoplasty")],
)
def test_a_handout_that_cannot_be_made_exits_2_and_says_why(
    demo: tuple[Path, dict[str, str]], patient: str, problem: str
) -> None:
    folder, env = demo
    out = folder / f"{patient}.pdf"
    result = run("handout", patient, "--out", str(out), env=env, cwd=folder)
    assert result.returncode == 2
    assert problem in " ".join(result.stderr.split())
    assert not out.exists()


def test_a_wrong_file_type_or_time_zone_is_refused(demo: tuple[Path, dict[str, str]]) -> None:
    folder, env = demo
    assert run("handout", "DEMO-0001", "--out", "x.docx", env=env, cwd=folder).returncode == 2
    result = run("handout", "DEMO-0001", "--out", "x.pdf", "--timezone", "Mars/Olympus", env=env, cwd=folder)
    assert result.returncode == 2
    assert "unknown time zone" in result.stderr


def test_education_build_writes_every_page(tmp_path: Path) -> None:
    result = run("education", "build", str(tmp_path / "site"), env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (tmp_path / "site").iterdir()}
    assert {"index.html", "glossary.html", "evidence.html", "risks.html"} <= names
