"""The day itself and after: the procedure record, monitoring, discharge and complications."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from vertebro.clinical import ClinicPolicy
from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.errors import Conflict, InvalidFields, InvalidInput
from vertebro.pathway.machine import Action, Role, State, evaluate
from vertebro.pathway.monitoring import ObservationSet
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
from vertebro.store.workflow.steps import apply_facts, take_action


@dataclass(frozen=True, slots=True)
class LevelRecord:
    """What the radiologist records for one treated level (product and volume may wait in a draft)."""

    level: str
    approach: str
    guidance: str
    contrast: bool
    cement_product: str | None
    cement_volume_ml: float | None
    leakage: str
    leakage_symptomatic: bool
    leaks: tuple[str, ...] = ()

    def sites(self) -> tuple[str, ...]:
        """Every leak site recorded at this level (none for "none")."""
        named = self.leaks or ((self.leakage,) if self.leakage != "none" else ())
        return tuple(dict.fromkeys(site for site in named if site != "none"))


@dataclass(frozen=True, slots=True)
class RadiationDose:
    """Fluoroscopy time and dose of the procedure; CT dose indices when CT guided a level (decision 0018)."""

    fluoroscopy_minutes: float | None = None
    dap_gy_cm2: float | None = None
    air_kerma_mgy: float | None = None
    ctdivol_mgy: float | None = None
    dlp_mgy_cm: float | None = None


def _local_day(moment: dt.datetime, zone_name: str) -> dt.date:
    return moment.astimezone(zone_of(zone_name)).date()


def signing_problems(
    levels: list[LevelRecord],
    *,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    dose: RadiationDose,
    booked_on: dt.date | None,
    date_change_reason: str | None,
    now: dt.datetime,
    zone_name: str = DEFAULT_TIME_ZONE,
) -> list[str]:
    """Return every reason the record cannot be signed yet (all at once), or nothing."""
    return [
        message
        for _, message in signing_problems_by_field(
            levels,
            started_at=started_at,
            ended_at=ended_at,
            dose=dose,
            booked_on=booked_on,
            date_change_reason=date_change_reason,
            now=now,
            zone_name=zone_name,
        )
    ]


def signing_problems_by_field(
    levels: list[LevelRecord],
    *,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    dose: RadiationDose,
    booked_on: dt.date | None,
    date_change_reason: str | None,
    now: dt.datetime,
    zone_name: str = DEFAULT_TIME_ZONE,
) -> list[tuple[str, str]]:
    """Return (form field, reason) for every reason the record cannot be signed yet, all at once (decision 0018).

    The procedure's day is the clinic's (``zone_name``), compared with the booked day.
    """
    problems: list[tuple[str, str]] = []
    if started_at is None:
        problems.append(("started_at", "record the start time"))
    if ended_at is None:
        problems.append(("ended_at", "record the end time"))
    for moment, what in ((started_at, "start"), (ended_at, "end")):
        if moment is not None and moment > now + dt.timedelta(minutes=5):
            problems.append((f"{what}ed_at", f"the {what} time is in the future"))
    for level in levels:
        if not level.cement_product:
            problems.append((f"{level.level}.cement_product", f"{level.level}: record the cement product"))
        if level.cement_volume_ml is None:
            problems.append((f"{level.level}.cement_volume_ml", f"{level.level}: record the cement volume"))
    fluoroscopy = any(lv.guidance == "fluoroscopy" for lv in levels)
    ct = any(lv.guidance == "ct" for lv in levels)
    if fluoroscopy and dose.fluoroscopy_minutes is None:
        problems.append(("fluoroscopy_minutes", "record the fluoroscopy time"))
    if fluoroscopy and dose.dap_gy_cm2 is None and dose.air_kerma_mgy is None:
        problems.append(("dap_gy_cm2", "record the dose: dose-area product (Gy·cm²) or reference air kerma (mGy)"))
    if ct and (dose.ctdivol_mgy is None or dose.dlp_mgy_cm is None):
        field = "ctdivol_mgy" if dose.ctdivol_mgy is None else "dlp_mgy_cm"
        problems.append((field, "CT guided a level: record the CTDIvol (mGy) and the DLP (mGy·cm)"))
    if (
        started_at is not None
        and booked_on is not None
        and _local_day(started_at, zone_name) != booked_on
        and not date_change_reason
    ):
        problems.append(
            (
                "date_change_reason",
                f"the procedure date {_local_day(started_at, zone_name).isoformat()} differs from the booked date "
                f"{booked_on.isoformat()}: give the reason (the aftercare dates then follow the procedure date)",
            )
        )
    return problems


def _apply_levels(record: ProcedureRecord, levels: list[LevelRecord]) -> None:
    """Update the record's levels in place, by level (a re-saved draft keeps its rows; no unique-key clash)."""
    existing = {row.level: row for row in record.levels}
    kept = []
    for level in levels:
        row = existing.get(level.level) or ProcedureLevel(level=level.level)
        sites = level.sites()
        row.approach = level.approach
        row.guidance = level.guidance
        row.contrast = level.contrast
        row.cement_product = (level.cement_product or "").strip() or None
        row.cement_volume_ml = level.cement_volume_ml
        row.leakage = sites[0] if sites else "none"
        row.leaks = list(sites)
        row.leakage_symptomatic = level.leakage_symptomatic and bool(sites)
        kept.append(row)
    record.levels = kept


def record_procedure(
    uow: UnitOfWork,
    case_id: int,
    *,
    levels: list[LevelRecord],
    sedation: bool,
    started_at: dt.datetime | None,
    ended_at: dt.datetime | None,
    complications: list[str],
    notes: str | None,
    sign: bool,
    actor: Actor,
    policy: ClinicPolicy,
    expected_version: int | None,
    technique: str = "vertebroplasty",
    dose: RadiationDose | None = None,
    date_change_reason: str | None = None,
) -> ProcedureRecord:
    """Save the procedure record as a draft (at any point of the procedure) or sign it.

    Signing refuses with every missing item at once (start and end times, each level's cement product and
    volume, the fluoroscopy time and dose, CT dose indices when CT guided, a reason when the procedure date
    differs from the booked date); a signed record moves the case to monitoring, and a changed date moves the
    case's procedure date (and sedation, when it differs from the plan) so that every dated aftercare item and
    the escort follow the record.
    """
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    if workflow.state != State.IN_PROCEDURE.value:
        raise Conflict(f"the case is {workflow.state}: start the procedure first", field="state")
    if not levels:
        raise InvalidInput("record at least one treated level", field="levels")
    if len({lv.level for lv in levels}) != len(levels):
        raise InvalidInput("a level is listed twice", field="levels")
    if technique not in TECHNIQUES:
        raise InvalidInput(f"technique: use one of {', '.join(TECHNIQUES)}", field="technique")
    if started_at is not None and ended_at is not None and ended_at < started_at:
        raise InvalidInput("the end time is before the start time", field="ended_at")
    for level in levels:
        if level.leakage_symptomatic and not level.sites():
            raise InvalidInput(f"{level.level}: a symptomatic leak needs its site", field=f"{level.level}.leakage")
    dose = dose or RadiationDose()
    reason = (date_change_reason or "").strip() or None
    record = uow.records.procedure(case_id)
    if record is not None and record.signed_at is not None:
        raise Conflict("the procedure record is signed and can no longer change", field="procedure")
    now = utc_now()
    facts = facts_of(workflow.case)
    if sign:
        problems = signing_problems_by_field(
            levels,
            started_at=started_at,
            ended_at=ended_at,
            dose=dose,
            booked_on=facts.procedure_date,
            date_change_reason=reason,
            now=now,
            zone_name=policy.time_zone,
        )
        if problems:
            by_field: dict[str, str] = {}
            for name, message in problems:
                by_field[name] = f"{by_field[name]}; {message}" if name in by_field else message
            raise InvalidFields("not signed: " + "; ".join(m for _, m in problems), by_field)
    if record is None:
        record = ProcedureRecord(case_id=case_id, operator=actor.username, started_at=started_at or now, levels=[])
        uow.records.add(record)
    _apply_levels(record, levels)
    record.sedation = sedation
    record.technique = technique
    record.started_at = started_at or record.started_at
    record.start_recorded = started_at is not None
    record.ended_at = ended_at
    record.complications = [c for c in complications if c]
    record.notes = (notes or "").strip() or None
    for name, value in dataclasses.asdict(dose).items():
        setattr(record, name, value)
    record.date_change_reason = reason
    uow.session.flush()
    record_audit(
        uow, actor, "update", "procedure", record.id, workflow.case.patient_id, levels=[lv.level for lv in levels]
    )
    if sign and started_at is not None:
        record.operator = actor.username
        record.signed_by = actor.username
        record.signed_at = now
        uow.session.flush()
        local = started_at.astimezone(zone_of(policy.time_zone))
        changes: dict[str, object] = {}
        # the aftercare (restarts, the escort, the monitoring) counts from the procedure as recorded: its start,
        # also on the booked day at another hour, and its length (hazard H135)
        start_time = local.time().replace(second=0, microsecond=0)
        if facts.procedure_date != local.date() or facts.procedure_time != start_time:
            changes["procedure_date"] = local.date().isoformat()
            changes["procedure_time"] = start_time.isoformat("minutes")
        length = None if ended_at is None else round((ended_at - started_at).total_seconds() / 60)
        if length is not None and 1 <= length <= 24 * 60 and facts.procedure_minutes != length:
            changes["procedure_minutes"] = length
        if facts.sedation_planned is not sedation:  # the escort and aftercare follow what was given
            changes["sedation_planned"] = sedation
        if changes:
            apply_facts(uow, workflow, changes, policy)
            record_audit(
                uow,
                actor,
                "update",
                "case",
                case_id,
                workflow.case.patient_id,
                fields=sorted(changes),
                booked_on=None if facts.procedure_date is None else facts.procedure_date.isoformat(),
                performed_on=local.date().isoformat(),
                reason=reason,
                source="signed procedure record",
            )
        take_action(uow, case_id, Action.SIGN_PROCEDURE, actor, policy, expected_version=None)
    return record


def record_observation(uow: UnitOfWork, case_id: int, *, observation: ObservationSet, actor: Actor) -> Observation:
    """Record a set of observations while the patient is monitored, with its NEWS2 score (monitoring.news2).

    Every value outside its plausible range is refused at once, each naming its field.
    """
    problems = observation.problems()
    if problems:
        raise InvalidInput("; ".join(message for _, message in problems), field=problems[0][0])
    workflow = load_workflow(uow, case_id)
    if workflow.state not in (State.IN_PROCEDURE.value, State.MONITORING.value):
        raise Conflict(f"the case is {workflow.state}: observations are recorded during monitoring", field="state")
    value = observation.stored()
    row = Observation(case_id=case_id, kind="vitals", value=value, recorded_by=actor.username)
    uow.records.add(row)
    uow.session.flush()
    record_audit(
        uow,
        actor,
        "create",
        "observation",
        row.id,
        workflow.case.patient_id,
        kind="vitals",
        news2=value["news2"],
        news2_risk=value["news2_risk"],
        neuro=value["neuro"],
    )
    return row


DISCHARGE_CRITERIA = (
    "neuro_baseline",
    "walking",
    "pain_not_above_baseline",
    "tolerating_oral_intake",
)
MIN_OVERRIDE_REASON = 10


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
    override_reason: str | None = None,
) -> Discharge:
    """Discharge a monitored patient when every criterion is met (and, after sedation, the escort named).

    Also refused before the planned monitoring time has passed, while the last NEWS2 is in an escalation band,
    or after a changed neurological check (pathway.monitoring), unless a radiologist writes a reason: the
    override is stored on the discharge, audited, and printed on the discharge sheet.
    """
    workflow = load_workflow(uow, case_id, for_update=True)
    check_version(workflow, expected_version)
    facts = facts_of(workflow.case)
    reason = (override_reason or "").strip() or None
    if reason is not None:
        if actor.role is not Role.RADIOLOGIST:
            raise InvalidInput(
                "only a radiologist can discharge despite the monitoring checks", field="override_reason"
            )
        if len(reason) < MIN_OVERRIDE_REASON:
            raise InvalidInput(
                f"write a reason of at least {MIN_OVERRIDE_REASON} characters to override", field="override_reason"
            )
    missing = [name.replace("_", " ") for name in DISCHARGE_CRITERIA if not criteria.get(name)]
    if facts.sedation_planned and (aldrete is None or aldrete < 9):
        missing.append("Aldrete score of 9 or more")
    record = uow.records.discharge(case_id) or Discharge(case_id=case_id, discharged_by=actor.username, criteria={})
    record.criteria = {**criteria, "aldrete": aldrete}
    record.driver_name = (driver_name or "").strip() or None
    record.companion_name = (companion_name or "").strip() or None
    record.aftercare_issued = True
    view = case_view(uow, case_id, actor, policy, audit=False)
    concerns = view.snapshot.monitoring_concerns
    snapshot = dataclasses.replace(
        view.snapshot,
        discharge_criteria_missing=tuple(missing),
        driver_confirmed=bool(record.driver_name),
        companion_confirmed=bool(record.companion_name),
        override_reason=reason,
    )
    verdict = evaluate(Action.DISCHARGE, snapshot, actor.role)
    if not verdict.allowed:
        raise TransitionRefused(verdict)
    overridden = list(concerns) if reason else []
    record.override_reason = reason if overridden else None
    record.override_by = actor.username if overridden else None
    record.overridden = overridden or None
    if uow.records.discharge(case_id) is None:
        uow.records.add(record)
    workflow.state = State.DISCHARGED.value
    workflow.updated_at = utc_now()
    uow.session.flush()
    if overridden:
        record_audit(
            uow, actor, "override", "discharge", case_id, workflow.case.patient_id, reason=reason, overridden=overridden
        )
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


TIMER_ACTIONS = ("start", "pause", "resume", "injection_start", "injection_end")


def cement_timer(
    uow: UnitOfWork,
    case_id: int,
    level: str,
    action: str,
    *,
    planned_levels: tuple[str, ...],
    actor: Actor,
    planned_technique: str = "vertebroplasty",
) -> ProcedureLevel:
    """Start, pause or resume the cement timer of one level, or record its injection's start or end (decision 0034).

    The times are stored on the level, so the timer reads the same after a save or a reload. Every action is
    idempotent: a second "start" never restarts the timer (the cement was mixed once), a second "injection start"
    keeps the first time. Before any draft exists, the first timer action saves one with the planned levels,
    technique and sedation (approach and guidance as the form's first choices, to be checked in the record), just
    as the form would before anything is typed. A signed record no longer changes. Audited as an update of the
    procedure record.
    """
    if action not in TIMER_ACTIONS:
        raise InvalidInput(f"action: use one of {', '.join(TIMER_ACTIONS)}", field="action")
    workflow = load_workflow(uow, case_id, for_update=True)
    if workflow.state != State.IN_PROCEDURE.value:
        raise Conflict(f"the case is {workflow.state}: the cement timer runs during the procedure", field="state")
    record = uow.records.procedure(case_id)
    if record is not None and record.signed_at is not None:
        raise Conflict("the procedure record is signed and can no longer change", field="procedure")
    now = utc_now()
    if record is None:
        if level not in planned_levels:
            raise InvalidInput(f"{level} is not a planned level ({', '.join(planned_levels)})", field="level")
        record = ProcedureRecord(
            case_id=case_id,
            operator=actor.username,
            started_at=now,
            start_recorded=False,
            technique=planned_technique if planned_technique in TECHNIQUES else "vertebroplasty",
            sedation=facts_of(workflow.case).sedation_planned is True,
            levels=[],
        )
        uow.records.add(record)
        _apply_levels(
            record,
            [LevelRecord(lv, "unipedicular", "fluoroscopy", False, None, None, "none", False) for lv in planned_levels],
        )
        uow.session.flush()
    row = next((lv for lv in record.levels if lv.level == level), None)
    if row is None:
        recorded = ", ".join(lv.level for lv in record.levels)
        raise InvalidInput(f"{level} is not a level of this procedure record ({recorded})", field="level")
    _timer_step(row, action, now)
    uow.session.flush()
    record_audit(
        uow, actor, "update", "procedure", record.id, workflow.case.patient_id, level=level, cement_timer=action
    )
    return row


def _timer_step(row: ProcedureLevel, action: str, now: dt.datetime) -> None:
    """Apply one timer action to a level's stored times (refusing one that makes no sense yet)."""
    if action == "start":
        if row.cement_mixed_at is None:
            row.cement_mixed_at = now
            row.timer_paused_seconds = 0
        return
    if row.cement_mixed_at is None:
        raise InvalidInput(f"{row.level}: start the cement timer at mixing first", field="action")
    if action == "pause":
        if row.timer_paused_at is None:
            row.timer_paused_at = now
    elif action == "resume":
        if row.timer_paused_at is not None:
            held = int((now - row.timer_paused_at).total_seconds())
            row.timer_paused_seconds = (row.timer_paused_seconds or 0) + max(held, 0)
            row.timer_paused_at = None
    elif action == "injection_start":
        if row.injection_started_at is None:
            row.injection_started_at = now
    elif row.injection_started_at is None:
        raise InvalidInput(f"{row.level}: record the start of the injection first", field="action")
    elif row.injection_ended_at is None:
        row.injection_ended_at = now
