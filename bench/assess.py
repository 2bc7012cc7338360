"""Benchmark: full assessments per second on one core over 100,000 generated cases.

Re-assessing a registry after a ruleset change must be quick; the target is at least 10,000 full
assessments per second. Prints the figures: validation (strict parsing of the case JSON), assessment
alone, and both together. Run with `make bench` or `.venv/bin/python bench/assess.py [--cases N]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import time

from rich.console import Console
from rich.progress import track
from rich.table import Table

from vertebro.clinical import Case, assess
from vertebro.synthetic import case_stream

TARGET_PER_SECOND = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    console = Console()
    today = dt.date(2026, 11, 22)
    raw = [json.dumps(d) for d in track(case_stream(args.seed, args.cases, today), description="Generating cases")]

    gc.collect()
    t0 = time.perf_counter()
    cases = [Case.model_validate_json(text) for text in raw]
    t1 = time.perf_counter()
    treatments: dict[str, int] = {}
    for case in cases:
        result = assess(case, as_of=today)
        key = result.recommendation.treatment.value
        treatments[key] = treatments.get(key, 0) + 1
    t2 = time.perf_counter()

    n = len(cases)
    validate_rate = n / (t1 - t0)
    assess_rate = n / (t2 - t1)
    both_rate = n / (t2 - t0)
    table = Table(title=f"vertebro assessment benchmark: {n:,} generated cases, one core")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("per second", justify="right")
    table.add_column("µs per case", justify="right")
    for stage, seconds, rate in (
        ("strict validation of the case JSON", t1 - t0, validate_rate),
        ("full assessment (all 5 profiles, plans)", t2 - t1, assess_rate),
        ("validation + assessment", t2 - t0, both_rate),
    ):
        table.add_row(stage, f"{seconds:.2f}", f"{rate:,.0f}", f"{1e6 / rate:.1f}")
    console.print(table)
    console.print("recommendations: " + ", ".join(f"{k} {v:,}" for k, v in sorted(treatments.items())))
    verdict = "meets" if assess_rate >= TARGET_PER_SECOND else "MISSES"
    console.print(f"full assessments per second: {assess_rate:,.0f} ({verdict} the target of {TARGET_PER_SECOND:,}/s)")


if __name__ == "__main__":
    main()
