"""Registry fixtures: treated cases written straight into the source tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vertebro.store.models import (
    Case,
    CaseWorkflow,
    Complication,
    FollowUp,
    Fracture,
    Patient,
    ProcedureLevel,
    ProcedureRecord,
)

TODAY = dt.date(2026, 11, 22)
VISIT_WINDOWS = {"2w": (14, 28), "3m": (84, 105), "12m": (358, 386)}


@dataclass
class Treated:
    """One treated case as a test describes it."""

    identifier: str
    requested: dt.date = dt.date(2025, 1, 6)
    performed: dt.date = dt.date(2025, 1, 20)
    cause: str = "osteoporotic"
    onset_weeks: float | None = 2.0
    levels: tuple[tuple[str, str, bool], ...] = (("L1", "none", False),)  # level, leakage, symptomatic
    technique: str = "vertebroplasty"
    operator: str = "dr.a"
    verdict: str | None = "appropriate"
    nrs: int = 8
    odi: float | None = 60.0
    rdq: int | None = 18
    follow_ups: dict[str, tuple[int, float | None, int | None] | None] = field(default_factory=dict)
    complications: tuple[tuple[str, int, bool], ...] = ()  # kind, days after the procedure, serious
    birth_date: dt.date | None = dt.date(1944, 5, 17)
    name: str = "Test Patient"
    dose: dict[str, float] = field(default_factory=dict)  # procedure record dose columns
    guidance: tuple[str, ...] = ()  # per level, in order; fluoroscopy where not given
    signed: bool = True


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def add_treated(session: Session, t: Treated) -> int:
    """Write a treated case into the source tables; return its case id."""
    patient = session.scalars(select(Patient).where(Patient.identifier == t.identifier)).one_or_none()
    if patient is None:  # a second case of the same identifier belongs to the same patient
        patient = Patient(identifier=t.identifier, name=t.name, birth_date=t.birth_date, sex="female")
        session.add(patient)
        session.flush()
    function: dict[str, Any] = {}
    if t.odi is not None:
        function["odi_percent"] = t.odi
    if t.rdq is not None:
        function["rdq"] = t.rdq
    facts = {
        "patient": {"identifier": t.identifier, "name": t.name, "age": 80, "sex": "female"},
        "fractures": [{"level": lv, "cause": t.cause, "onset_weeks": t.onset_weeks} for lv, _, _ in t.levels],
        "pain": {"nrs": t.nrs},
        "function": function,
    }
    case = Case(patient_id=patient.id, facts=facts, created_at=_at(t.requested))
    session.add(case)
    session.flush()
    for level, _, _ in t.levels:
        session.add(Fracture(case_id=case.id, level=level, cause=t.cause, onset_weeks=t.onset_weeks))
    session.add(
        CaseWorkflow(
            case_id=case.id,
            state="follow_up",
            decision="accept",
            decision_category=t.verdict,
            default_category=t.verdict,
            checklist={},
            insurance_status="not_required",
        )
    )
    procedure = ProcedureRecord(
        case_id=case.id,
        operator=t.operator,
        technique=t.technique,
        started_at=_at(t.performed),
        ended_at=_at(t.performed, 10),
        signed_by=t.operator if t.signed else None,
        signed_at=_at(t.performed, 11) if t.signed else None,
        complications=[],
        **t.dose,
        levels=[
            ProcedureLevel(
                level=level,
                approach="bipedicular",
                guidance=t.guidance[index] if index < len(t.guidance) else "fluoroscopy",
                contrast=False,
                cement_product="PMMA",
                cement_volume_ml=4.0,
                leakage=leakage,
                leakage_symptomatic=symptomatic,
            )
            for index, (level, leakage, symptomatic) in enumerate(t.levels)
        ],
    )
    session.add(procedure)
    for visit, (low, high) in VISIT_WINDOWS.items():
        scores = t.follow_ups.get(visit)
        done = scores is not None
        session.add(
            FollowUp(
                case_id=case.id,
                visit=visit,
                due_from=t.performed + dt.timedelta(days=low),
                due_until=t.performed + dt.timedelta(days=high),
                completed_at=_at(t.performed + dt.timedelta(days=low + 1)) if done else None,
                nrs=scores[0] if scores else None,
                odi_percent=scores[1] if scores else None,
                rdq=scores[2] if scores else None,
            )
        )
    for kind, days, serious in t.complications:
        session.add(
            Complication(
                case_id=case.id,
                kind=kind,
                occurred_on=t.performed + dt.timedelta(days=days),
                serious=serious,
                recorded_by="test",
            )
        )
    session.flush()
    return case.id


@pytest.fixture
def treated(session_factory: sessionmaker[Session]) -> Callable[..., list[int]]:
    """Return ``treated(*cases)``: write treated cases in one committed unit; returns their case ids."""

    def write(*cases: Treated) -> list[int]:
        with session_factory() as session:
            ids = [add_treated(session, t) for t in cases]
            session.commit()
        return ids

    return write
