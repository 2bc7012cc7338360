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

    settings = DicomSettings()
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
    technique: Annotated[str, typer.Option(help="vertebroplasty or kyphoplasty.")] = "vertebroplasty",
) -> None:
    """Dose figures of the signed procedures: median and 75th percentile per operator and for the service (the
    local reference level, from 10 procedures), for the kerma-area product, air kerma and fluoroscopy time."""
    from vertebro.cli.boundary import unit_of_work
    from vertebro.clinical.dose import QUANTITIES, dose_figures
    from vertebro.dicom.repository import DicomRepository

    with unit_of_work(Settings().database_url) as uow:
        rows = DicomRepository(uow.session).signed_doses(technique)
    typer.echo(f"{technique}: {len(rows)} signed procedures")
    typer.echo("quantity\tgroup\tprocedures\tmedian\tp75")
    columns = {
        "dap_gy_cm2": [(operator, dap) for operator, dap, _, _ in rows],
        "air_kerma_mgy": [(operator, kerma) for operator, _, kerma, _ in rows],
        "fluoroscopy_minutes": [(operator, minutes) for operator, _, _, minutes in rows],
    }
    for quantity, values in columns.items():
        label, unit = QUANTITIES[quantity]
        for f in dose_figures(values, quantity):
            median = "-" if f.median is None else f"{f.median:.4g}"
            p75 = "-" if f.p75 is None else f"{f.p75:.4g}"
            typer.echo(f"{label} ({unit})\t{f.group}\t{f.procedures}\t{median}\t{p75}")


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
