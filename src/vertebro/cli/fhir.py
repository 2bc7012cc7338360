"""``vertebro fhir import|export|register-client|revoke-client|register-app``: move records in and out as FHIR R4
(Bundles in, NDJSON both ways); register and revoke SMART clients and apps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.store.workflow import Actor

if TYPE_CHECKING:
    from vertebro.store.db import UnitOfWork

fhir_app = typer.Typer(help="Exchange records as FHIR R4 (4.0.1).", no_args_is_help=True)
T = TypeVar("T")


def _actor(actor: str | None) -> str:
    from vertebro.cli import _actor as default_actor

    return default_actor(actor)


def _read_jwks(path: Path) -> Any:
    """Return the JSON of a client's JWKS file, or exit 2 saying why it cannot be read."""
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        typer.echo(f"{path}: cannot read the JWKS: {error}", err=True)
        raise typer.Exit(2) from None


def _committed(change: Callable[[UnitOfWork], T]) -> T:
    """Return what one change of the SMART registrations returns, committed; a refusal is printed and exits 2."""
    from vertebro.cli.boundary import unit_of_work
    from vertebro.errors import VertebroError

    try:
        with unit_of_work(Settings().database_url) as uow:
            result = change(uow)
            uow.commit()
    except VertebroError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    return result


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@fhir_app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the NDJSON files (one per resource type).")],
    since: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="Only patients changed since (UTC)."),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who is exporting (audit log); default cli:<user>.")] = None,
) -> None:
    """Export every patient's record as FHIR NDJSON (each exported patient is audited)."""
    from vertebro.cli.boundary import unit_of_work
    from vertebro.fhir.bulk import export_ndjson
    from vertebro.fhir.repository import FhirRepository

    console = Console(stderr=True)
    since_utc = since.replace(tzinfo=dt.UTC) if since is not None else None
    with unit_of_work(Settings().database_url) as uow, _progress(console) as progress:
        total = len(FhirRepository(uow.session).search_patients(since=since_utc, limit=10**9))
        task = progress.add_task("patients", total=total)
        who = Actor(_actor(actor), Role.SERVICE_LEAD, "cli")
        counts = export_ndjson(uow, who, out_dir, since=since_utc, progress=lambda n: progress.advance(task, n))
        uow.commit()
    for kind, count in sorted(counts.items()):
        typer.echo(f"{kind}.ndjson\t{count}")
    typer.echo(f"{sum(counts.values())} resources of {total} patients in {out_dir}")


@fhir_app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="A Bundle (.json), an NDJSON file, or a folder of them.")],
    actor: Annotated[str | None, typer.Option(help="Who is importing (audit log); default cli:<user>.")] = None,
) -> None:
    """Import patients from FHIR; each patient is imported whole or not at all. Exit 2 if anything was rejected."""
    from vertebro.cli.boundary import unit_of_work
    from vertebro.fhir.importer import import_resources, read_resources
    from vertebro.intake.fhir_bundle import fracture_of
    from vertebro.intake.fhir_bundle import read_resources as read_case

    if not source.exists():
        typer.echo(f"{source}: no such file or folder", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True)
    entries = list(read_resources(source))
    patients = sum(1 for _, r in entries if r.get("resourceType") == "Patient")
    with unit_of_work(Settings().database_url) as uow, _progress(console) as progress:
        task = progress.add_task("patients", total=patients)
        summary = import_resources(
            uow,
            entries,
            reader=read_case,
            actor=_actor(actor),
            source="cli:fhir-import",
            progress=lambda n: progress.advance(task, n),
            fracture=fracture_of,
        )
        uow.commit()
    typer.echo(
        f"created {len(summary.created)} patients, matched {len(summary.matched)}, {summary.cases} new cases, "
        f"{summary.conditions} other conditions"
    )
    for reason, count in sorted(summary.skipped.items()):
        typer.echo(f"skipped {count} {reason}")
    for key, reason in summary.rejected:
        typer.echo(f"rejected {key}: {reason}")
    if summary.rejected:
        raise typer.Exit(2)


@fhir_app.command("register-client")
def register_client_command(
    client_id: Annotated[str, typer.Argument(help="The client id the system client signs its assertions with.")],
    jwks: Annotated[Path, typer.Option(help="The client's public JWKS (a JSON file with keys of kty RSA or EC).")],
    scope: Annotated[
        str, typer.Option(help="The system/ scopes it may ask for, space-separated (e.g. 'system/*.read').")
    ],
    name: Annotated[str, typer.Option(help="What the client is (shown in the audit log).")] = "",
    role: Annotated[Role, typer.Option(help="The staff role its requests act in.")] = Role.COORDINATOR,
    actor: Annotated[str | None, typer.Option(help="Who registers it (audit log); default cli:<user>.")] = None,
) -> None:
    """Register a SMART Backend Services client (private_key_jwt); it then gets tokens from /auth/token."""
    from vertebro.fhir.smart import register_client

    keys = _read_jwks(jwks)
    client = _committed(
        lambda uow: register_client(
            uow, client_id=client_id, name=name, jwks=keys, scope=scope, role=role, actor=_actor(actor)
        )
    )
    typer.echo(f"registered {client.client_id} ({client.role}): {client.scope}")


@fhir_app.command("revoke-client")
def revoke_client_command(
    client_id: Annotated[str, typer.Argument(help="The registered client or app id.")],
    actor: Annotated[str | None, typer.Option(help="Who revokes it (audit log); default cli:<user>.")] = None,
) -> None:
    """Revoke a SMART Backend Services client or app: every token it was given stops at once, it gets no new one."""
    from vertebro.fhir.smart import revoke_client

    client = _committed(lambda uow: revoke_client(uow, client_id=client_id, actor=_actor(actor)))
    typer.echo(f"revoked {client.client_id}: its tokens have ended")


@fhir_app.command("register-app")
def register_app_command(
    client_id: Annotated[str, typer.Argument(help="The app's client id.")],
    redirect_uri: Annotated[list[str], typer.Option(help="An exact redirect URI of the app (repeat for more).")],
    scope: Annotated[str, typer.Option(help="The user/ scopes it may ask for, space-separated (e.g. 'user/*.read').")],
    name: Annotated[str, typer.Option(help="The app's name, shown to staff when they authorize it.")] = "",
    jwks: Annotated[
        Path | None, typer.Option(help="The public JWKS of a confidential app (private_key_jwt); none: a public app.")
    ] = None,
    origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A web origin (scheme://host[:port]) the app runs on in a browser, allowed to call /fhir and "
            "/auth/token (CORS); repeat for more. Default: the origins of its redirect URIs."
        ),
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who registers it (audit log); default cli:<user>.")] = None,
) -> None:
    """Register a SMART app that staff may authorize (authorization code with PKCE, acting as the member of staff)."""
    from vertebro.fhir.smart_apps import register_app

    keys = None if jwks is None else _read_jwks(jwks)
    app = _committed(
        lambda uow: register_app(
            uow,
            client_id=client_id,
            name=name,
            redirect_uris=redirect_uri,
            scope=scope,
            jwks=keys,
            actor=_actor(actor),
            origins=origin,
        )
    )
    kind = "confidential" if app.jwks is not None else "public"
    typer.echo(f"registered app {app.client_id} ({kind}): {app.scope}")
    typer.echo(f"web origins: {' '.join(app.allowed_origins or []) or 'none'}")
