"""`vertebro reminders queue|send`: queue the reminders that are due (idempotent) and deliver the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

from vertebro.cli.boundary import unit_of_work
from vertebro.config import Settings
from vertebro.errors import VertebroError

reminders_app = typer.Typer(help="Reminders to patients through the outbox (e-mail via SMTP).", no_args_is_help=True)


@reminders_app.command("queue")
def queue_command(
    today: Annotated[str | None, typer.Option(help="The day to queue for (YYYY-MM-DD); default today.")] = None,
) -> None:
    """Queue every reminder due: questionnaires, appointments in the next 3 days, medicine holds, the day before.

    Safe to run as often as you like (e.g. hourly from cron): a reminder already queued is not queued again.
    """
    from vertebro.store.clinic_settings import stored_policy
    from vertebro.store.portal.reminders import queue_due_reminders

    settings = Settings()
    try:
        day = dt.date.fromisoformat(today) if today else settings.clinic().local(dt.datetime.now(dt.UTC)).date()
    except ValueError:
        Console(stderr=True).print(f"today: {today!r} is not a date (YYYY-MM-DD)", markup=False)
        raise typer.Exit(2) from None
    try:
        with unit_of_work(settings.database_url) as uow:
            queued = queue_due_reminders(uow, today=day, policy=stored_policy(uow, settings.policy()))
            uow.commit()
    except VertebroError as exc:
        Console(stderr=True).print(str(exc), markup=False)
        raise typer.Exit(1) from None
    typer.echo(
        f"queued {queued.follow_ups} questionnaire reminder(s), {queued.appointments} appointment reminder(s) and "
        f"{queued.preparation} preparation reminder(s), {queued.team} reminder(s) to the team of requests to change "
        "an appointment still open; "
        f"{queued.already_queued} were queued before"
    )


@reminders_app.command("send")
def send_command(limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 500) -> None:
    """Deliver the queued messages through the configured outbox (SMTP; demo mode keeps them for /outbox)."""
    from vertebro.messaging.outbox import deliver_pending, outbox_from_settings

    settings = Settings()
    outbox = outbox_from_settings(settings)
    with unit_of_work(settings.database_url) as uow:
        delivery = deliver_pending(uow, outbox, limit=limit)
        uow.commit()
    typer.echo(f"{outbox.name} outbox: {delivery.sent} sent, {delivery.failed} failed (left queued with the reason)")
    if delivery.failed:
        raise typer.Exit(1)
