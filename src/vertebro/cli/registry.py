"""``vertebro registry export``: the de-identified outcomes registry for research (CSV or Parquet)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vertebro.config import Settings

registry_app = typer.Typer(help="The outcomes registry.", no_args_is_help=True)


class ExportFormat(StrEnum):
    """File formats of the registry export."""

    CSV = "csv"
    PARQUET = "parquet"


@registry_app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for procedures.<format> and summary.<format>.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")] = ExportFormat.CSV,
    deidentified: Annotated[
        bool, typer.Option("--deidentified", help="Required: the export is always de-identified; say so.")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who is exporting (audit log); default cli:<user>.")] = None,
) -> None:
    """Export every treated case, de-identified (docs/registry-deidentification.md); the export is audited."""
    from vertebro.cli import _actor
    from vertebro.cli.boundary import unit_of_work
    from vertebro.registry.export import export

    err = Console(stderr=True)
    if not deidentified:
        err.print("[bold red]--deidentified is required[/]: vertebro only exports the registry de-identified")
        raise typer.Exit(code=2)
    settings = Settings()
    if not settings.registry_salt or len(settings.registry_salt) < 16:
        err.print(
            "[bold red]VERTEBRO_REGISTRY_SALT is not set[/] (or shorter than 16 characters): it keys the "
            "pseudonyms and date shifts; keep it secret and the same between exports that must link"
        )
        raise typer.Exit(code=2)
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )
    with unit_of_work(settings.database_url) as uow, progress:
        task = progress.add_task("procedures", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        written = export(
            uow, out_dir, fmt=fmt.value, salt=settings.registry_salt, actor=_actor(actor), progress=advance
        )
        uow.commit()
    err.print(f"Wrote {written.rows:,} de-identified procedures: {', '.join(str(f) for f in written.files)}")


@registry_app.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the registry's entries and cells from the source tables in one pass.

    Run it after upgrading a large database (the upgrade queues every treated case; without this the
    first dashboard view would do the rebuild) or after a bulk load that bypassed the triggers.
    """
    from vertebro.cli.boundary import unit_of_work
    from vertebro.registry.repository import rebuild_all, rebuilt_count

    err = Console(stderr=True)
    with unit_of_work(Settings().database_url) as uow:
        rebuild_all(uow.session)
        count = rebuilt_count(uow.session)
        uow.commit()
    err.print(f"Rebuilt the registry: {count:,} treated cases")
