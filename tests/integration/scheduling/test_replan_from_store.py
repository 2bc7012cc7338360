"""Re-planning from the store (the schedule-plan job): the solver starts from the current bookings and keeps them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from tests.integration.scheduling.conftest import COORDINATOR, LEAD, POLICY, ROOMS, next_monday
from vertebro.scheduling.checker import violations
from vertebro.scheduling.replan import current_placement
from vertebro.scheduling.service import PlanningSetup, database_instance, proposal
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork


def test_a_replan_starts_from_the_bookings_and_keeps_them(
    clinic: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    booked = clinic("REPLAN-1")
    waiting = [clinic("REPLAN-2"), clinic("REPLAN-3")]
    tuesday_nine = dt.datetime.combine(next_monday() + dt.timedelta(days=1), dt.time(9, 0)).astimezone()
    with UnitOfWork(session_factory) as uow:
        workflow.book(
            uow, booked, room="Room 2", starts_at=tuesday_nine, actor=COORDINATOR, policy=POLICY, expected_version=None
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        source = database_instance(
            uow,
            start=next_monday(),
            weeks=2,
            setup=PlanningSetup(rooms=ROOMS, recovery_bays=2),
            policy=POLICY,
            actor=LEAD,
        )
    start = current_placement(source.instance)
    assert len(start) == 1  # the one booking is the starting point
    made = proposal(source, time_limit=2.0, hint=start)
    assert violations(source.instance, made.plan) == []
    by_case = {s.case: s for s in made.plan.sessions}
    assert by_case[f"case-{booked}"].start == tuesday_nine.replace(tzinfo=None)
    assert {f"case-{c}" for c in waiting} <= set(by_case)
