"""``vertebro db backup``: a consistent copy of an SQLite database while the server runs.

SQLite's online backup API copies the database page by page inside a read transaction, so the copy is
one consistent moment even while the server writes (with a write-ahead log, writers are not held up). The
copy is checked (``PRAGMA integrity_check``) before the command reports success. PostgreSQL databases are
backed up with ``pg_dump`` (the recipe is in the README and in :data:`PG_DUMP_RECIPE`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from vertebro.errors import InvalidInput
from vertebro.store.db import sqlite_database_path

PG_DUMP_RECIPE = """\
PostgreSQL is backed up with its own tools (they copy the job queue and the audit triggers too):
  pg_dump --format=custom --no-owner --file vertebro-$(date +%F).dump "postgresql://USER@HOST/DATABASE"
and restored into a new, empty database with:
  createdb NEWDATABASE
  pg_restore --no-owner --exit-on-error --dbname "postgresql://USER@HOST/NEWDATABASE" vertebro-DATE.dump
then point VERTEBRO_DATABASE_URL at it and run `vertebro db upgrade` (a no-op when the dump is current)."""


def backup_sqlite(database_url: str, out: Path) -> int:
    """Copy the SQLite database at ``database_url`` to the new file ``out``; return the copy's size in bytes.

    Refuses to overwrite ``out``, and refuses databases that are not SQLite files (``InvalidInput``).
    """
    path = sqlite_database_path(make_url(database_url))
    if path is None:
        raise InvalidInput("vertebro db backup copies SQLite database files; see the pg_dump recipe", field="database")
    if not path.is_file():
        raise InvalidInput(f"there is no database at {path}", field="database")
    if out.exists():
        raise InvalidInput(f"{out} exists: choose a new file (a backup never overwrites)", field="out")
    out.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(out)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, whatever the source used
        (verdict,) = target.execute("PRAGMA integrity_check").fetchone()
    finally:
        target.close()
        source.close()
    if verdict != "ok":
        out.unlink(missing_ok=True)
        raise InvalidInput(f"the copy failed its integrity check ({verdict}); nothing was kept", field="out")
    return out.stat().st_size
