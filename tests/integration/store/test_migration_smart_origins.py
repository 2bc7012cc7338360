"""Revision 7a0d1e2f0530 gives the apps registered before it the web origins of their redirect URIs (SQLite and
PostgreSQL); system clients get none (decision 0039)."""

from __future__ import annotations

import json

from sqlalchemy import text

from vertebro.store import migrate
from vertebro.store.db import make_engine

BEFORE = "7a0d1e2f0490"
T = "'2030-01-01 00:00:00+00'"


def test_registered_apps_get_the_origins_of_their_redirect_uris(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, BEFORE)
    engine = make_engine(empty_db_url)
    try:
        uris = ["https://Viewer.Example:443/cb", "https://viewer.example/other", "http://localhost:9100/cb"]
        with engine.begin() as c:
            for client_id, kind, redirect in (("viewer", "app", json.dumps(uris)), ("loader", "system", None)):
                c.execute(
                    text(
                        "INSERT INTO smart_clients (client_id, kind, name, redirect_uris, scope, active, created_by, "
                        "created_at) VALUES (:id, :kind, :id, :uris, 'user/*.read', true, 'test', " + T + ")"
                    ),
                    {"id": client_id, "kind": kind, "uris": redirect},
                )
        migrate.upgrade(empty_db_url, "7a0d1e2f0530")
        with engine.connect() as c:
            rows = dict(c.execute(text("SELECT client_id, allowed_origins FROM smart_clients")).all())
        origins = {k: json.loads(v) if isinstance(v, str) else v for k, v in rows.items()}
        assert origins == {"viewer": ["http://localhost:9100", "https://viewer.example"], "loader": None}
        migrate.downgrade(empty_db_url, BEFORE)
    finally:
        engine.dispose()
