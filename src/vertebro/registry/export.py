"""The de-identified research export: one file of procedures and one aggregate table, as CSV or Parquet.

Rows stream from a server-side cursor in batches (``repository.export_rows``) and are written batch by
batch; no more than one batch is in memory. Names, identifiers, birth dates and database keys never
reach the files (see ``deidentify`` and docs/registry-deidentification.md). The export is audited.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import literal

from vertebro.errors import InvalidInput
from vertebro.registry import repository
from vertebro.registry.deidentify import age_group, patient_key, pseudonym, salt_bytes, small_cell
from vertebro.registry.schemas import VISITS, Cohort
from vertebro.store.db import UnitOfWork

Format = Literal["csv", "parquet"]
BATCH = 10_000
DATE_COLUMNS = (
    "requested_on",
    "procedure_on",
    *[f"{p}_{v}" for v in VISITS for p in ("due_from", "due_until", "done_on")],
)
COPIED = (
    "wait_days",
    "cause_group",
    "fracture_age_weeks",
    "age_band",
    "levels",
    "technique",
    "verdict",
    "leak_levels",
    "leak_symptomatic",
    "complications",
    "serious_complications",
    "embolism",
    "new_fracture_1y",
    "nrs_0",
    "odi_0",
    "rdq_0",
    *[f"{m}_{v}" for v in VISITS for m in ("nrs", "odi", "rdq")],
)
COLUMNS = ("patient", "case", "sex", "age_at_procedure", "operator", *DATE_COLUMNS, *COPIED)
_INTEGER = {"wait_days", "levels", "leak_levels", "leak_symptomatic", "complications", "serious_complications"}
_INTEGER |= {"embolism", "new_fracture_1y", *[f"{m}_{v}" for v in ("0", *VISITS) for m in ("nrs", "rdq")]}
_FLOAT = {"fracture_age_weeks", *[f"odi_{v}" for v in ("0", *VISITS)]}
SCHEMA = pa.schema(
    [
        (
            name,
            pa.date32()
            if name in DATE_COLUMNS
            else pa.int32()
            if name in _INTEGER
            else pa.float64()
            if name in _FLOAT
            else pa.string(),
        )
        for name in COLUMNS
    ]
)
SUMMARY_COLUMNS = ("cause_group", "technique", "age_band", "procedures", "with_complication", "new_fracture_1y")


@dataclass(frozen=True, slots=True)
class Written:
    """What an export wrote."""

    rows: int
    files: tuple[Path, ...]


_AT = {name: i for i, name in enumerate(repository.EXPORT_COLUMNS)}
_DATES = [_AT[name] for name in DATE_COLUMNS]
_COPIED = [_AT[name] for name in COPIED]
_PATIENT, _CASE, _OPERATOR, _PROCEDURE = _AT["patient_id"], _AT["case_id"], _AT["operator"], _AT["procedure_on"]


def _deidentified(batch: Sequence[Any], salt: bytes, facts: dict[int, tuple[str, dt.date | None]]) -> pa.Table:
    """Return the batch as an Arrow table of ``COLUMNS``: pseudonyms, shifted dates, grouped ages.

    Keys and ages are computed per row in Python (one keyed hash per patient and per case); the dates
    are shifted column by column in Arrow (days since 1970 plus the patient's shift).
    """
    columns = list(zip(*batch, strict=True)) if batch else [() for _ in repository.EXPORT_COLUMNS]
    patient_ids = columns[_PATIENT]
    keys: dict[int, tuple[str, int]] = {}
    for patient_id in patient_ids:
        if patient_id not in keys:
            keys[patient_id] = patient_key(salt, patient_id)
    operators = {o: pseudonym(salt, "operator", o) for o in set(columns[_OPERATOR])}
    shifts = pa.array([keys[p][1] for p in patient_ids], type=pa.int32())
    unknown: tuple[str, dt.date | None] = ("", None)
    arrays = [
        pa.array([keys[p][0] for p in patient_ids], type=pa.string()),
        pa.array([pseudonym(salt, "case", c) for c in columns[_CASE]], type=pa.string()),
        pa.array([facts.get(p, unknown)[0] for p in patient_ids], type=pa.string()),
        pa.array(
            [age_group(facts.get(p, unknown)[1], on) for p, on in zip(patient_ids, columns[_PROCEDURE], strict=True)],
            type=pa.string(),
        ),
        pa.array([operators[o] for o in columns[_OPERATOR]], type=pa.string()),
    ]
    for i in _DATES:
        days = pc.cast(pa.array(columns[i], type=pa.date32()), pa.int32())
        arrays.append(pc.cast(pc.add(days, shifts), pa.date32()))
    for name, i in zip(COPIED, _COPIED, strict=True):
        values = pa.array(columns[i], type=SCHEMA.field(name).type)
        arrays.append(pc.round(values, 1) if name == "fracture_age_weeks" else values)
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _fetched(uow: UnitOfWork) -> Iterator[tuple[Sequence[Any], dict[int, tuple[str, dt.date | None]]]]:
    """Yield (rows, their patients' sex and birth date), fetched by a second thread one batch ahead.

    The database works on the next batch while this thread de-identifies and writes the current one;
    the queue holds at most two batches, so memory stays bounded.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()  # set when the consumer leaves early (an error while writing)
    done = object()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def fetch() -> None:
        try:
            for batch in repository.export_rows(uow.session, batch=BATCH):
                if stop.is_set():
                    return
                put((batch, repository.patient_facts(uow.session, [r[_PATIENT] for r in batch])))
            put(done)
        except BaseException as error:  # handed to the consumer, which raises it
            put(error)

    worker = threading.Thread(target=fetch, name="registry-export-fetch", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)


def _batches(uow: UnitOfWork, salt: bytes) -> Iterator[pa.Table]:
    for batch, facts in _fetched(uow):
        yield _deidentified(batch, salt, facts)


def _summary(uow: UnitOfWork) -> list[list[str]]:
    rows = []
    for cause, technique, band, n, complicated, fractures in repository.export_summary(uow.session):
        rows.append([cause, technique, band, small_cell(n), small_cell(complicated), small_cell(fractures)])
    return rows


def export(
    uow: UnitOfWork,
    folder: Path,
    *,
    fmt: Format,
    salt: str,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
) -> Written:
    """Write the de-identified registry into ``folder`` (procedures and summary); return what was written."""
    if fmt not in ("csv", "parquet"):
        raise InvalidInput(f"unknown format {fmt!r}: use csv or parquet", field="format")
    key = salt_bytes(salt)
    folder.mkdir(parents=True, exist_ok=True)
    repository.refresh(uow.session)
    total = repository.count_of(uow.session, Cohort(), literal(True))
    procedures = folder / f"procedures.{fmt}"
    summary = folder / f"summary.{fmt}"
    written = 0
    # one Arrow table per batch, written as CSV or as a Parquet row group (both by Arrow's C++ writers)
    writer: pq.ParquetWriter | pacsv.CSVWriter
    if fmt == "csv":
        writer = pacsv.CSVWriter(procedures, SCHEMA, write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        writer = pq.ParquetWriter(procedures, SCHEMA, compression="zstd")
    with writer:
        for table in _batches(uow, key):
            writer.write_table(table)
            written += table.num_rows
            if progress:
                progress(written, total)
    cells = list(zip(*_summary(uow), strict=True)) or [()] * len(SUMMARY_COLUMNS)
    table = pa.table(
        {name: pa.array(list(v), type=pa.string()) for name, v in zip(SUMMARY_COLUMNS, cells, strict=True)}
    )
    if fmt == "csv":
        pacsv.write_csv(table, summary, write_options=pacsv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, summary)
    uow.audit.append(
        actor=actor,
        action="export",
        entity_type="registry",
        entity_id=None,
        detail={"format": fmt, "rows": written, "deidentified": True},
        source="cli",
    )
    return Written(written, (procedures, summary))
