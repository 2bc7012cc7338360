"""A plan: the typed value every planner returns and the checker validates (format ``vertebro-schedule-plan/1``).

A plan lists every planned session (date, room, radiologist, sedation nurse, procedure and monitoring
times, recovery bay), every session left out with the reason, the objective broken into terms, and, for
the CP-SAT planner, the solver's bound and the proven gap.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PLAN_FORMAT: Literal["vertebro-schedule-plan/1"] = "vertebro-schedule-plan/1"
Planner = Literal["cp-sat", "fcfs"]
Status = Literal["optimal", "feasible", "no_solution", "infeasible"]


class Reason(StrEnum):
    """Why a session is not in the plan."""

    HOLD_NOT_FINISHED = "hold_not_finished"
    NOT_READY = "not_ready"
    AFTER_LATEST_DATE = "after_latest_date"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    NO_COMPATIBLE_RESOURCE = "no_compatible_resource"
    PREVIOUS_STAGE_UNSCHEDULED = "previous_stage_unscheduled"
    STAGE_GAP = "stage_gap"
    NO_CAPACITY = "no_capacity"
    CAPACITY_LEFT_UNUSED = "capacity_left_unused"
    NO_PLAN = "no_plan"


class Frozen(BaseModel):
    """Base of every plan model: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PlannedSession(Frozen):
    """One session in the plan: when, where, with whom, and the recovery bay afterwards."""

    case: str
    session: int
    levels: list[str]
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    room: str
    radiologist: str
    nurse: str | None
    monitoring_start: dt.datetime
    monitoring_end: dt.datetime
    bay: int = Field(ge=1)
    moved: bool = False


class UnscheduledSession(Frozen):
    """A session not in the plan, with a reason code and a sentence a coordinator can act on."""

    case: str
    session: int
    levels: list[str]
    reason: Reason
    detail: str


class Term(Frozen):
    """One term of the objective: quantity x weight = points."""

    name: str
    quantity: int
    unit: str
    weight: float
    points: float


class Objective(Frozen):
    """The objective value (points) and its terms."""

    total: float
    terms: list[Term]

    def points(self, name: str) -> float:
        """Return the points of one term (0 when absent)."""
        return next((t.points for t in self.terms if t.name == name), 0.0)


class Plan(Frozen):
    """A schedule and how good it is."""

    format: Literal["vertebro-schedule-plan/1"] = PLAN_FORMAT
    instance: str
    planner: Planner
    status: Status
    objective: Objective
    bound: float | None = None
    gap: float | None = None
    seconds: float
    sessions: list[PlannedSession]
    unscheduled: list[UnscheduledSession]
    problems: list[str] = Field(default_factory=list)
