"""Bulk export: every patient's record as NDJSON, one file per resource type (FHIR Bulk Data file format).

Streams patients in batches (a fixed number of queries per batch), builds plain dicts (no FHIR models), writes
them with orjson (byte for byte what ``json.dumps(separators=(",", ":"), ensure_ascii=False)`` writes: see
:func:`ndjson_line`) and audits one read per exported patient, batch by batch, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO

import orjson

from vertebro.fhir.elements import Resource
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow import Actor

BATCH = 500
_SHORT_EXPONENT = re.compile(rb"e-\d[,}\]]")  # orjson: 1e-6 where json.dumps writes 1e-06


def ndjson_line(resource: Resource) -> bytes:
    """Return one NDJSON line (UTF-8, newline-terminated) of a resource, exactly as the standard library writes it.

    orjson is several times faster than ``json.dumps``. Where the two could differ, the standard library writes
    the line: floats below 1e-4 (``1e-05`` in Python, ``0.00001`` or ``1e-5`` from orjson), NaN and infinities
    (``null`` from orjson), and what orjson refuses (integers beyond 64 bits, keys that are not strings).
    """
    try:
        line = orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        line = b""
    if not line or b"0.0000" in line or b"null" in line or _SHORT_EXPONENT.search(line):
        return (json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    return line


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
    files: dict[str, IO[bytes]] = {}
    counts: dict[str, int] = {}
    after = 0
    try:
        while True:
            patients = repository.search_patients(since=since, ids=patient_ids, after_id=after, limit=BATCH)
            if not patients:
                break
            lines: dict[str, list[bytes]] = {}
            for record in repository.records(patients):
                for resource in record_resources(record):
                    kind = resource["resourceType"]
                    if types is not None and kind not in types:
                        continue
                    if kind not in lines:
                        lines[kind] = []
                    lines[kind].append(ndjson_line(resource))
            for kind, chunk in lines.items():
                if kind not in files:
                    files[kind] = (out_dir / f"{kind}.ndjson").open("wb")
                files[kind].write(b"".join(chunk))
                counts[kind] = counts.get(kind, 0) + len(chunk)
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
