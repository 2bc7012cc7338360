"""End-to-end: the installed ``vertebro`` command, run as a user would run it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[2] / "src" / "vertebro" / "cli" / "demo_cases"
CASE = DEMO / "01-acute-osteoporotic-l1.yaml"
PROFILES = {"acr", "nice-ta279", "medicare-lcd", "nass-auc", "asra-2018"}
CATEGORIES = {"appropriate", "uncertain", "not_appropriate", "contraindicated"}


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vertebro", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def assess_json(path: Path, *extra: str) -> dict[str, Any]:
    result = run("assess", str(path), "--format", "json", "--as-of", "2026-11-22", *extra)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def with_date(tmp_path: Path, source: Path, name: str, **changes: Any) -> Path:
    data = yaml.safe_load(source.read_text())
    data.update(changes)
    target = tmp_path / name
    target.write_text(yaml.safe_dump(data))
    return target


def test_assess_json_has_the_documented_shape(tmp_path: Path) -> None:
    case = with_date(tmp_path, CASE, "case.yaml", procedure_date="2026-12-13")
    data = assess_json(case)
    assert set(data["profiles"]) == PROFILES
    for verdict in data["profiles"].values():
        assert verdict["category"] in CATEGORIES
        assert verdict["label"]
        assert all(r["rule"] in data["rules"] and r["sources"] for r in verdict["reasons"])
    assert data["recommendation"]["treatment"] == "kyphoplasty"
    assert data["recommendation"]["sessions"] == [["L1"]]
    assert data["fractures"][0]["genant_grade"] == 2
    holds = {h["drug"]: h for h in data["preparation"]["medication_holds"]}
    assert holds["warfarin"]["stop"] == "2026-12-07"
    assert holds["warfarin"]["condition"]
    assert holds["warfarin"]["restart"].startswith("2026-12-13")
    assert holds["aspirin"]["stop"] == "2026-12-06"
    assert data["recovery"]["monitoring_minutes"] == 180
    assert set(data["sources"]) >= {"acr-vcf-2018", "nice-ta279", "cms-lcd-pva", "asra-2018"}


def test_yaml_and_json_case_files_give_the_same_assessment(tmp_path: Path) -> None:
    as_json = tmp_path / "case.json"
    as_json.write_text(json.dumps(yaml.safe_load(CASE.read_text()), default=str))
    assert assess_json(as_json) == assess_json(CASE)


def test_profile_option_sets_the_default_profile() -> None:
    data = assess_json(DEMO / "05-myeloma.yaml", "--profile", "nass-auc")
    assert data["default_profile"] == "nass-auc"
    assert data["profiles"]["nass-auc"]["category"] == "appropriate"
    assert data["recommendation"]["treatment"] in ("vertebroplasty", "kyphoplasty")
    assert "radiation_oncology_consult" in data["recommendation"]["also"]


def test_text_output_carries_the_disclaimer_and_sources() -> None:
    result = run("assess", str(CASE), "--as-of", "2026-11-22")
    assert result.returncode == 0, result.stderr
    assert "does not replace clinical judgement" in result.stdout
    assert "Sources" in result.stdout
    assert "asra-2018" in result.stdout


@pytest.mark.parametrize(
    ("text", "path", "problem"),
    [
        (
            '{"patient": {"age": 70, "sex": "female"}, "fractures": [{"level": "L1", "cause": "osteoporotic"}], "pain": {"nrs": false}}',
            "pain.nrs",
            "integer",
        ),
        (
            '{"patient": {"age": 70, "sex": "female"}, "fractures": [{"level": "L6", "cause": "osteoporotic"}], "pain": {"nrs": 5}}',
            "fractures[0].level",
            "lumbar spine has 5",
        ),
        (
            '{"patient": {"age": 70, "sex": "female"}, "fractures": [{"level": "L1", "cause": "osteoporotic", "heights_mm": {"anterior": 40, "middle": 20, "posterior": 15}}], "pain": {"nrs": 5}}',
            "fractures[0].heights_mm.anterior",
            "more than twice",
        ),
        ('{"patient": {"age": 70, "sex": "female"}, "fractures": [], "pain": {"nrs": 5}}', "fractures", "at least 1"),
        (
            '{"patient": {"age": 70}, "fractures": [{"level": "L1", "cause": "osteoporotic"}], "pain": {"nrs": 5}}',
            "patient.sex",
            "required",
        ),
        ("{not json", "(file)", "not valid JSON"),
    ],
)
def test_malformed_case_exits_2_naming_the_path_and_writes_nothing(
    tmp_path: Path, text: str, path: str, problem: str
) -> None:
    db = tmp_path / "v.db"
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{db}"}
    assert run("db", "upgrade", env=env).returncode == 0
    case = tmp_path / "bad.json"
    case.write_text(text)
    result = run("assess", str(case), "--save", "--actor", "test", env=env)
    assert result.returncode == 2
    assert path in result.stderr
    assert problem in result.stderr
    with sqlite3.connect(db) as conn:
        for table in ("patients", "cases", "assessments", "audit_log"):
            assert conn.execute(f"select count(*) from {table}").fetchone() == (0,), table


def test_save_records_the_case_and_audits_it(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{db}"}
    assert run("db", "upgrade", env=env).returncode == 0
    result = run("assess", str(CASE), "--save", "--actor", "dr-test", "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select identifier from patients").fetchall() == [("DEMO-0001",)]
        version = json.loads(result.stdout)["ruleset_version"]
        assert conn.execute("select ruleset_version from assessments").fetchall() == [(version,)]
        actors = {row[0] for row in conn.execute("select actor from audit_log")}
        assert actors == {"dr-test"}


def test_demo_is_idempotent_and_prints_the_worklist(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert run("db", "upgrade", env=env).returncode == 0
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Loaded 8 new demo patient(s)" in first.stdout
    assert "DEMO-0008" in first.stdout
    second = run("demo", env=env)
    assert "Loaded 0 new demo patient(s)" in second.stdout
    assert "8 case(s)" in second.stdout


def test_schema_validates_every_demo_case() -> None:
    result = run("schema", "case")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for path in sorted(DEMO.glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        jsonschema.validate(data, schema)


def test_rules_lists_unverified_rules() -> None:
    result = run("rules", "--unverified")
    assert result.returncode == 0
    assert "asra.p2y12" in result.stdout
    assert "lcd.pain_outpatient" not in result.stdout


def test_an_unmigrated_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = run("worklist", env=env)
    assert result.returncode != 0
    assert "vertebro db upgrade" in result.stderr
