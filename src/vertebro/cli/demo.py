"""The demo: load the demo patients once, assess them, and print the worklist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from vertebro.cli.boundary import unit_of_work
from vertebro.clinical import assess, assessment_json
from vertebro.config import Settings
from vertebro.intake.case_file import read_case
from vertebro.store import service
from vertebro.store.base import clinic_today

DEMO_CASES = Path(__file__).resolve().with_name("demo_cases")
DEMO_ACTOR = "demo:loader"
# Days from today to each demo patient's procedure date, so that the dates stay meaningful.
PROCEDURE_IN_DAYS = {"DEMO-0001": 21, "DEMO-0002": 4, "DEMO-0005": 14, "DEMO-0008": 28}
_STYLE = {"appropriate": "green", "uncertain": "yellow", "not_appropriate": "red", "contraindicated": "magenta"}


def load_demo(settings: Settings, console: Console) -> int:
    """Assess and store every demo case whose patient is not yet in the database; return how many."""
    files = sorted(DEMO_CASES.glob("*.yaml"))
    policy = settings.policy()
    today = clinic_today(policy.time_zone)
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
            service.record_assessment(
                uow, case, assessment, assessment_json(assessment), actor=DEMO_ACTOR, source="demo"
            )
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
            escape(row.patient_identifier),
            escape(row.patient_name or "-"),
            escape(", ".join(row.levels)),
            escape(row.default_profile),
            f"[{_STYLE.get(row.default_category, 'white')}]{escape(row.default_category)}[/]",
            escape(row.treatment.replace("_", " ")),
            escape(row.ruleset_version),
            row.assessed_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    console.print(f"{len(rows)} case(s). Decision support only: it does not replace clinical judgement.")


def run_demo(settings: Settings, console: Console) -> None:
    """Load the demo data (idempotent), print the worklist and the demo logins."""
    loaded = load_demo(settings, console)
    console.print(f"Loaded {loaded} new demo patient(s) into {settings.database_url}.")
    print_worklist(settings, console, actor="demo:viewer")
    ensure_demo_staff(settings, console)
    ensure_demo_patient(settings, console)
    console.print(
        "See one assessment in full: vertebro assess src/vertebro/cli/demo_cases/01-acute-osteoporotic-l1.yaml"
    )


DEMO_USERS = (
    ("demo.coordinator", "Casey Coordinator", "coordinator"),
    ("demo.nurse", "Noor Nurse", "nurse"),
    ("demo.radiologist", "Dr Rui Radiologist", "radiologist"),
    ("demo.lead", "Lee Service-Lead", "service_lead"),
    ("demo.admin", "Ada Admin", "admin"),
)
DEMO_PASSWORD_SUFFIX = "-demo-password"


def ensure_demo_staff(settings: Settings, console: Console) -> None:
    """Create the demo accounts (one per role) and the booking calendar, then print the logins."""
    from vertebro.pathway.machine import Role
    from vertebro.store import staff_service, workflow

    rows = []
    with unit_of_work(settings.database_url) as uow:
        for username, display, role in DEMO_USERS:
            user = uow.users.get_by_username(username)
            password = username.split(".")[1] + DEMO_PASSWORD_SUFFIX
            if user is None:
                created = staff_service.create_user(
                    uow,
                    username=username,
                    display_name=display,
                    role=Role(role),
                    password=password,
                    actor=DEMO_ACTOR,
                )
                secret = created.totp_secret
            else:
                secret = user.totp_secret or ""
            rows.append((role, username, password, secret))
        added = workflow.ensure_calendar(
            uow, settings.rooms, clinic_today(settings.timezone), 42, zone_name=settings.timezone
        )
        uow.commit()
    table = Table(title="Demo logins (demo only: never use these accounts with real patients)", title_justify="left")
    for column in ("role", "username", "password", "TOTP secret (add to an authenticator app)"):
        table.add_column(column)
    for role, username, password, secret in rows:
        table.add_row(role, username, password, secret)
    console.print(table)
    console.print(
        "The second step asks for a 6-digit code: scan the secret into an authenticator app, or print the "
        "current code with: .venv/bin/vertebro demo-code USERNAME"
    )
    if added:
        console.print(f"Created {added} calendar slots ({', '.join(settings.rooms)}, weekdays 08:00-17:00).")


def demo_code(settings: Settings, username: str) -> str:
    """Return the current TOTP code of a demo account (only accounts named demo.*)."""
    from vertebro.store import credentials

    if not username.startswith("demo."):
        raise ValueError("only demo accounts (demo.*) have their codes printed")
    with unit_of_work(settings.database_url) as uow:
        user = uow.users.get_by_username(username)
        if user is None or user.totp_secret is None:
            raise ValueError(f"no demo account {username!r}: run `vertebro demo` first")
        return credentials.totp_now(user.totp_secret)


DEMO_PATIENT = "DEMO-0001"
DEMO_PATIENT_REFERENCE = "VB-DEMOPT"
DEMO_PATIENT_PASSWORD = "patient-demo-password"


def ensure_demo_patient(settings: Settings, console: Console) -> None:
    """Give the first demo patient a portal account (activated) and print its sign-in."""
    from vertebro.store import credentials
    from vertebro.store.base import utc_now
    from vertebro.store.models import PatientAccount

    with unit_of_work(settings.database_url) as uow:
        patient = uow.patients.get_by_identifier(DEMO_PATIENT)
        if patient is None:
            return
        if uow.portal.account_for_patient(patient.id) is None:
            account = PatientAccount(
                patient_id=patient.id,
                reference=DEMO_PATIENT_REFERENCE,
                email="demo.patient@example.org",
                password_hash=credentials.hash_password(DEMO_PATIENT_PASSWORD),
                activated_at=utc_now(),
            )
            uow.portal.add(account)
            uow.audit.append(
                actor=DEMO_ACTOR,
                action="create",
                entity_type="patient_account",
                entity_id=account.id,
                patient_id=patient.id,
            )
        uow.commit()
    console.print(
        f"Demo patient portal (demo only): http://127.0.0.1:8000/portal  sign in as {DEMO_PATIENT_REFERENCE} "
        f"with password {DEMO_PATIENT_PASSWORD}. In demo mode the activation link of a new request is shown on "
        "screen and staff see the messages at /outbox."
    )
