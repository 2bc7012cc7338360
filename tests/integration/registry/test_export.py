"""The de-identified export: nothing identifying survives, one patient's intervals do (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.registry.conftest import Treated
from vertebro.errors import InvalidInput
from vertebro.registry.deidentify import pseudonym, salt_bytes
from vertebro.registry.export import export
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry

SALT = "a-test-salt-of-some-length"
OLD = Treated(
    "EXP-OLD-7",
    name="Olga Oldest",
    birth_date=dt.date(1931, 6, 30),
    requested=dt.date(2025, 3, 3),
    performed=dt.date(2025, 3, 20),
    follow_ups={"2w": (4, 30.0, 9), "3m": (3, 20.0, 6)},
)
OLD_AGAIN = Treated(  # the same patient, treated again later
    "EXP-OLD-7",
    requested=dt.date(2025, 8, 1),
    performed=dt.date(2025, 8, 11),
    operator="dr.b",
)
YOUNG = Treated("EXP-YOUNG-1", name="Yuri Young", birth_date=dt.date(1950, 1, 15), cause="metastasis")


def _export(session_factory: sessionmaker[Session], folder: Path, fmt: str, salt: str = SALT) -> list[dict[str, str]]:
    with UnitOfWork(session_factory) as uow:
        written = export(uow, folder, fmt=fmt, salt=salt, actor="pytest")  # type: ignore[arg-type]
        uow.commit()
    assert written.rows == 3
    if fmt == "csv":
        with (folder / "procedures.csv").open() as handle:
            return list(csv.DictReader(handle))
    table = pq.read_table(folder / "procedures.parquet").to_pylist()
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in table]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_no_identifier_survives_and_intervals_do(
    fmt: str, tmp_path: Path, treated: Callable[..., list[int]], session_factory: sessionmaker[Session]
) -> None:
    treated(OLD, OLD_AGAIN, YOUNG)
    rows = _export(session_factory, tmp_path, fmt)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    text = "\n".join(",".join(r.values()) for r in rows)
    for secret in ("Olga", "Oldest", "Yuri", "EXP-OLD-7", "EXP-YOUNG-1", "1931-06-30", "1950-01-15"):
        assert secret not in text
        assert secret.encode() not in raw
    old = sorted((r for r in rows if r["age_at_procedure"] == "90+"), key=lambda r: r["procedure_on"])
    assert len(old) == 2  # 93 and 94 at the procedures: grouped
    assert old[0]["patient"] == old[1]["patient"]  # one patient, one pseudonym
    assert old[0]["case"] != old[1]["case"]
    young = next(r for r in rows if r["age_at_procedure"] != "90+")
    assert young["age_at_procedure"] == "75"
    assert young["cause_group"] == "neoplastic"

    def day(row: dict[str, str], name: str) -> dt.date:
        return dt.date.fromisoformat(row[name])

    first, second = old
    # every date moved (by the same shift for one patient; another patient's shift differs or not, by chance)
    assert (first["requested_on"], first["procedure_on"]) != ("2025-03-03", "2025-03-20")
    assert first["procedure_on"] != "2025-03-20"
    assert second["procedure_on"] != "2025-08-11"
    assert young["procedure_on"] != "2025-01-20"
    assert (day(first, "procedure_on") - day(first, "requested_on")).days == 17
    assert (day(first, "done_on_2w") - day(first, "procedure_on")).days == 15
    assert (day(first, "due_until_12m") - day(first, "procedure_on")).days == 386
    assert (day(second, "procedure_on") - day(first, "procedure_on")).days == 144  # 2025-03-20 to 2025-08-11
    shift = (day(first, "procedure_on") - dt.date(2025, 3, 20)).days
    assert shift != 0
    assert abs(shift) <= 182
    assert first["nrs_2w"] == "4"
    assert first["operator"] != "dr.a"
    assert first["operator"].startswith("O")


def test_pseudonyms_are_keyed_by_the_salt(
    tmp_path: Path, treated: Callable[..., list[int]], session_factory: sessionmaker[Session]
) -> None:
    treated(OLD, OLD_AGAIN, YOUNG)
    once = _export(session_factory, tmp_path / "a", "csv")
    again = _export(session_factory, tmp_path / "b", "csv")
    other = _export(session_factory, tmp_path / "c", "csv", salt="another-salt-entirely")
    assert once == again  # reproducible with the same salt
    assert {r["patient"] for r in once}.isdisjoint({r["patient"] for r in other})
    assert {r["procedure_on"] for r in once} != {r["procedure_on"] for r in other}
    with session_factory() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "registry")).all()
    assert [a.detail["rows"] for a in audit if a.action == "export"] == [3, 3, 3]
    patient_ids = {pseudonym(salt_bytes(SALT), "patient", a.patient_id) for a in audit if a.patient_id}
    assert patient_ids == set()  # the export's audit entry names no patient


def test_small_cells_are_suppressed_in_the_summary(
    tmp_path: Path, treated: Callable[..., list[int]], session_factory: sessionmaker[Session]
) -> None:
    treated(OLD, OLD_AGAIN, YOUNG, *[Treated(f"EXP-MANY-{i}") for i in range(5)])
    with UnitOfWork(session_factory) as uow:
        export(uow, tmp_path, fmt="csv", salt=SALT, actor="pytest")
        uow.commit()
    with (tmp_path / "summary.csv").open() as handle:
        summary = list(csv.DictReader(handle))
    counts = {(r["cause_group"], r["technique"], r["age_band"]): r["procedures"] for r in summary}
    assert counts[("osteoporotic", "vertebroplasty", "<6w")] == "7"  # 5 + the old patient's two
    assert counts[("neoplastic", "vertebroplasty", "<6w")] == "<5"
    assert all(r["with_complication"] in ("0", "<5") or int(r["with_complication"]) >= 5 for r in summary)


def test_a_short_salt_or_unknown_format_is_refused(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        with pytest.raises(ValueError, match="salt"):
            export(uow, tmp_path, fmt="csv", salt="short", actor="pytest")
        with pytest.raises(InvalidInput, match="unknown format"):
            export(uow, tmp_path, fmt="xlsx", salt=SALT, actor="pytest")  # type: ignore[arg-type]
