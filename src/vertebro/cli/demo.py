"""The demo: load the demo patients once, assess them, and print the worklist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from vertebro.cli.boundary import record_assessment, unit_of_work
from vertebro.clinical import assess, assessment_json
from vertebro.config import Settings
from vertebro.intake.case_file import read_case
from vertebro.store import service

DEMO_CASES = Path(__file__).resolve().with_name("demo_cases")
DEMO_ACTOR = "demo:loader"
# Days from today to each demo patient's procedure date, so that the dates stay meaningful.
PROCEDURE_IN_DAYS = {"DEMO-0001": 21, "DEMO-0002": 4, "DEMO-0005": 14, "DEMO-0008": 28}
_STYLE = {"appropriate": "green", "uncertain": "yellow", "not_appropriate": "red", "contraindicated": "magenta"}


def load_demo(settings: Settings, console: Console) -> int:
    """Assess and store every demo case whose patient is not yet in the database; return how many."""
    files = sorted(DEMO_CASES.glob("*.yaml"))
    today = dt.date.today()
    policy = settings.policy()
    loaded = 0
    with unit_of_work(settings.database_url) as uow, Progress(console=console, transient=True) as progress:
        task = progress.add_task("Assessing demo patients", total=len(files))
        for path in files:
            case = read_case(path)
            identifier = case.patient.identifier
            if identifier is not None and uow.patients.get_by_identifier(identifier) is not None:
                progress.advance(task)
                continue
            if identifier in PROCEDURE_IN_DAYS:
                case = case.model_copy(
                    update={"procedure_date": today + dt.timedelta(days=PROCEDURE_IN_DAYS[identifier])}
                )
            assessment = assess(case, policy, today)
            record_assessment(uow, case, assessment, assessment_json(assessment), actor=DEMO_ACTOR, source="demo")
            loaded += 1
            progress.advance(task)
        uow.commit()
    return loaded


def print_worklist(settings: Settings, console: Console, actor: str) -> None:
    """Print the worklist; every patient shown is recorded as read by ``actor`` in the audit log."""
    with unit_of_work(settings.database_url) as uow:
        rows = service.worklist(uow, actor=actor, source="cli")
        uow.commit()
    table = Table(title="vertebro worklist: assessed cases (newest first)", title_justify="left")
    for column in ("patient", "name", "levels", "default profile", "verdict", "next step", "ruleset", "assessed"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.patient_identifier,
            row.patient_name or "-",
            ", ".join(row.levels),
            row.default_profile,
            f"[{_STYLE.get(row.default_category, 'white')}]{row.default_category}[/]",
            row.treatment.replace("_", " "),
            row.ruleset_version,
            row.assessed_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    console.print(f"{len(rows)} case(s). Decision support only: it does not replace clinical judgement.")


def run_demo(settings: Settings, console: Console) -> None:
    """Load the demo data (idempotent) and print the worklist."""
    loaded = load_demo(settings, console)
    console.print(f"Loaded {loaded} new demo patient(s) into {settings.database_url}.")
    print_worklist(settings, console, actor="demo:viewer")
    console.print(
        "See one assessment in full: vertebro assess src/vertebro/cli/demo_cases/01-acute-osteoporotic-l1.yaml"
    )
