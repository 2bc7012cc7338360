"""``vertebro handout PATIENT_ID`` (personal documents) and ``vertebro education build OUT_DIR`` (the pages).

Registered in ``vertebro.cli`` with ``app.command("handout")(handout_command)`` and
``app.add_typer(education_app, name="education")``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from vertebro.config import Settings
from vertebro.education.kinds import DocumentKind
from vertebro.errors import VertebroError
from vertebro.store.base import clinic_today

EXIT_INVALID_INPUT = 2

education_app = typer.Typer(help="Patient education pages.", no_args_is_help=True)


def _stop(message: str, what: str) -> typer.Exit:
    err = Console(stderr=True)
    err.print(f"[bold red]{escape(what)}[/]", highlight=False)
    err.print(f"  {message}", highlight=False, markup=False)
    return typer.Exit(code=EXIT_INVALID_INPUT)


def _who(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def handout_command(
    patient_id: Annotated[str, typer.Argument(help="The patient's identifier (MRN), e.g. DEMO-0001.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write it: FILE.pdf, or FILE.html for HTML.")],
    kind: Annotated[DocumentKind, typer.Option(help="Which document.")] = DocumentKind.PREPARATION,
    as_of: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Date the plan is computed for (default: today).")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            envvar="VERTEBRO_TIMEZONE", help="Clinic time zone, e.g. Europe/London (default: the clinic setting)."
        ),
    ] = None,
    clinic_name: Annotated[
        str | None, typer.Option(envvar="VERTEBRO_CLINIC_NAME", help="Team name printed on the document.")
    ] = None,
    clinic_phone: Annotated[
        str | None, typer.Option(envvar="VERTEBRO_CLINIC_PHONE", help="Team phone number printed on the document.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who is reading (audit log); default cli:<user>.")] = None,
) -> None:
    """Write a patient's personal document (preparation handout, discharge sheet) as PDF or HTML.

    The plan is re-assessed from the stored facts with the current ruleset; the read is audited.
    """
    from vertebro.cli.boundary import unit_of_work
    from vertebro.clinical.clock import zone_of
    from vertebro.education.documents import personal_document, read_record

    if out.suffix.lower() not in (".pdf", ".html"):
        raise _stop(f"{out}: the file name must end in .pdf or .html", "no document written")
    try:
        if timezone:
            zone_of(timezone)
    except ValueError as exc:
        raise _stop(str(exc), "no document written") from None
    settings = Settings()
    policy = settings.policy()
    if timezone:  # the document's times are computed in this zone, as the chart's would be with the same setting
        policy = dataclasses.replace(policy, time_zone=timezone)
    today = clinic_today(policy.time_zone) if as_of is None else as_of.date()
    try:
        with unit_of_work(settings.database_url) as uow:
            record = read_record(uow, patient_id, kind, actor=_who(actor), source="cli")
            uow.commit()
        document = personal_document(
            record,
            kind,
            policy,
            as_of=today,
            clinic=dataclasses.replace(
                settings.clinic(),
                name=clinic_name or settings.clinic_name,
                phone=clinic_phone or settings.clinic_phone,
            ),
        )
    except VertebroError as exc:
        raise _stop(str(exc), f"no {kind.value} document for {patient_id}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".html":
        out.write_text(document.html, encoding="utf-8")
    else:
        from vertebro.education.pdf import html_to_pdf

        out.write_bytes(html_to_pdf(document.html))
    typer.echo(f"{kind.value} document for {patient_id} written to {out} (ruleset {document.ruleset_version})")
    if document.ruleset_changed:
        typer.echo(
            f"note: the stored assessment used ruleset {document.stored_ruleset_version}; this document uses the "
            "current ruleset. Re-assess the case to update the chart."
        )


@education_app.command("build")
def build_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the HTML pages (created if missing).")],
) -> None:
    """Render every patient-education page, the index and the word list to HTML."""
    from vertebro.education.build import build_site

    written = build_site(out_dir)
    typer.echo(f"{len(written)} pages written to {out_dir}")
