"""The SQLite engine serves concurrent transactions: WAL, a busy timeout, BEGIN IMMEDIATE (decision 0020).

SQLite-only by nature: PostgreSQL has row locks and needs none of this.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from vertebro.store.db import SQLITE_BUSY_TIMEOUT_S, make_engine

THREADS = 8
TRANSACTIONS = 25


def test_every_connection_gets_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == int(SQLITE_BUSY_TIMEOUT_S * 1000)
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_concurrent_transactions_that_read_then_write_all_commit(tmp_path: Path) -> None:
    """The shape of most requests (read, then write the audit row), from 8 threads at once: none is refused.

    With a deferred BEGIN, SQLite refuses a reader's later write at once ("database is locked") whenever
    another connection wrote meanwhile; the busy timeout does not apply to that case.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}", pool_size=THREADS, max_overflow=0)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE audit (n INTEGER NOT NULL)")
    errors: list[Exception] = []
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        for _ in range(TRANSACTIONS):
            try:
                with engine.begin() as connection:
                    seen = connection.execute(text("SELECT count(*) FROM audit")).scalar_one()
                    connection.execute(text("INSERT INTO audit (n) VALUES (:n)"), {"n": seen})
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT n FROM audit ORDER BY n")).scalars().all()
    engine.dispose()
    assert errors == []
    assert rows == list(range(THREADS * TRANSACTIONS))  # serialised: each saw every earlier commit
