"""Soak: the server and two job workers on PostgreSQL under twice bench/web.py's target rate, for minutes.

Sets up like ``bench/web.py`` (its generated patients, its bench user, its load client) in a database of its
own, then runs ``vertebro serve --workers 2`` and two ``vertebro worker`` processes. A separate load process
sends the worklist, chart and assessment API requests mixed at ``--rate`` requests per second (open loop),
and every ``--export-every`` seconds a FHIR ``$export`` kick-off that the workers run. Prints the errors
(target 0: any non-2xx answer, timeout, or export job not complete at the end), the latency percentiles,
and the resident memory (RSS) of the server and worker processes at the start and the end.

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 200] [--patients 100000] [--reuse]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from vertebro.store import migrate
from vertebro.store.db import make_engine

HERE = Path(__file__).resolve().parent
DATABASE = "vertebro_bench_soak"
WEB_TARGET_RATE = 100.0  # bench/web.py's target: requests per second


def _web() -> ModuleType:
    """bench/web.py as a module (its set-up and load client), pointed at the soak's own database."""
    spec = importlib.util.spec_from_file_location("bench_web", HERE / "web.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.DATABASE = DATABASE
    return module


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


async def _load(spec: dict[str, Any], rate: float, seconds: float, export_every: float) -> dict[str, Any]:
    web = _web()
    rng = random.Random(11)
    ids = [tuple(x) for x in spec["ids"]]
    host, port = spec["base"].removeprefix("http://").split(":")
    client = web._Connections(host, int(port), spec["token"])
    exports = web._Connections(host, int(port), spec["token"])
    exports.head = exports.head.replace("Accept: */*", "Accept: */*\r\nPrefer: respond-async")
    paths = {
        "worklist": lambda: (
            f"/?state={rng.choice(web.STATES)}" if rng.random() < 0.7 else f"/?q=B{rng.randrange(100000):07d}"
        ),
        "chart": lambda: f"/patients/{rng.choice(ids)[0]}",
        "assessment API": lambda: f"/api/cases/{rng.choice(ids)[1]}",
    }
    latencies: dict[str, list[float]] = {name: [] for name in [*paths, "$export kick-off"]}
    errors: dict[str, int] = {name: 0 for name in latencies}
    kinds: dict[str, int] = {}  # what went wrong: an HTTP status or an exception's name

    def failed(name: str, kind: str) -> None:
        errors[name] += 1
        kinds[kind] = kinds.get(kind, 0) + 1

    async def one(name: str, connections: Any, path: str, due: float, expected: int) -> None:
        try:
            status = await asyncio.wait_for(connections.get(path), timeout=30)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as error:
            failed(name, type(error).__name__)
            return
        if status == expected:
            latencies[name].append((time.perf_counter() - due) * 1000)
        else:
            failed(name, f"HTTP {status}")

    names = list(paths)
    tasks = []
    interval = 1.0 / rate
    start = time.perf_counter()
    next_export = start
    for n in range(int(rate * seconds)):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        name = rng.choice(names)
        tasks.append(asyncio.create_task(one(name, client, paths[name](), due, 200)))
        if due >= next_export:
            path = "/fhir/Group/state-closed/$export?_type=Patient"
            tasks.append(asyncio.create_task(one("$export kick-off", exports, path, due, 202)))
            next_export += export_every
    await asyncio.gather(*tasks)
    client.close()
    exports.close()
    return {"latencies": latencies, "errors": errors, "kinds": kinds}


def _wait_for_port(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=2 * WEB_TARGET_RATE, help="requests per second, all kinds")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--job-workers", type=int, default=2, help="`vertebro worker` processes")
    parser.add_argument("--export-every", type=float, default=30.0, help="seconds between $export kick-offs")
    parser.add_argument("--reuse", action="store_true", help="reuse the soak database if it has --patients")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seconds = args.minutes * 60
    if args.load:  # the separate load-generating process
        spec = json.loads(Path(args.load).read_text(encoding="utf-8"))
        print(json.dumps(asyncio.run(_load(spec, args.rate, seconds, args.export_every))))
        return

    console = Console()
    web = _web()
    existing = web._existing(args.patients) if args.reuse else None
    if existing is None:
        url = web._database_url()
        migrate.upgrade(url)
        t0 = time.perf_counter()
        ids = web._fill(url, args.patients, console)
        console.print(f"filled {args.patients:,} patients in {time.perf_counter() - t0:.0f} s")
        token = web._token(url)
    else:
        url, ids = existing
        migrate.upgrade(url)
        console.print(f"reusing the soak database with {len(ids):,} patients")
        token = web._new_token(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exports = tempfile.mkdtemp(prefix="vertebro-soak-exports-")
    env = {**os.environ, "VERTEBRO_DATABASE_URL": url, "VERTEBRO_EXPORT_DIR": exports}
    quiet: dict[str, Any] = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    command = [sys.executable, "-m", "vertebro"]
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", str(args.workers)], **quiet)
    workers = [
        subprocess.Popen([*command, "worker", "--concurrency", "1", "--name", f"soak-{n}"], **quiet)
        for n in range(args.job_workers)
    ]
    engine = make_engine(url)
    with engine.begin() as connection:  # count only this run's export jobs
        connection.execute(text("DELETE FROM fhir_export_jobs"))
    try:
        _wait_for_port(port)
        time.sleep(3)
        sample = random.Random(1).sample(ids, min(5000, len(ids)))
        spec_file = Path(tempfile.mkstemp(suffix=".json")[1])
        spec_file.write_text(json.dumps({"base": f"http://127.0.0.1:{port}", "token": token, "ids": sample}))
        rss_start = {"server": _rss_kib(server.pid), **{f"worker {n}": _rss_kib(w.pid) for n, w in enumerate(workers)}}
        console.print(
            f"soak: {args.rate:g} requests/s for {args.minutes:g} min, {args.workers} server workers, "
            f"{args.job_workers} job workers, an $export every {args.export_every:g} s"
        )
        load = subprocess.run(
            [
                sys.executable,
                __file__,
                "--minutes",
                str(args.minutes),
                "--rate",
                str(args.rate),
                "--export-every",
                str(args.export_every),
                "--load",
                str(spec_file),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        spec_file.unlink()
        rss_end = {"server": _rss_kib(server.pid), **{f"worker {n}": _rss_kib(w.pid) for n, w in enumerate(workers)}}
        if load.returncode != 0:
            console.print(load.stderr[-3000:])
            raise SystemExit("the load process failed")
        result: dict[str, Any] = json.loads(load.stdout)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # let the workers finish the last exports
            with engine.connect() as connection:
                statuses = dict(
                    connection.execute(text("SELECT status, count(*) FROM fhir_export_jobs GROUP BY status")).all()
                )
            if not set(statuses) - {"complete", "failed"}:
                break
            time.sleep(1)
    finally:
        _stop(server)
        for worker in workers:
            _stop(worker)
        engine.dispose()

    latencies: dict[str, list[float]] = result["latencies"]
    errors: dict[str, int] = result["errors"]
    unfinished = sum(count for status, count in statuses.items() if status != "complete")
    table = Table(
        title=f"vertebro soak: {args.minutes:g} min at {args.rate:g} req/s on PostgreSQL ({len(ids):,} patients)"
    )
    for column in ("requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_column("endpoint", justify="left")
    every = [value for values in latencies.values() for value in values]
    rows = [*latencies.items(), ("all", every)]
    for name, values in rows:
        failed = sum(errors.values()) if name == "all" else errors[name]
        if len(values) < 2:
            table.add_row(str(len(values)), str(failed), "-", "-", "-", "-", name)
            continue
        table.add_row(
            str(len(values)),
            str(failed),
            *(f"{web._percentile(values, q):.1f}" for q in (50, 95, 99)),
            f"{max(values):.1f}",
            name,
        )
    console.print(table)
    console.print(f"export jobs: {dict(statuses)} (not complete at the end: {unfinished})")
    for name in rss_start:
        growth = rss_end[name] - rss_start[name]
        console.print(
            f"RSS {name}: {rss_start[name] / 1024:.0f} MiB at the start, {rss_end[name] / 1024:.0f} MiB at the end "
            f"({growth / 1024:+.0f} MiB)"
        )
    if result["kinds"]:
        console.print(f"errors by kind: {result['kinds']}")
    total_errors = sum(errors.values()) + unfinished
    console.print(f"errors: {total_errors} (target 0); p99 of all requests: {web._percentile(every, 99):.1f} ms")


if __name__ == "__main__":
    main()
