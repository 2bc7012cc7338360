"""FHIR throughput on one core: bulk NDJSON export and import, beside fhir.resources parsing speed.

    .venv/bin/python bench/fhir.py [--patients 10000]

Setup (not timed) stores N synthetic assessed cases in a fresh SQLite database. Timed: ``export_ndjson``
of every record; ``import_resources`` of those files into a second empty database (reading each patient
back into a case, re-assessing it and storing it); and ``fhir.resources.R4B`` parsing a sample of the
exported resources. Targets: export >= 20,000 resources/s, import >= 2,000 resources/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from vertebro.clinical import Case, assess, assessment_json
from vertebro.fhir.bulk import export_ndjson
from vertebro.fhir.importer import import_resources, read_resources
from vertebro.intake.fhir_bundle import case_from_resources, fracture_of
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
            start = time.perf_counter()
            counts = export_ndjson(uow, ACTOR, folder / "out")
            uow.commit()
            export_seconds = time.perf_counter() - start
        exported = sum(counts.values())
        entries = list(read_resources(folder / "out"))
        with _database(folder, "target") as uow:
            start = time.perf_counter()
            summary = import_resources(
                uow, entries, reader=case_from_resources, actor="bench", source="bench", fracture=fracture_of
            )
            uow.commit()
            import_seconds = time.perf_counter() - start
        here = str(Path(__file__).resolve().parent)  # this file is named fhir.py: keep it from shadowing fhir.resources
        sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]
        from fhir.resources.R4B import get_fhir_model_class

        sample = [json.dumps(r) for _, r in entries[: args.sample]]
        start = time.perf_counter()
        for text, (_, resource) in zip(sample, entries, strict=False):
            get_fhir_model_class(resource["resourceType"]).model_validate_json(text)
        parse_rate = len(sample) / (time.perf_counter() - start)
    export_rate, import_rate = exported / export_seconds, len(entries) / import_seconds
    print(f"patients: {args.patients}, resources exported: {exported} ({len(summary.created)} patients re-imported)")
    print(f"export:  {export_rate:10,.0f} resources/s  (target 20,000)  {export_seconds:.2f} s")
    print(f"import:  {import_rate:10,.0f} resources/s  (target  2,000)  {import_seconds:.2f} s")
    print(f"fhir.resources R4B parse: {parse_rate:10,.0f} resources/s")
    print(f"export / fhir.resources parse: {export_rate / parse_rate:.1f}x")
    print(f"import / fhir.resources parse: {import_rate / parse_rate:.2f}x")


if __name__ == "__main__":
    main()
