"""Planning fixtures: prepared cases in the store (SQLite and PostgreSQL) and a calendar of free slots."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, ClinicPolicy, assess, assessment_json
from vertebro.pathway.checklist import Confirmations
from vertebro.pathway.machine import Action, Role
from vertebro.store import workflow
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment
from vertebro.store.workflow import Actor

ROOMS = ("Room 1", "Room 2")
POLICY = ClinicPolicy()
COORDINATOR = Actor("t.coordinator", Role.COORDINATOR, "test")
RADIOLOGIST = Actor("t.radiologist", Role.RADIOLOGIST, "test")
LEAD = Actor("t.lead", Role.SERVICE_LEAD, "test")


def next_monday() -> dt.date:
    """Return the first Monday after today (a plan's first day with a full week ahead)."""
    today = dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def prepare(uow: UnitOfWork, identifier: str, **changes: Any) -> int:
    """Store an assessed case and take it to 'prepared' (screened, accepted, checklist, self-pay); return its id."""
    patient = {"identifier": identifier, "name": f"Patient {identifier}", **changes.pop("patient", {})}
    data = case_data({"patient": patient, **changes})
    data.pop("procedure_date")
    case = Case.model_validate_json(json.dumps(data))
    assessment = assess(case)
    case_id = record_assessment(uow, case, assessment, assessment_json(assessment), actor="test", source="test").case_id
    workflow.take_action(uow, case_id, Action.START_SCREENING, COORDINATOR, POLICY, expected_version=None)
    workflow.take_action(uow, case_id, Action.ACCEPT, RADIOLOGIST, POLICY, expected_version=None)
    confirmations = Confirmations(
        medications_reviewed=True,
        holds_explained=True,
        allergies_reviewed=True,
        fasting_explained=True,
        driver_name="Sam Driver",
        companion_name="Kim Companion",
        arrival_time_told=True,
    )
    workflow.save_checklist(uow, case_id, confirmations, COORDINATOR, expected_version=None)
    workflow.save_insurance(
        uow, case_id, payer=None, status="self_pay", reference=None, actor=COORDINATOR, expected_version=None
    )
    workflow.take_action(uow, case_id, Action.COMPLETE_PREPARATION, COORDINATOR, POLICY, expected_version=None)
    return case_id


@pytest.fixture
def clinic(session_factory: sessionmaker[Session]) -> Callable[..., int]:
    """Return a maker of prepared cases; the calendar (two rooms, three weeks from next Monday) exists."""
    with UnitOfWork(session_factory) as uow:
        workflow.ensure_calendar(uow, ROOMS, next_monday(), 21)
        uow.commit()

    def make(identifier: str, **changes: Any) -> int:
        with UnitOfWork(session_factory) as uow:
            case_id = prepare(uow, identifier, **changes)
            uow.commit()
        return case_id

    return make
