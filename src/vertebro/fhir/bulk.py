"""Bulk export: every patient's record as NDJSON, one file per resource type (FHIR Bulk Data file format).

Streams patients in batches (four queries per batch), writes plain dicts with ``json.dumps`` (no FHIR models)
and audits one read per exported patient, batch by batch, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO

from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow import Actor

BATCH = 500


def export_ndjson(
    uow: UnitOfWork,
    actor: Actor,
    out_dir: Path,
    *,
    since: dt.datetime | None = None,
    types: frozenset[str] | None = None,
    patient_ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write ``<Type>.ndjson`` files into ``out_dir`` and return how many resources of each type were written.

    ``since`` keeps patients changed at or after it; ``types`` keeps only those resource types; ``patient_ids``
    only those patients. ``progress`` is called with the number of patients done after each batch (it may
    commit the batch's read audit, or raise to stop). Nothing is committed here.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    repository = FhirRepository(uow.session)
    files: dict[str, IO[str]] = {}
    counts: dict[str, int] = {}
    after = 0
    try:
        while True:
            patients = repository.search_patients(since=since, ids=patient_ids, after_id=after, limit=BATCH)
            if not patients:
                break
            for record in repository.records(patients):
                for resource in record_resources(record):
                    kind = resource["resourceType"]
                    if types is not None and kind not in types:
                        continue
                    if kind not in files:
                        files[kind] = (out_dir / f"{kind}.ndjson").open("w", encoding="utf-8")
                    files[kind].write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
                    counts[kind] = counts.get(kind, 0) + 1
            uow.audit.append_reads(
                actor=actor.username,
                patient_ids=[p.id for p in patients],
                detail={"via": "fhir", "interaction": "export"},
                source=actor.source,
            )
            after = patients[-1].id
            if progress is not None:
                progress(len(patients))
    finally:
        for handle in files.values():
            handle.close()
    return counts
