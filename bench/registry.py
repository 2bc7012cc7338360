"""Benchmark: the outcomes registry with 1,000,000 procedures and their follow-ups in PostgreSQL.

Generates (once; ``--reuse`` keeps the database between runs) patients, cases, fractures, workflows,
procedures with their levels, three follow-ups per procedure and complications, entirely inside
PostgreSQL (INSERT ... SELECT over generate_series: no row passes through Python). Then builds the
registry entries and times:

* the dashboard page (GET /registry through the app, signed in as the service lead) for the whole
  registry and for a filtered cohort;
* the de-identified export of the whole registry (CSV and Parquet).

Targets: dashboard under 1 s, export under 60 s on this machine.

    .venv/bin/python bench/registry.py [--procedures 1000000] [--reuse] [--runs 3] [--skip-export]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.registry import export as registry_export
from vertebro.registry import repository
from vertebro.store import migrate, staff_service
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.web.app import create_app

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "vertebro_bench_registry"
PASSWORD = "bench password 2026"
LEAD = "bench.lead"
TARGET_DASHBOARD_S = 1.0
TARGET_EXPORT_S = 60.0

GENERATE = [
    # one row of random draws per procedure, the source of every table below
    """
    CREATE UNLOGGED TABLE bench_draws AS
    SELECT g AS n, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           random() AS r6, random() AS r7, random() AS r8
    FROM generate_series(1, :procedures) AS g
    """,
    """
    INSERT INTO patients (id, identifier, name, birth_date, sex, created_at, version)
    SELECT n, 'B-' || lpad(n::text, 8, '0'), 'Bench Patient ' || n,
           DATE '1926-01-01' + (r1 * 18000)::int, CASE WHEN r2 < 0.75 THEN 'female' ELSE 'male' END,
           now() - interval '6 years', 1
    FROM bench_draws
    """,
    # requested 0-90 days before the procedure; procedures spread over the last five years
    """
    CREATE UNLOGGED TABLE bench_days AS
    SELECT n, (CURRENT_DATE - (r3 * 1825)::int) AS performed, (r4 * r4 * 90)::int AS wait FROM bench_draws
    """,
    """
    INSERT INTO cases (id, patient_id, facts, created_at, version)
    SELECT d.n, d.n,
           jsonb_build_object(
             'patient', jsonb_build_object('age', 80, 'sex', 'female'),
             'pain', jsonb_build_object('nrs', 5 + (r5 * 5.99)::int / 1),
             'function', jsonb_build_object('odi_percent', round((30 + r6 * 60)::numeric, 1), 'rdq', 8 + (r7 * 16)::int)
           ),
           (b.performed - b.wait)::timestamp AT TIME ZONE 'UTC' + interval '10 hours', 1
    FROM bench_draws d JOIN bench_days b USING (n)
    """,
    """
    INSERT INTO fractures (case_id, level, cause, onset_weeks)
    SELECT d.n, lv.level,
           CASE WHEN r8 < 0.80 THEN 'osteoporotic' WHEN r8 < 0.92 THEN 'metastasis'
                WHEN r8 < 0.95 THEN 'myeloma' ELSE 'unknown' END,
           CASE WHEN r1 < 0.05 THEN NULL ELSE round((r2 * 20)::numeric, 1)::float8 END
    FROM bench_draws d
    CROSS JOIN LATERAL (SELECT (ARRAY['L1','T12','L2'])[i] AS level
                        FROM generate_series(1, CASE WHEN d.r3 < 0.7 THEN 1 WHEN d.r3 < 0.92 THEN 2 ELSE 3 END) i) lv
    """,
    """
    INSERT INTO case_workflows (case_id, state, decision, decided_by, decided_at, checklist, insurance_status,
                                treatment, default_category, decision_category, updated_at, version)
    SELECT n, CASE WHEN r5 < 0.3 THEN 'closed' ELSE 'follow_up' END, 'accept', 'dr.bench', now(), '{}',
           'not_required', 'vertebroplasty',
           CASE WHEN r6 < 0.7 THEN 'appropriate' WHEN r6 < 0.95 THEN 'uncertain' ELSE 'not_appropriate' END,
           CASE WHEN r6 < 0.7 THEN 'appropriate' WHEN r6 < 0.95 THEN 'uncertain' ELSE 'not_appropriate' END,
           now(), 1
    FROM bench_draws
    """,
    """
    INSERT INTO procedures (id, case_id, operator, technique, sedation, started_at, ended_at, complications,
                            signed_by, signed_at, version)
    SELECT d.n, d.n, 'dr.op' || lpad((1 + (r7 * 23)::int)::text, 2, '0'),
           CASE WHEN r4 < 0.25 THEN 'kyphoplasty' ELSE 'vertebroplasty' END, r5 < 0.5,
           b.performed::timestamp AT TIME ZONE 'UTC' + interval '9 hours',
           b.performed::timestamp AT TIME ZONE 'UTC' + interval '10 hours',
           CASE WHEN r8 < 0.01 THEN '["vasovagal reaction"]'::jsonb ELSE '[]'::jsonb END,
           'dr.bench', now(), 1
    FROM bench_draws d JOIN bench_days b USING (n)
    """,
    """
    INSERT INTO procedure_levels (procedure_id, level, approach, guidance, contrast, cement_product,
                                  cement_volume_ml, leakage, leakage_symptomatic)
    SELECT f.case_id, f.level, 'bipedicular', 'fluoroscopy', false, 'PMMA', 2 + random() * 5,
           CASE WHEN random() < (CASE WHEN p.technique = 'kyphoplasty' THEN 0.2 ELSE 0.45 END)
                THEN (ARRAY['venous','disc','paravertebral','epidural'])[1 + (random() * 3)::int] ELSE 'none' END,
           random() < 0.004
    FROM fractures f JOIN procedures p ON p.case_id = f.case_id
    """,
    # three follow-ups each; done with probability 0.85 once due; scores improve over time
    """
    INSERT INTO follow_ups (case_id, visit, due_from, due_until, completed_at, nrs, odi_percent, rdq, recorded_by)
    SELECT c.id, v.visit, b.performed + v.lo, b.performed + v.hi,
           CASE WHEN done THEN (b.performed + v.lo + 2)::timestamp AT TIME ZONE 'UTC' END,
           CASE WHEN done THEN greatest(0, least(10, (c.facts #>> '{pain,nrs}')::int - v.gain
                                                   + (random() * 4)::int - 2)) END,
           CASE WHEN done THEN greatest(0, least(100, (c.facts #>> '{function,odi_percent}')::float8
                                                     - 5 * v.gain + random() * 20 - 10)) END,
           CASE WHEN done THEN greatest(0, least(24, (c.facts #>> '{function,rdq}')::int - v.gain
                                                   + (random() * 6)::int - 3)) END,
           CASE WHEN done THEN 'bench' END
    FROM cases c JOIN bench_days b ON b.n = c.id
    CROSS JOIN (VALUES ('2w', 14, 28, 3), ('3m', 84, 105, 4), ('12m', 358, 386, 4)) AS v(visit, lo, hi, gain)
    CROSS JOIN LATERAL (SELECT (b.performed + v.lo <= CURRENT_DATE AND random() < 0.85) AS done) AS x
    """,
    """
    INSERT INTO complications (case_id, kind, occurred_on, serious, recorded_by, recorded_at)
    SELECT d.n,
           (ARRAY['new_fracture','adjacent_fracture','cement_embolism','pain_flare','infection'])[1 + (r2 * 4)::int],
           b.performed + (r3 * 400)::int, r4 < 0.1, 'bench', now()
    FROM bench_draws d JOIN bench_days b USING (n)
    WHERE d.r1 > 0.94
    """,
    "SELECT setval(pg_get_serial_sequence('patients', 'id'), (SELECT max(id) FROM patients))",
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))",
    "SELECT setval(pg_get_serial_sequence('procedures', 'id'), (SELECT max(id) FROM procedures))",
    "DELETE FROM case_state_counts",
    "INSERT INTO case_state_counts (state, n) SELECT state, count(*) FROM case_workflows GROUP BY state",
    "DROP TABLE bench_draws",
    "DROP TABLE bench_days",
]


def _server() -> str:
    return os.environ.get("VERTEBRO_TEST_POSTGRES_URL", SERVER_URL)


def _url() -> str:
    return make_url(_server()).set(database=DATABASE).render_as_string(hide_password=False)


def _procedures_in(url: str) -> int | None:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM registry_entries")).scalar_one()
        engine.dispose()
    except Exception:  # no database yet
        return None
    return int(n)


def generate(url: str, procedures: int, console: Console) -> None:
    """Create the database and fill it inside PostgreSQL; then build the registry entries."""
    admin = create_engine(_server(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        # the bulk load bypasses the triggers (the registry is rebuilt as a whole below)
        conn.execute(text("SET session_replication_role = replica"))
        for statement in GENERATE:
            step = time.perf_counter()
            conn.execute(text(statement), {"procedures": procedures})
            console.print(
                f"  {statement.split()[0]} {statement.split()[2][:24]:24} {time.perf_counter() - step:6.1f} s"
            )
    console.print(f"Generated {procedures:,} procedures in {time.perf_counter() - started:.0f} s")
    build = time.perf_counter()
    with UnitOfWork(make_session_factory(engine)) as uow:
        repository.rebuild_all(uow.session)
        uow.commit()
    console.print(f"Built the registry entries in {time.perf_counter() - build:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _signed_in_client(url: str) -> TestClient:
    engine = make_engine(url)
    username = f"{LEAD}.{int(time.time())}"  # a fresh account per run: a TOTP code is accepted once
    with UnitOfWork(make_session_factory(engine)) as uow:
        secret = staff_service.create_user(
            uow, username=username, display_name="Bench Lead", role=Role.SERVICE_LEAD, password=PASSWORD, actor="bench"
        ).totp_secret
        uow.commit()
    engine.dispose()
    client = TestClient(create_app(Settings(database_url=url, secure_cookies=False)), follow_redirects=False)
    client.__enter__()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303
    assert client.post("/login/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 303
    return client


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a local process has used so far (the PostgreSQL backend of the export)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(client: TestClient, path: str, runs: int) -> tuple[float, float, int]:
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:500]
        size = len(response.content)
    return statistics.median(times), min(times), size


def main() -> None:
    """Generate (or reuse) the database, then time the dashboard and the export."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procedures", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep an existing benchmark database of this size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--generate-only", action="store_true", help="build the database and stop")
    args = parser.parse_args()
    console = Console()
    url = _url()
    existing = _procedures_in(url) if args.reuse else None
    if existing == args.procedures:
        console.print(f"Reusing {DATABASE} with {existing:,} procedures")
        migrate.upgrade(url)
    else:
        generate(url, args.procedures, console)
    if args.generate_only:
        return

    table = Table(title=f"Outcomes registry, {args.procedures:,} procedures (PostgreSQL, shared 2-core machine)")
    for column in ("what", "median", "best", "target"):
        table.add_column(column)
    client = _signed_in_client(url)
    cohort = "/registry?cause=osteoporotic&age=%3C6w&technique=vertebroplasty&from=2024-01-01"
    for label, path in (("dashboard, whole registry", "/registry"), ("dashboard, filtered cohort", cohort)):
        median, best, size = _time(client, path, args.runs)
        verdict = "met" if median < TARGET_DASHBOARD_S else "MISSED"
        console.print(f"{label}: median {median:.3f} s, best {best:.3f} s ({verdict})")
        table.add_row(f"{label} ({size // 1024} KiB)", f"{median:.3f} s", f"{best:.3f} s", f"< 1 s: {verdict}")
    client.__exit__(None, None, None)
    if not args.skip_export:
        engine = make_engine(url)
        settings = Settings(database_url=url, registry_salt="bench-salt-not-secret")
        for fmt in ("csv", "parquet"):
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                own = resource.getrusage(resource.RUSAGE_SELF)
                with UnitOfWork(make_session_factory(engine)) as uow:
                    backend = int(uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one())
                    server_before = _cpu_seconds(backend)
                    written = registry_export.export(
                        uow, Path(folder), fmt=fmt, salt=settings.registry_salt or "", actor="bench"
                    )
                    server = _cpu_seconds(backend) - server_before
                    uow.commit()
                elapsed = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_SELF)
                client = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
            verdict = "met" if elapsed < TARGET_EXPORT_S else "MISSED"
            cpu = f"CPU: exporter {client:.0f} s + PostgreSQL {server:.0f} s"
            console.print(f"export {fmt}: {written.rows:,} rows in {elapsed:.1f} s ({verdict}; {cpu})")
            table.add_row(f"export {fmt}, {written.rows:,} rows ({cpu})", f"{elapsed:.1f} s", "-", f"< 60 s: {verdict}")
        engine.dispose()
    console.print(table)
    console.print(f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on a machine shared with other work.")


if __name__ == "__main__":
    main()
