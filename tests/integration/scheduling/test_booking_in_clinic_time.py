"""A booking's procedure time is stored as the clinic's wall-clock time, whatever the server's zone (decision 0026).

The clinical core dates holds and fasting from ``procedure_date`` and ``procedure_time`` read as clinic
wall-clock time (clinical/clock.py); storing the server's local time instead shifts every one of them by the
difference between the zones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tests.integration.scheduling.conftest import COORDINATOR, POLICY, next_monday
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork


def test_the_procedure_time_is_the_clinics_wall_clock_time(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = clinic("ZONE-1")
    policy = dataclasses.replace(POLICY, time_zone="America/New_York")
    tuesday = next_monday() + dt.timedelta(days=1)
    starts_at = dt.datetime.combine(tuesday, dt.time(15, 0)).astimezone()  # a slot of the server's calendar
    with UnitOfWork(session_factory) as uow:
        workflow.book(
            uow, case_id, room="Room 1", starts_at=starts_at, actor=COORDINATOR, policy=policy, expected_version=None
        )
        uow.commit()
    in_new_york = starts_at.astimezone(ZoneInfo("America/New_York"))
    with UnitOfWork(session_factory) as uow:
        view = workflow.case_view(uow, case_id, COORDINATOR, policy, audit=False)
    assert view.facts.procedure_date == in_new_york.date()
    assert view.facts.procedure_time == in_new_york.time().replace(tzinfo=None)
