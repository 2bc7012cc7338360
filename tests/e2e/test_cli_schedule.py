"""End-to-end: ``vertebro schedule generate`` then ``vertebro schedule solve``, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run
from vertebro.scheduling.checker import violations
from vertebro.scheduling.instance import read_instance
from vertebro.scheduling.plan import Plan

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schedule") / "instance.json"
    result = run("schedule", "generate", str(path), "--cases", "40", "--weeks", "2", "--rooms", "3", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert "40 cases, 2 weeks" in result.stdout
    return path


def test_solve_json_is_a_valid_plan(generated: Path) -> None:
    result = run("schedule", "solve", str(generated), "--format", "json", "--time-limit", "8", "--no-progress")
    assert result.returncode == 0, result.stderr
    plan = Plan.model_validate(json.loads(result.stdout))
    assert plan.planner == "cp-sat"
    assert plan.sessions
    assert plan.bound is not None
    assert violations(read_instance(generated), plan) == []


def test_fcfs_baseline_and_weights(generated: Path) -> None:
    result = run("schedule", "solve", str(generated), "--planner", "fcfs", "--format", "json")
    assert result.returncode == 0, result.stderr
    plan = Plan.model_validate(json.loads(result.stdout))
    assert plan.planner == "fcfs"
    assert violations(read_instance(generated), plan) == []
    weighted = run(
        "schedule", "solve", str(generated), "--planner", "fcfs", "--format", "json", "--weights", "waiting=2"
    )
    assert json.loads(weighted.stdout)["objective"]["terms"][2]["weight"] == 2


def test_readable_table(generated: Path) -> None:
    result = run("schedule", "solve", str(generated), "--time-limit", "5")
    assert result.returncode == 0, result.stderr
    for heading in ("objective, term by term", "schedule", "left out, and why", "bound", "gap"):
        assert heading in result.stdout


def test_invalid_instance_names_the_path(tmp_path: Path, generated: Path) -> None:
    data = json.loads(generated.read_text())
    data["cases"][0]["levels"][0]["level"] = "L9"
    data["rooms"][0]["kind"] = "mri"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = run("schedule", "solve", str(bad))
    assert result.returncode == 2
    assert "cases[0].levels[0].level: 'L9' does not exist" in result.stderr
    assert "rooms[0].kind:" in result.stderr
    unknown = run("schedule", "solve", str(generated), "--weights", "speed=3")
    assert unknown.returncode == 2
    assert "unknown term 'speed'" in unknown.stderr


def test_infeasible_instance_is_explained(tmp_path: Path, generated: Path) -> None:
    data = json.loads(generated.read_text())
    for case in data["cases"][:2]:
        case["mandatory"] = True
        case["not_before"] = [{"date": "2030-01-01", "kind": "hold", "reason": "cannot stop ticagrelor"}]
    path = tmp_path / "infeasible.json"
    path.write_text(json.dumps(data))
    result = run("schedule", "solve", str(path), "--format", "json", "--time-limit", "5", "--no-progress")
    assert result.returncode == 3
    plan = Plan.model_validate(json.loads(result.stdout))
    assert plan.status == "infeasible"
    assert "cannot stop ticagrelor" in result.stderr


def test_plan_on_the_database_prints_and_saves_a_checked_plan(tmp_path: Path) -> None:
    import datetime as dt

    from tests.integration.scheduling.conftest import ROOMS, next_monday, prepare
    from vertebro.store import migrate, workflow
    from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

    url = f"sqlite:///{tmp_path / 'plan.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        workflow.ensure_calendar(uow, ROOMS, next_monday(), 7)
        for i in range(3):
            prepare(uow, f"CLI-{i}", sedation_planned=i == 0)
        uow.commit()
    engine.dispose()
    env = {"VERTEBRO_DATABASE_URL": url}
    first = next_monday().isoformat()
    args = ("schedule", "plan", "--from", first, "--weeks", "1", "--time-limit", "3", "--no-progress")
    result = run(*args, "--format", "json", "--save", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    references, saved = data.pop("references"), data.pop("saved_as")
    plan = Plan.model_validate(data)
    assert len(plan.sessions) == 3
    assert {s.date for s in plan.sessions} <= {next_monday() + dt.timedelta(days=d) for d in range(5)}
    assert sorted(references["rooms"].values()) == list(ROOMS)
    assert saved == 1
    text = run(*args, env=env)
    assert text.returncode == 0, text.stderr
    assert "first come, first served" in text.stdout
    assert "acute_missed" in text.stdout
    bad = run("schedule", "plan", "--from", first, "--weeks", "13", env=env)
    assert bad.returncode == 2
    assert "--weeks" in bad.stderr
