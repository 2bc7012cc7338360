"""Benchmark: latency of the worklist, the chart and the assessment API with 100,000 patients in PostgreSQL.

A server (``vertebro serve``) runs on a throw-away PostgreSQL database filled with generated patients;
a separate load process sends requests at a steady rate (open loop: requests are sent on schedule
whether or not earlier ones have answered) and records each latency. Prints p50/p95/p99 per endpoint.
Target: p95 under 100 ms at 100 requests/s on this 2-core machine.

    .venv/bin/python bench/web.py [--patients 100000] [--rate 100] [--seconds 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store import credentials, migrate, staff_service, workflow
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.models import Assessment, CaseWorkflow, Fracture, Patient, WebSession
from vertebro.store.models import Case as CaseRow
from vertebro.synthetic import case_data

SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "vertebro_bench_web"
STATES = ("requested", "screening", "eligible", "prepared", "scheduled", "follow_up", "closed", "declined")
TARGET_P95_MS = 100.0


def _existing(patients: int) -> tuple[str, list[tuple[int, int]]] | None:
    """Return the benchmark database and its ids when it already holds exactly ``patients`` patients."""
    server = make_url(os.environ.get("VERTEBRO_TEST_POSTGRES_URL", SERVER_URL))
    url = server.set(database=DATABASE).render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            ids = [(int(p), int(c)) for p, c in conn.execute(text("SELECT patient_id, id FROM cases ORDER BY id"))]
        engine.dispose()
    except Exception:  # no database yet
        return None
    return (url, ids) if len(ids) == patients else None


def _database_url() -> str:
    server = make_url(os.environ.get("VERTEBRO_TEST_POSTGRES_URL", SERVER_URL))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return server.set(database=DATABASE).render_as_string(hide_password=False)


def _fill(url: str, patients: int, console: Console) -> list[tuple[int, int]]:
    """Insert generated patients, cases, fractures, workflows and assessments; return (patient, case) ids."""
    engine = make_engine(url)
    rng = random.Random(20261122)
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    ids: list[tuple[int, int]] = []
    batch = 1000
    with Progress(console=console) as progress, engine.begin() as conn:
        task = progress.add_task(f"Generating {patients:,} patients", total=patients)
        for start in range(0, patients, batch):
            rows_p, rows_c, rows_f, rows_w, rows_a = [], [], [], [], []
            for i in range(start, min(start + batch, patients)):
                data = case_data(rng, today)
                data["patient"]["identifier"] = f"B{i:07d}"
                data["patient"]["name"] = f"Bench Patient {i:07d}"
                case = Case.model_validate_json(json.dumps(data))
                a = assess(case, as_of=today)
                result = assessment_json(a)
                result.pop("rules")
                result.pop("sources")
                pid = cid = i + 1
                rows_p.append(
                    {
                        "id": pid,
                        "identifier": data["patient"]["identifier"],
                        "name": data["patient"]["name"],
                        "sex": case.patient.sex,
                        "created_at": now,
                        "version": 1,
                    }
                )
                rows_c.append(
                    {
                        "id": cid,
                        "patient_id": pid,
                        "facts": case.model_dump(mode="json"),
                        "procedure_date": case.procedure_date,
                        "created_at": now,
                        "version": 1,
                    }
                )
                for f in case.fractures:
                    rows_f.append(
                        {
                            "case_id": cid,
                            "level": f.level,
                            "cause": f.cause,
                            "onset_weeks": f.onset_weeks,
                            "mri_edema": f.mri_edema,
                            "bone_scan_uptake": f.bone_scan_uptake,
                            "height_loss_percent": f.height_loss_percent,
                            "genant_grade": None,
                        }
                    )
                default = a.default_verdict
                rows_w.append(
                    {
                        "case_id": cid,
                        "state": rng.choice(STATES),
                        "checklist": {},
                        "insurance_status": "unknown",
                        "treatment": a.recommendation.treatment.value,
                        "default_category": default.category.value,
                        "updated_at": now - dt.timedelta(minutes=rng.randint(0, 500_000)),
                        "version": 1,
                    }
                )
                rows_a.append(
                    {
                        "case_id": cid,
                        "ruleset_version": a.ruleset_version,
                        "default_profile": default.profile,
                        "default_category": default.category.value,
                        "treatment": a.recommendation.treatment.value,
                        "result": result,
                        "created_at": now,
                    }
                )
                ids.append((pid, cid))
            for table, rows in (
                (Patient, rows_p),
                (CaseRow, rows_c),
                (Fracture, rows_f),
                (CaseWorkflow, rows_w),
                (Assessment, rows_a),
            ):
                conn.execute(insert(table), rows)
            progress.advance(task, len(rows_p))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('patients', 'id'), (SELECT max(id) FROM patients))"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load (flushes GIN pending lists)
    engine.dispose()
    return ids


def _token(url: str) -> str:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        user = staff_service.create_user(
            uow,
            username="bench.nurse",
            display_name="Bench",
            role=Role.NURSE,
            password="bench password 1",
            actor="bench",
        ).user
        token = credentials.new_token()
        uow.web_sessions.add(
            WebSession(
                id=credentials.token_digest(token),
                user_id=user.id,
                csrf_token=credentials.new_token(),
                mfa_passed=True,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=12),
            )
        )
        workflow.ensure_calendar(uow, ("Room 1", "Room 2"), dt.date.today(), 28)
        uow.commit()
    engine.dispose()
    return token


def _new_token(url: str) -> str:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        user = uow.users.get_by_username("bench.nurse")
        assert user is not None, "the benchmark database has no bench user: run without --reuse"
        token = credentials.new_token()
        uow.web_sessions.add(
            WebSession(
                id=credentials.token_digest(token),
                user_id=user.id,
                csrf_token=credentials.new_token(),
                mfa_passed=True,
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=12),
            )
        )
        uow.commit()
    engine.dispose()
    return token


class _Connections:
    """Keep-alive HTTP/1.1 connections to the server, one request at a time on each (O(1) per request).

    httpx's connection pool scans every pending request against every connection, so with a few hundred
    requests in flight the load process itself became the bottleneck and its latency was charged to the
    server. This client opens a connection when none is idle and reuses it afterwards.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\n\r\n"

    async def get(self, path: str) -> int:
        """Send one GET and read the whole response; return its status code."""
        status_line = b""
        while not status_line:
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
            writer.write(f"GET {path} HTTP/1.1\r\n{self.head}".encode())
            status_line = await reader.readline()
            if not status_line:  # the server closed an idle keep-alive connection: send again on another
                writer.close()
                if not reused:
                    raise ConnectionError("the server closed a new connection")
        status = int(status_line.split()[1])
        length, chunked, keep = 0, False, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                keep = False
        if chunked:
            while size := int((await reader.readline()).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readline()
        else:
            await reader.readexactly(length)
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status

    def close(self) -> None:
        """Close every idle connection."""
        for _, writer in self.idle:
            writer.close()


async def _load(
    base: str, token: str, ids: list[tuple[int, int]], rate: float, seconds: float
) -> dict[str, list[float]]:
    rng = random.Random(7)
    endpoints = {
        "worklist": lambda: (
            f"/?state={rng.choice(STATES)}" if rng.random() < 0.7 else f"/?q=B{rng.randrange(100000):07d}"
        ),
        "chart": lambda: f"/patients/{rng.choice(ids)[0]}",
        "assessment API": lambda: f"/api/cases/{rng.choice(ids)[1]}",
    }
    latencies: dict[str, list[float]] = {name: [] for name in endpoints}
    errors: dict[str, int] = {name: 0 for name in endpoints}
    host, port = base.removeprefix("http://").split(":")
    client = _Connections(host, int(port), token)

    async def one(name: str, path: str, due: float) -> None:
        try:
            status = await asyncio.wait_for(client.get(path), timeout=30)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            errors[name] += 1  # a timeout counts as a failure, not as a latency
            return
        # measured from when the request was due (open loop): time spent waiting to be sent counts too
        elapsed = (time.perf_counter() - due) * 1000
        if status == 200:
            latencies[name].append(elapsed)
        else:
            errors[name] += 1

    for name, make_path in endpoints.items():
        for _ in range(5):
            await client.get(make_path())  # warm up
        tasks = []
        interval = 1.0 / rate
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            due = start + n * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(name, make_path(), due)))
        await asyncio.gather(*tasks)
    client.close()
    for name, count in errors.items():
        if count:
            print(f"{name}: {count} failed requests (timeout or non-200)", file=sys.stderr)
    return latencies


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="reuse the benchmark database if it has --patients")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:  # the separate load-generating process
        with open(args.load, encoding="utf-8") as handle:
            spec = json.load(handle)
        result = asyncio.run(
            _load(spec["base"], spec["token"], [tuple(x) for x in spec["ids"]], args.rate, args.seconds)
        )
        print(json.dumps(result))
        return

    console = Console()
    existing = _existing(args.patients) if args.reuse else None
    if existing is None:
        url = _database_url()
        migrate.upgrade(url)
        t0 = time.perf_counter()
        ids = _fill(url, args.patients, console)
        console.print(f"filled {args.patients:,} patients in {time.perf_counter() - t0:.0f} s")
        token = _token(url)
    else:
        url, ids = existing
        console.print(f"reusing the benchmark database with {len(ids):,} patients")
        token = _new_token(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VERTEBRO_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "vertebro", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)
        sample = random.Random(1).sample(ids, min(5000, len(ids)))
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"base": f"http://127.0.0.1:{port}", "token": token, "ids": sample}, handle)
        console.print(f"load: {args.rate:g} requests/s for {args.seconds:g} s per endpoint, from a separate process")
        load = subprocess.run(
            [sys.executable, __file__, "--rate", str(args.rate), "--seconds", str(args.seconds), "--load", handle.name],
            capture_output=True,
            text=True,
            check=False,
        )
        os.unlink(handle.name)
        if load.returncode != 0:
            console.print(load.stderr[-3000:])
            raise SystemExit("the load process failed")
        latencies: dict[str, list[float]] = json.loads(load.stdout)
        if load.stderr:
            console.print(load.stderr[-2000:])
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    table = Table(
        title=f"vertebro web latency: {args.patients:,} patients in PostgreSQL, {args.rate:g} req/s, "
        f"{args.workers} server worker(s)"
    )
    for column in ("endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", f"p95 < {TARGET_P95_MS:g} ms"):
        table.add_column(column, justify="right" if column != "endpoint" else "left")
    for name, values in latencies.items():
        if len(values) < 2:
            table.add_row(name, str(len(values)), "-", "-", "-", "-", "NO")
            continue
        p95 = _percentile(values, 95)
        table.add_row(
            name,
            str(len(values)),
            f"{_percentile(values, 50):.1f}",
            f"{p95:.1f}",
            f"{_percentile(values, 99):.1f}",
            f"{max(values):.1f}",
            "yes" if p95 < TARGET_P95_MS else "NO",
        )
    console.print(table)


if __name__ == "__main__":
    main()
