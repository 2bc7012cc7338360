"""Revision 7a0d1e2f0550 dates the clients revoked before it from their first ``smart_client_revoked`` audit entry
(SQLite and PostgreSQL); an active client, and a revoked one the trail does not mention, keep both columns empty."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from vertebro.store import migrate
from vertebro.store.db import make_engine

BEFORE = "7a0d1e2f0540"
T = "'2030-01-01 00:00:00+00'"


def test_clients_revoked_before_get_the_time_and_actor_of_their_first_revocation(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, BEFORE)
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as c:
            ids = {}
            for client_id, active in (("viewer", False), ("loader", True), ("unlogged", False)):
                c.execute(
                    text(
                        "INSERT INTO smart_clients (client_id, kind, name, scope, active, created_by, created_at) "
                        "VALUES (:id, 'system', :id, 'system/*.read', :active, 'test', " + T + ")"
                    ),
                    {"id": client_id, "active": active},
                )
                ids[client_id] = c.execute(
                    text("SELECT id FROM smart_clients WHERE client_id = :id"), {"id": client_id}
                ).scalar_one()
            for actor, when, action, entity in (
                ("second.admin", "2030-02-03 10:00:00+00", "smart_client_revoked", ids["viewer"]),
                ("first.admin", "2030-02-01 09:30:00+00", "smart_client_revoked", ids["viewer"]),
                ("someone", "2030-01-15 08:00:00+00", "smart_client_registered", ids["viewer"]),
                ("other.admin", "2030-01-20 08:00:00+00", "smart_client_revoked", ids["loader"]),
            ):
                c.execute(
                    text(
                        "INSERT INTO audit_log (occurred_at, actor, action, entity_type, entity_id, detail) "
                        "VALUES (:at, :actor, :action, 'smart_client', :entity, '{}')"
                    ),
                    {"at": when, "actor": actor, "action": action, "entity": str(entity)},
                )
        migrate.upgrade(empty_db_url, "7a0d1e2f0550")
        with engine.connect() as c:
            rows = {
                r.client_id: (r.revoked_at, r.revoked_by)
                for r in c.execute(text("SELECT client_id, revoked_at, revoked_by FROM smart_clients"))
            }
        at, by = rows["viewer"]
        moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        assert (moment.replace(tzinfo=moment.tzinfo or dt.UTC), by) == (
            dt.datetime(2030, 2, 1, 9, 30, tzinfo=dt.UTC),
            "first.admin",
        )
        assert rows["loader"] == (None, None)  # active: not revoked, whatever the trail says
        assert rows["unlogged"] == (None, None)  # revoked, but the trail does not say when: not invented
        migrate.downgrade(empty_db_url, BEFORE)
    finally:
        engine.dispose()
