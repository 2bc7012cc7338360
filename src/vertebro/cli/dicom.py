"""``vertebro dicom serve``: the procedure room's modality worklist, performed procedure steps and dose reports."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from vertebro.config import Settings

dicom_app = typer.Typer(help="Talk DICOM with the procedure room's modalities.", no_args_is_help=True)


@dicom_app.command("serve")
def serve_command(
    port: Annotated[int | None, typer.Option(help="Port (default VERTEBRO_DICOM_PORT, 11112).")] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default VERTEBRO_DICOM_HOST).")] = None,
) -> None:
    """Serve the Modality Worklist (C-FIND), MPPS (N-CREATE/N-SET) and dose reports (C-STORE) on one port.

    Only the AE titles in VERTEBRO_DICOM_PEERS may associate; VERTEBRO_DICOM_AE_TITLE is our own.
    """
    from vertebro.dicom import server
    from vertebro.dicom.settings import DicomSettings
    from vertebro.store.db import make_engine, make_session_factory

    try:
        settings = DicomSettings()
    except ValueError as error:  # pydantic's ValidationError names the setting
        typer.echo(str(error), err=True)
        raise typer.Exit(code=2) from error
    changes = {k: v for k, v in {"port": port, "host": host}.items() if v is not None}
    if changes:
        settings = settings.model_copy(update=changes)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    engine = make_engine(Settings().database_url)
    try:
        server.start(make_session_factory(engine), settings, block=True)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=2) from error
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@dicom_app.command("doses")
def doses_command(
    technique: Annotated[
        str | None, typer.Option(help="Only vertebroplasty or only kyphoplasty (default: both).")
    ] = None,
) -> None:
    """Dose figures of the signed procedures, as on the registry's dashboard: per technique and guidance, the median
    and 75th percentile for the service (its local reference level, from 10 procedures), per operator and per number
    of levels, with the number of procedures behind each figure. Tab-separated."""
    from vertebro.cli.boundary import unit_of_work
    from vertebro.clinical.dose import QUANTITIES
    from vertebro.registry.service import dose_tables

    if technique not in (None, "vertebroplasty", "kyphoplasty"):
        typer.echo(f"technique: expected vertebroplasty or kyphoplasty, got {technique!r}", err=True)
        raise typer.Exit(code=2)
    with unit_of_work(Settings().database_url) as uow:
        tables = [t for t in dose_tables(uow) if technique is None or t.technique == technique]
    if not tables:
        typer.echo("no signed procedure record: no dose figures")
    for table in tables:
        guidance = "CT" if table.guidance == "ct" else table.guidance
        plural = "" if table.procedures == 1 else "s"
        typer.echo(f"{table.technique} under {guidance}: {table.procedures} signed procedure{plural}")
        typer.echo("quantity\tby\tgroup\tprocedures\tmedian\tp75")
        for row in table.rows:
            for f in row.figures:
                label, unit = QUANTITIES[f.quantity]
                median = "-" if f.median is None else f"{f.median:.4g}"
                p75 = "-" if f.p75 is None else f"{f.p75:.4g}"
                typer.echo(f"{label} ({unit})\t{row.dimension}\t{row.group}\t{f.procedures}\t{median}\t{p75}")


DEMO_PEERS = "DEMO_CARM,DEMO_CT"


def start_demo_services(database_url: str) -> None:
    """Start the DICOM services in the background for ``vertebro demo --serve`` (127.0.0.1, VERTEBRO_DICOM_PORT or
    11112; peers from VERTEBRO_DICOM_PEERS, else the demo modalities DEMO_CARM and DEMO_CT); they stop with the
    process. A port already in use is reported and the demo goes on without them."""
    from vertebro.dicom import server
    from vertebro.dicom.settings import DicomSettings
    from vertebro.store.db import make_engine, make_session_factory

    settings = DicomSettings()
    settings = settings.model_copy(update={"host": "127.0.0.1", "peers": settings.peers or DEMO_PEERS})
    try:
        server.start(make_session_factory(make_engine(database_url)), settings)
    except OSError as error:
        typer.echo(f"DICOM services not started: {error}", err=True)
        return
    typer.echo(
        f"DICOM worklist, MPPS and dose reports at {settings.ae_title}@127.0.0.1:{settings.port} "
        f"(calling AE titles: {settings.peers})"
    )
