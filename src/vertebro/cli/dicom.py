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
