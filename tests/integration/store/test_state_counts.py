"""The per-state case counts kept by database triggers always equal a full count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from vertebro.store.db import UnitOfWork
from vertebro.store.models import CaseWorkflow


def _full_count(uow: UnitOfWork) -> dict[str, int]:
    rows = uow.session.execute(select(CaseWorkflow.state, func.count()).group_by(CaseWorkflow.state))
    return {state: int(n) for state, n in rows}


def test_counts_follow_inserts_and_state_changes(
    session_factory: sessionmaker[Session], make_case: Callable[..., Any], record: Callable[..., Any]
) -> None:
    with UnitOfWork(session_factory) as uow:
        before = uow.workflows.state_counts()
        ids = [record(uow, make_case(f"COUNT-{i}")).case_id for i in range(4)]
        uow.session.flush()
        after_insert = uow.workflows.state_counts()
        assert after_insert.get("requested", 0) == before.get("requested", 0) + 4
        for case_id, state in zip(ids, ("screening", "screening", "eligible"), strict=False):
            workflow = uow.workflows.get(case_id)
            assert workflow is not None
            workflow.state = state
        uow.session.flush()
        assert uow.workflows.state_counts() == {k: v for k, v in _full_count(uow).items() if v}
        assert uow.workflows.state_counts()["screening"] == before.get("screening", 0) + 2
