"""Revision 7a0d1e2f0370 repairs bookings left active by the old bare 'cancel booking' step (SQLite and PostgreSQL)
and then keeps one active booking per case."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from vertebro.store import migrate
from vertebro.store.db import make_engine

T = "'2030-01-01 00:00:00+00'"


def _rows(url: str) -> None:
    """Three cases as the defect left them: prepared with an active booking; scheduled and booked twice;
    scheduled with no booking at all."""
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(
            text(f"INSERT INTO patients (id, identifier, sex, created_at, version) VALUES (1, 'M-1', 'female', {T}, 1)")
        )
        for case_id, state in ((1, "prepared"), (2, "scheduled"), (3, "scheduled")):
            c.execute(
                text(
                    f"INSERT INTO cases (id, patient_id, facts, created_at, version) VALUES ({case_id}, 1, '{{}}', {T}, 1)"
                )
            )
            c.execute(
                text(
                    "INSERT INTO case_workflows (case_id, state, checklist, insurance_status, updated_at, version) "
                    f"VALUES ({case_id}, '{state}', '{{}}', 'self_pay', {T}, 1)"
                )
            )
        for slot_id in (1, 2, 3):
            c.execute(
                text(
                    f"INSERT INTO slots (id, room, starts_at, ends_at) VALUES ({slot_id}, 'Room 1', "
                    f"'2030-01-0{slot_id} 08:00:00+00', '2030-01-0{slot_id} 08:30:00+00')"
                )
            )
        for booking_id, case_id in ((1, 1), (2, 2), (3, 2)):
            c.execute(
                text(
                    "INSERT INTO bookings (id, case_id, room, starts_at, ends_at, status, booked_by, created_at) "
                    f"VALUES ({booking_id}, {case_id}, 'Room 1', '2030-01-0{booking_id} 08:00:00+00', "
                    f"'2030-01-0{booking_id} 08:30:00+00', 'booked', 't', {T})"
                )
            )
            c.execute(text(f"INSERT INTO slot_reservations (slot_id, booking_id) VALUES ({booking_id}, {booking_id})"))
    engine.dispose()


def test_stale_and_duplicate_bookings_are_cancelled_and_a_second_active_booking_is_refused(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "7a0d1e2f0340")
    _rows(empty_db_url)
    migrate.upgrade(empty_db_url, "7a0d1e2f0370")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as c:
            bookings = {
                row.id: (row.status, row.cancel_reason is not None, row.cancelled_at is not None)
                for row in c.execute(text("SELECT id, status, cancel_reason, cancelled_at FROM bookings"))
            }
            held = {row[0] for row in c.execute(text("SELECT booking_id FROM slot_reservations"))}
            states = dict(c.execute(text("SELECT case_id, state FROM case_workflows")).all())
        assert bookings == {1: ("cancelled", True, True), 2: ("cancelled", True, True), 3: ("booked", False, False)}
        assert held == {3}
        assert states == {1: "prepared", 2: "scheduled", 3: "prepared"}
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO bookings (id, case_id, room, starts_at, ends_at, status, booked_by, created_at) "
                    f"VALUES (4, 2, 'Room 2', {T}, '2030-01-01 00:30:00+00', 'booked', 't', {T})"
                )
            )
        migrate.downgrade(empty_db_url, "7a0d1e2f0340")
    finally:
        engine.dispose()
