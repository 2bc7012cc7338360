"""The ``vertebro`` command line: assess a case, print the case schema, manage the database, demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from vertebro.cli.dicom import dicom_app
from vertebro.cli.fhir import fhir_app
from vertebro.cli.handout import education_app, handout_command
from vertebro.cli.jobs import jobs_app, worker_command
from vertebro.cli.registry import registry_app
from vertebro.cli.reminders import reminders_app
from vertebro.cli.schedule import schedule_app
from vertebro.clinical import Case, ClinicPolicy, assess, assessment_json
from vertebro.clinical.policy import IndicationProfileId
from vertebro.clinical.rules import RULES
from vertebro.config import Settings
from vertebro.errors import VertebroError
from vertebro.intake.case_file import CaseFileError, read_case

if TYPE_CHECKING:
    from vertebro.intake.fhir_bundle import Reading

app = typer.Typer(help="vertebro: a vertebroplasty service, from referral to one-year outcome.", no_args_is_help=True)
schema_app = typer.Typer(help="Print JSON Schemas of vertebro's inputs.", no_args_is_help=True)
db_app = typer.Typer(
    help="Manage the database (SQLite by default, PostgreSQL via VERTEBRO_DATABASE_URL).", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")
app.add_typer(db_app, name="db")
app.add_typer(schedule_app, name="schedule")
app.add_typer(education_app, name="education")
app.add_typer(fhir_app, name="fhir")
app.add_typer(reminders_app, name="reminders")
app.add_typer(registry_app, name="registry")
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker_command)
app.add_typer(dicom_app, name="dicom")
app.command("handout")(handout_command)

EXIT_INVALID_INPUT = 2


class OutputFormat(StrEnum):
    """How ``vertebro assess`` prints."""

    TEXT = "text"
    JSON = "json"


class Profile(StrEnum):
    """The indication profiles a clinic may choose as its default."""

    ACR = "acr"
    NICE = "nice-ta279"
    LCD = "medicare-lcd"
    NASS = "nass-auc"


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, soft_wrap=False, width=160 if not stderr else None)


def _fail(problems: list[str], what: str) -> typer.Exit:
    err = _console(stderr=True)
    err.print(f"[bold red]{escape(what)}[/]", highlight=False)
    for problem in problems:
        err.print(f"  {problem}", highlight=False, markup=False)
    return typer.Exit(code=EXIT_INVALID_INPUT)


def _policy(settings: Settings, profile: Profile | None) -> ClinicPolicy:
    policy = settings.policy()
    if profile is None:
        return policy
    chosen: IndicationProfileId = profile.value
    return dataclasses.replace(policy, default_profile=chosen)


def _load(case_file: Path) -> Case:
    try:
        return read_case(case_file)
    except CaseFileError as exc:
        raise _fail(exc.problems, f"{case_file}: not a valid case") from None


def _reading(case_file: Path, as_of: dt.date | None) -> Reading | None:
    """Read a FHIR Bundle with its reading report (sources, not recorded, ignored), or None for a case file."""
    from vertebro.intake.fhir_bundle import is_bundle, read_bundle

    if case_file.suffix.lower() != ".json" or not case_file.is_file():
        return None
    try:
        data = json.loads(case_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not is_bundle(data):
        return None
    try:
        return read_bundle(data, as_of=as_of)
    except CaseFileError as exc:
        raise _fail(exc.problems, f"{case_file}: not a valid case") from None


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@app.command("assess")
def assess_command(
    case_file: Annotated[Path, typer.Argument(help="Case file (.json, .yaml or .yml).")],
    profile: Annotated[Profile | None, typer.Option(help="Default profile for the recommendation.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    as_of: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Assessment date (default: today).")
    ] = None,
    save: Annotated[bool, typer.Option(help="Store the case and its assessment in the database.")] = False,
    actor: Annotated[str | None, typer.Option(help="Who is recording (audit log); default cli:<user>.")] = None,
) -> None:
    """Assess a case under every guideline profile and print the whole assessment."""
    settings = Settings()
    reading = _reading(case_file, None if as_of is None else as_of.date())
    case = reading.case if reading is not None else _load(case_file)
    assessment = assess(case, _policy(settings, profile), None if as_of is None else as_of.date())
    data = assessment_json(assessment)
    if reading is not None:  # a FHIR Bundle: where each fact came from, what was not recorded, what was ignored
        data["fhir_intake"] = {
            "sources": reading.sources,
            "not_recorded": reading.missing,
            "conflicts": reading.conflicts,
            "ignored": [{"resource": where, "reason": why} for where, why in reading.ignored],
        }
    if save:
        from vertebro.cli.boundary import save_assessment

        try:
            sources = None if reading is None else ("fhir-assess", reading.fact_sources())
            save_assessment(
                settings.database_url, case, assessment, data, actor=_actor(actor), source="cli", fact_sources=sources
            )
        except VertebroError as exc:
            raise _fail([str(exc)], "not saved") from None
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    patient = case.patient.name or case.patient.identifier or "patient"
    from vertebro.cli.render import print_assessment

    print_assessment(_console(), data, f"{patient}, {case.patient.age} y, {case.patient.sex}")
    if reading is not None:
        for line in reading.lines():
            _console().print(line, highlight=False, markup=False)


@schema_app.command("case")
def schema_case() -> None:
    """Print the JSON Schema of a case file."""
    schema: dict[str, Any] = Case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vertebro case"
    typer.echo(json.dumps(schema, indent=2))


@app.command("rules")
def rules_command(
    unverified: Annotated[bool, typer.Option(help="Only rules resting on unverified sources.")] = False,
) -> None:
    """List every clinical rule with its sources and how firmly they were confirmed."""
    from vertebro.clinical import assessment  # noqa: F401  (registers every rule)

    console = _console()
    for rule_id in sorted(RULES):
        r = RULES[rule_id]
        if unverified and not r.unverified:
            continue
        mark = f"[{r.confirmation.value}]" + (
            " [unverified]" if r.unverified and r.confirmation.value != "unverified" else ""
        )
        console.print(f"[bold]{escape(r.id)}[/] {escape(mark)} {escape(', '.join(r.sources))}", highlight=False)
        console.print(f"    {r.statement}", highlight=False, markup=False)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the database migrations (Alembic) up to ``revision``."""
    from sqlalchemy.engine import make_url

    from vertebro.store.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url, revision)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    typer.echo(f"database at {shown} upgraded to {revision}")


@db_app.command("backup")
def db_backup(out: Annotated[Path, typer.Argument(help="The new file to copy the SQLite database to.")]) -> None:
    """Copy the SQLite database to OUT while the server runs (online backup); PostgreSQL: prints the pg_dump recipe."""
    from sqlalchemy.engine import make_url

    from vertebro.store.backup import PG_DUMP_RECIPE, backup_sqlite

    settings = Settings()
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        _console(stderr=True).print(PG_DUMP_RECIPE, highlight=False, markup=False)
        raise typer.Exit(code=EXIT_INVALID_INPUT)
    try:
        size = backup_sqlite(settings.database_url, out)
    except VertebroError as exc:
        raise _fail([str(exc)], "no backup") from None
    typer.echo(f"backed up the database to {out} ({size:,} bytes, integrity checked)")


@app.command("demo")
def demo_command(
    serve: Annotated[bool, typer.Option(help="Then serve the web app (http://127.0.0.1:8000).")] = False,
) -> None:
    """Load the demo patients and staff (once), print the worklist and the demo logins."""
    from vertebro.cli.demo import run_demo

    try:
        run_demo(Settings(), _console())
    except VertebroError as exc:
        raise _fail([str(exc)], "demo not run") from None
    if serve:
        from vertebro.cli.dicom import start_demo_services
        from vertebro.cli.jobs import demo_worker

        start_demo_services(Settings().database_url)  # the procedure room's DICOM services (decision 0023)
        with demo_worker(Settings()):  # on PostgreSQL, a `vertebro worker` beside the server (decision 0022)
            serve_command(demo=True)


@app.command("demo-code")
def demo_code_command(username: Annotated[str, typer.Argument(help="A demo account, e.g. demo.nurse.")]) -> None:
    """Print the current second-step (TOTP) code of a demo account."""
    from vertebro.cli.demo import demo_code

    try:
        typer.echo(demo_code(Settings(), username))
    except (ValueError, VertebroError) as exc:
        raise _fail([str(exc)], "no code") from None


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only; state lives in the DB).")] = 1,
    demo: Annotated[bool, typer.Option(help="Demo mode: activation links on screen, /outbox shows messages.")] = False,
) -> None:
    """Serve the staff web app and the JSON API (OpenAPI at /docs)."""
    import uvicorn

    from vertebro.logs import configure_json_logging
    from vertebro.store.migrate import ensure_at_head

    settings = Settings()
    if host in ("127.0.0.1", "localhost", "::1"):
        settings = settings.model_copy(update={"secure_cookies": False})  # plain http on this machine only
    if demo:
        settings = settings.model_copy(update={"demo_mode": True})
    try:
        ensure_at_head(settings.database_url)
    except VertebroError as exc:
        raise _fail([str(exc)], "cannot serve") from None
    _console().print(
        f"vertebro at http://{host}:{port}  (patient portal at /portal, API docs at /docs; stop with Ctrl+C)"
    )
    configure_json_logging()  # one JSON line per request on stderr, with its request id
    if workers > 1:
        import tempfile

        # Every worker process keeps its metrics in this folder; /metrics adds them up (prometheus-client).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="vertebro-metrics-")
        # Worker processes build their app from the environment: hand them the same settings.
        os.environ["VERTEBRO_SECURE_COOKIES"] = "true" if settings.secure_cookies else "false"
        os.environ["VERTEBRO_DEMO_MODE"] = "true" if settings.demo_mode else "false"
        uvicorn.run(
            "vertebro.web.main:app", host=host, port=port, workers=workers, log_config=None, proxy_headers=False
        )
    else:
        from vertebro.web.app import create_app

        # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app believes only
        # VERTEBRO_TRUSTED_PROXIES (decision 0020).
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=False)


@app.command("worklist")
def worklist_command(
    actor: Annotated[str | None, typer.Option(help="Who is reading (audit log); default cli:<user>.")] = None,
) -> None:
    """Print the worklist of assessed cases (each patient read is audited)."""
    from vertebro.cli.demo import print_worklist

    try:
        print_worklist(Settings(), _console(), _actor(actor))
    except VertebroError as exc:
        raise _fail([str(exc)], "worklist not available") from None


def main() -> None:
    """Entry point of the ``vertebro`` command."""
    app()
