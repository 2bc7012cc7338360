"""The day itself and after: the procedure record, monitoring, discharge and complications."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from vertebro.clinical import ClinicPolicy
from vertebro.errors import Conflict, InvalidInput
from vertebro.pathway.machine import Action, State, evaluate
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    TECHNIQUES,
    Complication,
    Discharge,
    Observation,
    ProcedureLevel,
    ProcedureRecord,
)
from vertebro.store.workflow.base import (
    TREATED_OR_LATER,
    Actor,
    TransitionRefused,
    check_version,
    facts_of,
    load_workflow,
    record_audit,
)
from vertebro.store.workflow.chart import case_view
from vertebro.store.workflow.steps import take_action


@dataclass(frozen=True, slots=True)
class LevelRecord:
    """What the radiologist records for one treated level."""

    level: str
    approach: str
    guidance: str
    contrast: bool
    cement_product: str
    cement_volume_ml: float
    leakage: str
    leakage_symptomatic: bool


def record_procedure(
    uow: UnitOfWork,
    case_id: int,
    *,
    levels: list[LevelRecord],
    sedation: bool,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    complications: list[str],
    notes: str | None,
    sign: bool,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
    technique: str = "vertebroplasty",
) -> ProcedureRecord:
    """Record (and optionally sign) the procedure level by level; signing moves the case to monitoring."""
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    if workflow.state != State.IN_PROCEDURE.value:
        raise Conflict(f"the case is {workflow.state}: start the procedure first", field="state")
    if not levels:
        raise InvalidInput("record at least one treated level", field="levels")
    if technique not in TECHNIQUES:
        raise InvalidInput(f"technique: use one of {', '.join(TECHNIQUES)}", field="technique")
    if ended_at is not None and ended_at < started_at:
        raise InvalidInput("the end time is before the start time", field="ended_at")
    record = uow.records.procedure(case_id)
    if record is not None and record.signed_at is not None:
        raise Conflict("the procedure record is signed and can no longer change", field="procedure")
    level_rows = [ProcedureLevel(**dataclasses.asdict(level)) for level in levels]
    if record is None:
        record = ProcedureRecord(case_id=case_id, operator=actor.username, started_at=started_at, levels=level_rows)
        uow.records.add(record)
    else:
        record.levels = level_rows
    record.sedation = sedation
    record.technique = technique
    record.started_at = started_at
    record.ended_at = ended_at
    record.complications = [c for c in complications if c]
    record.notes = (notes or "").strip() or None
    uow.session.flush()
    record_audit(
        uow, actor, "update", "procedure", record.id, workflow.case.patient_id, levels=[lv.level for lv in levels]
    )
    if sign:
        if ended_at is None:
            raise InvalidInput("record the end time before signing", field="ended_at")
        record.signed_by = actor.username
        record.signed_at = utc_now()
        uow.session.flush()
        take_action(uow, case_id, Action.SIGN_PROCEDURE, actor, policy, expected_version=None)
    return record


def record_observation(uow: UnitOfWork, case_id: int, *, kind: str, value: dict[str, Any], actor: Actor) -> Observation:
    """Record a monitoring observation (vitals, neuro check, pain) while the patient is monitored."""
    workflow = load_workflow(uow, case_id)
    if workflow.state not in (State.IN_PROCEDURE.value, State.MONITORING.value):
        raise Conflict(f"the case is {workflow.state}: observations are recorded during monitoring", field="state")
    observation = Observation(case_id=case_id, kind=kind, value=value, recorded_by=actor.username)
    uow.records.add(observation)
    record_audit(uow, actor, "create", "observation", observation.id, workflow.case.patient_id, kind=kind)
    return observation


DISCHARGE_CRITERIA = (
    "neuro_baseline",
    "walking",
    "pain_not_above_baseline",
    "tolerating_oral_intake",
)


def discharge(
    uow: UnitOfWork,
    case_id: int,
    *,
    criteria: dict[str, bool],
    aldrete: int | None,
    driver_name: str | None,
    companion_name: str | None,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
) -> Discharge:
    """Discharge a monitored patient when every criterion is met (and, after sedation, the escort named)."""
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    facts = facts_of(workflow.case)
    missing = [name.replace("_", " ") for name in DISCHARGE_CRITERIA if not criteria.get(name)]
    if facts.sedation_planned and (aldrete is None or aldrete < 9):
        missing.append("Aldrete score of 9 or more")
    record = uow.records.discharge(case_id) or Discharge(case_id=case_id, discharged_by=actor.username, criteria={})
    record.criteria = {**criteria, "aldrete": aldrete}
    record.driver_name = (driver_name or "").strip() or None
    record.companion_name = (companion_name or "").strip() or None
    record.aftercare_issued = True
    view = case_view(uow, case_id, actor, policy, audit=False)
    snapshot = dataclasses.replace(
        view.snapshot,
        discharge_criteria_missing=tuple(missing),
        driver_confirmed=bool(record.driver_name),
        companion_confirmed=bool(record.companion_name),
    )
    verdict = evaluate(Action.DISCHARGE, snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    if uow.records.discharge(case_id) is None:
        uow.records.add(record)
    workflow.state = State.DISCHARGED.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    record_audit(
        uow,
        actor,
        "transition",
        "case",
        case_id,
        workflow.case.patient_id,
        **{"from": "monitoring", "to": "discharged"},
    )
    return record


COMPLICATION_KINDS = (
    "new_fracture",
    "adjacent_fracture",
    "infection",
    "cement_embolism",
    "symptomatic_cement_leak",
    "bleeding_or_haematoma",
    "new_neurological_deficit",
    "pain_flare",
    "other",
)


def record_complication(
    uow: UnitOfWork, case_id: int, *, kind: str, occurred_on: dt.date, serious: bool, notes: str | None, actor: Actor
) -> Complication:
    """Record a complication noticed after the procedure."""
    workflow = load_workflow(uow, case_id)
    if State(workflow.state) not in TREATED_OR_LATER:
        raise Conflict(f"the case is {workflow.state}: there is no procedure to have a complication", field="state")
    complication = Complication(
        case_id=case_id, kind=kind, occurred_on=occurred_on, serious=serious, notes=notes, recorded_by=actor.username
    )
    uow.records.add(complication)
    record_audit(uow, actor, "create", "complication", complication.id, workflow.case.patient_id, kind=kind)
    return complication
