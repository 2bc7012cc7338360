"""FHIR throughput on one core: bulk NDJSON export and import, beside fhir.resources parsing speed.

    .venv/bin/python bench/fhir.py [--patients 10000]

Setup (not timed) stores N synthetic assessed cases in a fresh SQLite database. Timed: ``export_ndjson``
of every record; ``import_resources`` of those files into a second empty database (reading each patient
back into a case, re-assessing it and storing it, with the reading report of each case as ``vertebro fhir import``
stores it unless ``--reader case``); and ``fhir.resources.R4B`` parsing a sample of the
exported resources (a sample spread over every type, each model class built before timing). Targets: export
>= 20,000 resources/s, import >= 2,000 resources/s. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from vertebro.clinical import Case, assess, assessment_json
from vertebro.fhir.bulk import export_ndjson
from vertebro.fhir.importer import import_resources, read_resources
from vertebro.intake.fhir_bundle import case_from_resources, fracture_of
from vertebro.intake.fhir_bundle import read_resources as read_with_sources
from vertebro.pathway.machine import Role
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.service import record_assessment
from vertebro.store.workflow import Actor
from vertebro.synthetic import case_stream

ACTOR = Actor("bench", Role.SERVICE_LEAD, "bench")


def _database(folder: Path, name: str) -> UnitOfWork:
    url = f"sqlite:///{folder / name}.db"
    migrate.upgrade(url)
    return UnitOfWork(make_session_factory(make_engine(url)))


def main() -> None:
    """Run the benchmark and print resources per second."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2_000, help="resources parsed by fhir.resources")
    parser.add_argument(
        "--reader",
        choices=("cli", "case"),
        default="cli",
        help="cli: what `vertebro fhir import` runs (the reading report, fact sources stored with each case); "
        "case: the bare case reader (the figures before decision 0031)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with _database(folder, "source") as uow:
            for n, data in enumerate(case_stream(7, args.patients, dt.date(2026, 11, 22))):
                data["patient"]["identifier"] = f"B-{n:06d}"
                case = Case.model_validate_json(json.dumps(data))
                assessment = assess(case)
                record_assessment(uow, case, assessment, assessment_json(assessment), actor="bench", source="bench")
            uow.commit()
        with _database(folder, "source") as uow:
            start, cpu = time.perf_counter(), time.process_time()
            counts = export_ndjson(uow, ACTOR, folder / "out")
            uow.commit()
            export_seconds, export_cpu = time.perf_counter() - start, time.process_time() - cpu
        exported = sum(counts.values())
        entries = list(read_resources(folder / "out"))
        with _database(folder, "target") as uow:
            start, cpu = time.perf_counter(), time.process_time()
            summary = import_resources(
                uow,
                entries,
                reader=read_with_sources if args.reader == "cli" else case_from_resources,
                actor="bench",
                source="bench",
                fracture=fracture_of,
            )
            uow.commit()
            import_seconds, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        here = str(Path(__file__).resolve().parent)  # this file is named fhir.py: keep it from shadowing fhir.resources
        sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]
        from fhir.resources.R4B import get_fhir_model_class

        step = max(1, len(entries) // args.sample)  # every type in its share, not the first file's resources only
        sample = [(r["resourceType"], json.dumps(r)) for _, r in entries[::step][: args.sample]]
        for kind, text in {kind: text for kind, text in sample}.items():  # build each model class before timing
            get_fhir_model_class(kind).model_validate_json(text)
        start = time.perf_counter()
        for kind, text in sample:
            get_fhir_model_class(kind).model_validate_json(text)
        parse_rate = len(sample) / (time.perf_counter() - start)
    export_rate, import_rate = exported / export_seconds, len(entries) / import_seconds
    print(
        f"patients: {args.patients}, resources exported: {exported} ({len(summary.created)} patients re-imported, "
        f"reader: {args.reader})"
    )
    print(f"export:  {export_rate:10,.0f} resources/s  (target 20,000)  {export_seconds:.2f} s, {export_cpu:.2f} s CPU")
    print(f"import:  {import_rate:10,.0f} resources/s  (target  2,000)  {import_seconds:.2f} s, {import_cpu:.2f} s CPU")
    print(f"fhir.resources R4B parse: {parse_rate:10,.0f} resources/s")
    print(f"export / fhir.resources parse: {export_rate / parse_rate:.1f}x")
    print(f"import / fhir.resources parse: {import_rate / parse_rate:.2f}x")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
