"""End-to-end: ``vertebro fhir export`` and ``vertebro fhir import`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import DEMO, run
from tests.unit.fhir.validation import problems
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

pytestmark = pytest.mark.e2e

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "fhir-examples"
CASES = ("01-acute-osteoporotic-l1.yaml", "02-inpatient-t12.yaml", "08-four-levels.yaml")


def _database(tmp_path: Path, name: str) -> dict[str, str]:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / name}.db"}
    result = run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    return env


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.ndjson"))}


def test_export_import_export_gives_identical_content(tmp_path: Path) -> None:
    first = _database(tmp_path, "first")
    for name in CASES:
        saved = run("assess", str(DEMO / name), "--save", "--format", "json", env=first)
        assert saved.returncode == 0, saved.stderr
    exported = run("fhir", "export", str(tmp_path / "out1"), env=first)
    assert exported.returncode == 0, exported.stderr
    files = _files(tmp_path / "out1")
    assert {"Patient.ndjson", "Condition.ndjson", "Observation.ndjson", "GuidanceResponse.ndjson"} <= set(files)
    for text in files.values():
        for line in text.splitlines()[:40]:  # a sample: fhir.resources is slow
            resource = json.loads(line)
            assert problems(resource) == [], resource["id"]

    empty = _database(tmp_path, "second")
    imported = run("fhir", "import", str(tmp_path / "out1"), env=empty)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "created 3 patients, matched 0, 3 new cases" in imported.stdout
    assert "skipped" in imported.stdout  # GuidanceResponses are recomputed, not taken as given
    again = run("fhir", "export", str(tmp_path / "out2"), env=empty)
    assert again.returncode == 0, again.stderr
    # Patients, cases and assessments come back identical. The referral (ServiceRequest) and documents
    # (DocumentReference) carry the case's creation time, which an import does not restore (docs/fhir.md).
    not_restored = {"ServiceRequest.ndjson", "DocumentReference.ndjson"}
    second = _files(tmp_path / "out2")
    assert set(second) == set(files)
    assert {k: v for k, v in second.items() if k not in not_restored} == {
        k: v for k, v in files.items() if k not in not_restored
    }

    twice = run("fhir", "import", str(tmp_path / "out1"), env=empty)
    assert "created 0 patients, matched 3, 0 new cases" in twice.stdout


@pytest.mark.parametrize("folder", ["hl7-r4", "synthea"])
def test_importing_resources_written_by_others_never_crashes(tmp_path: Path, folder: str) -> None:
    env = _database(tmp_path, folder)
    result = run("fhir", "import", str(SHARED / folder), env=env)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), result.stderr
    assert result.stdout.startswith("created ")
    assert "skipped" in result.stdout
    for line in result.stdout.splitlines():
        if line.startswith("rejected "):
            assert ": " in line.removeprefix("rejected ")  # every rejection says why


def test_a_bundle_assessed_and_saved_keeps_where_each_fact_came_from(tmp_path: Path) -> None:
    """``vertebro assess BUNDLE --save`` stores the reading report with the case (decision 0031): the chart can
    show each fact's resource and code, and what was ignored and why."""
    from sqlalchemy import create_engine, text

    env = _database(tmp_path, "assessed")
    bundle = Path(__file__).resolve().parents[1] / "fixtures" / "fhir-uscore" / "01-osteoporotic-l1-warfarin.json"
    saved = run("assess", str(bundle), "--save", "--format", "json", env=env)
    assert saved.returncode == 0, saved.stderr
    engine = create_engine(env["VERTEBRO_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT via, document FROM case_fact_sources")).all()
    engine.dispose()
    assert len(rows) == 1
    via, document = rows[0][0], json.loads(rows[0][1])
    assert via == "fhir-assess"
    facts = {fact["path"]: fact for fact in document["facts"]}
    assert facts["labs.platelets"]["resources"] == [{"reference": "Observation/uc1-plt", "code": "LOINC 777-3"}]
    assert facts["labs.platelets"]["value"] == 210.0
    assert {"resource": "Observation/uc1-plt-old", "reason": "status entered-in-error"} in document["ignored"]
    assert "red_flags.cancer_history" in document["not_recorded"]


def test_an_app_is_registered_with_its_web_origins_and_revoked_from_the_command_line(tmp_path: Path) -> None:
    env = _database(tmp_path, "smart")
    app = ["fhir", "register-app", "viewer", "--redirect-uri", "https://viewer.example/cb", "--scope", "user/*.read"]
    refused = run(*app, "--origin", "https://viewer.example/app", env=env)
    assert refused.returncode == 2
    assert "is not a web origin: give scheme://host[:port] only" in refused.stderr
    registered = run(*app, "--origin", "https://viewer.example", "--origin", "https://cdn.viewer.example", env=env)
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.splitlines() == [
        "registered app viewer (public): user/*.read",
        "web origins: https://cdn.viewer.example https://viewer.example",
    ]
    revoked = run("fhir", "revoke-client", "viewer", "--actor", "root", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == "revoked viewer: its tokens have ended"
    unknown = run("fhir", "revoke-client", "nobody", env=env)
    assert unknown.returncode == 2
    assert "there is no registered client 'nobody'" in unknown.stderr
    engine = make_engine(env["VERTEBRO_DATABASE_URL"])
    with UnitOfWork(make_session_factory(engine)) as uow:
        entries = uow.audit.entries(action="smart_client_revoked")
    engine.dispose()
    assert [(e.actor, e.detail["client_id"], e.detail["kind"]) for e in entries] == [("root", "viewer", "app")]


def test_a_client_or_app_whose_jwks_cannot_be_read_is_not_registered(tmp_path: Path) -> None:
    env = {"VERTEBRO_DATABASE_URL": f"sqlite:///{tmp_path / 'never-opened.db'}"}
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    client = ["fhir", "register-client", "loader", "--scope", "system/*.read"]
    app = ["fhir", "register-app", "viewer", "--redirect-uri", "https://viewer.example/cb", "--scope", "user/*.read"]
    for command in (client, app):
        for jwks in ("broken.json", "missing.json"):
            refused = run(*command, "--jwks", str(tmp_path / jwks), env=env)
            assert refused.returncode == 2
            assert f"{jwks}: cannot read the JWKS" in refused.stderr
    assert not (tmp_path / "never-opened.db").exists()
