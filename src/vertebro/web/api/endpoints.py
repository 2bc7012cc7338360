"""The JSON API: the same operations the pages use, for other programs (OpenAPI at /docs).

Changes to a case need ``If-Match`` with the case's ETag (``W/"<version>"``): a stale version gets
412, a missing header 428. The version is checked inside the write transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from vertebro.clinical.clock import aware
from vertebro.clinical.news2 import Consciousness
from vertebro.errors import PreconditionRequired
from vertebro.ids import RecordId, record_id, whole_number
from vertebro.pathway.checklist import Confirmations
from vertebro.pathway.machine import Action, Role
from vertebro.pathway.monitoring import NeuroCheck, ObservationSet
from vertebro.store import workflow as svc
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow

router = APIRouter(prefix="/api", tags=["cases"])
DESK = (Role.COORDINATOR, Role.NURSE)
CARE = (Role.NURSE, Role.RADIOLOGIST)


class Strict(BaseModel):
    """Base of every API body: strict types, no unknown fields."""

    model_config = ConfigDict(strict=True, extra="forbid")


Whole = Annotated[int, BeforeValidator(whole_number)]  # 5 or 5.0: the same JSON integer (vertebro.ids.whole_number)
# JSON has no date type: dates and times arrive as ISO 8601 text, which these (and only these) fields parse.
Moment = Annotated[dt.datetime, Field(strict=False)]
Day = Annotated[dt.date, Field(strict=False)]


class WorklistItem(BaseModel):
    """A worklist line."""

    case_id: int
    patient_id: int
    identifier: str
    name: str | None
    state: str
    treatment: str | None
    category: str | None
    updated_at: dt.datetime


class CaseOut(BaseModel):
    """A case: its state, version, actions and the current assessment."""

    case_id: int
    patient_id: int
    state: str
    version: int
    checklist_missing: list[str]
    documentation_missing: list[str]
    unrecorded_facts: list[str] = Field(
        default_factory=list,
        description="Safety facts not recorded (yes / no not given): the case cannot be booked until each is recorded.",
    )
    insurance_status: str
    actions: dict[str, list[str]]
    earliest_start: dt.datetime | None = Field(
        default=None, description="the earliest start a booking may have now; null while a decision is outstanding"
    )
    start_constraints: list[str] = Field(default_factory=list, description="what sets the earliest start")
    assessment: dict[str, Any]


class ActionIn(Strict):
    """A pathway step; a reason is needed to decide against the recommendation or to close."""

    reason: str | None = Field(default=None, max_length=2000)


class ChecklistIn(Strict):
    """The pre-procedure call's confirmations."""

    medications_reviewed: bool = False
    holds_explained: bool = False
    allergies_reviewed: bool = False
    pregnancy_test_negative: bool | None = None
    fasting_explained: bool = False
    driver_name: str | None = Field(default=None, max_length=200)
    companion_name: str | None = Field(default=None, max_length=200)
    arrival_time_told: bool = False


class InsuranceIn(Strict):
    """Payer and pre-approval status (or a self-pay decision)."""

    payer: str | None = Field(default=None, max_length=200)
    status: Literal["unknown", "not_required", "pending", "approved", "denied", "self_pay"]
    reference: str | None = Field(default=None, max_length=200)


class BookingIn(Strict):
    """A slot to book: the room and the start of the first slot."""

    room: str = Field(min_length=1, max_length=32)
    starts_at: Moment


class CancelIn(Strict):
    """Cancelling a booking: why (10 to 500 characters), and the confirmation."""

    reason: str = Field(max_length=500)
    confirm: bool


class LevelIn(Strict):
    """One treated level."""

    level: str = Field(min_length=2, max_length=3)
    approach: Literal["unipedicular", "bipedicular"]
    guidance: Literal["fluoroscopy", "ct"]
    contrast: bool
    cement_product: str | None = Field(default=None, min_length=1, max_length=64)
    cement_volume_ml: float | None = Field(default=None, gt=0, le=20)
    leakage: Literal["none", "venous", "disc", "epidural", "foraminal", "paravertebral"] = "none"
    leaks: list[Literal["venous", "disc", "epidural", "foraminal", "paravertebral"]] = Field(
        default_factory=list, max_length=5
    )
    leakage_symptomatic: bool = False


class DoseIn(Strict):
    """Fluoroscopy time and dose; CT dose indices when CT guided a level (all required to sign)."""

    fluoroscopy_minutes: float | None = Field(default=None, ge=0, le=600)
    dap_gy_cm2: float | None = Field(default=None, ge=0, le=100000)
    air_kerma_mgy: float | None = Field(default=None, ge=0, le=100000)
    ctdivol_mgy: float | None = Field(default=None, ge=0, le=10000)
    dlp_mgy_cm: float | None = Field(default=None, ge=0, le=100000)


class ProcedureIn(Strict):
    """The procedure record; ``sign`` signs it and starts monitoring."""

    levels: list[LevelIn] = Field(min_length=1, max_length=24)
    technique: Literal["vertebroplasty", "kyphoplasty"] = "vertebroplasty"
    sedation: bool
    started_at: Moment | None = None
    ended_at: Moment | None = None
    complications: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(default=None, max_length=4000)
    dose: DoseIn = DoseIn()
    date_change_reason: str | None = Field(default=None, max_length=500)
    sign: bool = False


class ObservationIn(Strict):
    """A set of observations: vitals for NEWS2 (plausible ranges checked by the service, every field outside its
    range named), pain and the neurological check (unchanged, changed or not done)."""

    systolic: Whole
    diastolic: Whole
    heart_rate: Whole
    respiration_rate: Whole
    spo2: Whole
    on_oxygen: bool
    temperature_c: float
    consciousness: Literal["alert", "confusion", "voice", "pain", "unresponsive"]
    pain_nrs: Whole
    neuro: Literal["unchanged", "changed", "not_done"]
    spo2_scale_2: bool = False


class DischargeIn(Strict):
    """Discharge criteria and, after sedation, the escort."""

    neuro_baseline: bool
    walking: bool
    pain_not_above_baseline: bool
    tolerating_oral_intake: bool
    aldrete: Annotated[int, Field(ge=0, le=10), BeforeValidator(whole_number)] | None = None
    driver_name: str | None = Field(default=None, max_length=200)
    companion_name: str | None = Field(default=None, max_length=200)
    override_reason: str | None = Field(default=None, max_length=2000)


class FollowUpIn(Strict):
    """Follow-up questionnaire scores."""

    nrs: Whole = Field(ge=0, le=10)
    odi_percent: float | None = Field(default=None, ge=0, le=100)
    rdq: Annotated[int, Field(ge=0, le=24), BeforeValidator(whole_number)] | None = None


class ComplicationIn(Strict):
    """A complication after the procedure."""

    kind: Literal[
        "new_fracture",
        "adjacent_fracture",
        "infection",
        "cement_embolism",
        "symptomatic_cement_leak",
        "bleeding_or_haematoma",
        "new_neurological_deficit",
        "pain_flare",
        "other",
    ]
    occurred_on: Day
    serious: bool = False
    notes: str | None = Field(default=None, max_length=2000)


def if_match(value: str | None) -> int:
    """Return the version named by an If-Match header (``W/"3"`` or ``"3"``); 428 when missing."""
    if not value:
        raise PreconditionRequired("send If-Match with the case's ETag (GET the case first)", field="If-Match")
    version = record_id(value.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise PreconditionRequired(f"If-Match {value!r} is not an ETag of this API", field="If-Match")
    return version


IfMatch = Annotated[str | None, Header(alias="If-Match")]
CaseId = Annotated[RecordId, Path()]


def _case_out(uow: UoW, case_id: int, staff: Staff, policy: Policy) -> Response:
    """Return the case as JSON with its ETag.

    The body is built (and validated) once as ``CaseOut`` and serialised here: returning the model would
    make FastAPI validate the large assessment a second time in another worker-thread trip.
    """
    view = svc.case_view(uow, case_id, staff.actor, policy)
    uow.commit()
    out = CaseOut(
        case_id=case_id,
        patient_id=view.workflow.case.patient_id,
        state=view.workflow.state,
        version=view.workflow.version,
        checklist_missing=list(view.checklist_missing),
        documentation_missing=list(view.documentation_missing),
        unrecorded_facts=[gap.label for gap in view.assessment.unrecorded],
        insurance_status=view.workflow.insurance_status,
        actions={v.action.value: list(v.refusals) for v in view.actions},
        assessment=view.assessment_data,
        **_start(view, policy),
    )
    return Response(
        out.model_dump_json(), media_type="application/json", headers={"ETag": f'W/"{view.workflow.version}"'}
    )


def _start(view: svc.CaseView, policy: Policy) -> dict[str, Any]:
    """The earliest feasible start and its constraints (rule booking.feasible_start), while booking is ahead."""
    if view.workflow.state not in ("eligible", "prepared"):
        return {}
    feasible = svc.feasibility_now(view.facts, policy)
    constraints = [
        f"{c.subject}: {c.reason}"
        + (f" (not before {feasible.describe(c.not_before)})" if c.not_before else " (no date until recorded)")
        for c in feasible.constraints
    ]
    return {"earliest_start": feasible.earliest, "start_constraints": constraints}


@router.get("/worklist", response_model=list[WorklistItem])
def worklist(
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    state: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[WorklistItem]:
    """Cases by state and search (each patient listed is audited as read)."""
    entries = svc.worklist(uow, staff.actor, state=state, query=q, limit=limit)
    uow.commit()
    return [
        WorklistItem(
            case_id=e.case_id,
            patient_id=e.patient_id,
            identifier=e.identifier,
            name=e.name,
            state=e.state,
            treatment=e.treatment,
            category=e.category,
            updated_at=e.updated_at,
        )
        for e in entries
    ]


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(
    case_id: CaseId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
) -> Response:
    """One case with its ETag, the steps possible now and the current assessment."""
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseOut)
def take_action(
    case_id: CaseId,
    action: Action,
    body: ActionIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Move the case along its path; 409 with every reason when the guard refuses.

    ``cancel_booking`` cancels the booking itself (its slots are freed) and needs a ``reason``; the
    call, made against the ETag the client saw, is its confirmation. ``book`` needs a slot: POST ``/booking``.
    """
    if action is Action.CANCEL_BOOKING:
        svc.cancel_booking(
            uow,
            case_id,
            reason=body.reason,
            confirmed=True,
            actor=staff.actor,
            policy=policy,
            expected_version=if_match(match),
        )
    else:
        svc.take_action(uow, case_id, action, staff.actor, policy, expected_version=if_match(match), reason=body.reason)
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.patch("/cases/{case_id}/facts", response_model=CaseOut)
def patch_facts(
    case_id: CaseId,
    body: dict[str, Any],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.RADIOLOGIST))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Change case facts (JSON merge; fractures merge by level); the whole case is re-validated strictly."""
    svc.update_facts(uow, case_id, body, staff.actor, policy, expected_version=if_match(match))
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.put("/cases/{case_id}/checklist", response_model=CaseOut)
def put_checklist(
    case_id: CaseId,
    body: ChecklistIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Record the pre-procedure call's confirmations."""
    svc.save_checklist(
        uow, case_id, Confirmations(**body.model_dump()), staff.actor, expected_version=if_match(match), policy=policy
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.put("/cases/{case_id}/insurance", response_model=CaseOut)
def put_insurance(
    case_id: CaseId,
    body: InsuranceIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Record the payer and pre-approval status."""
    svc.save_insurance(
        uow,
        case_id,
        payer=body.payer,
        status=body.status,
        reference=body.reference,
        actor=staff.actor,
        expected_version=if_match(match),
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/booking", response_model=CaseOut)
def post_booking(
    case_id: CaseId,
    body: BookingIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Book a slot; 409 when it is taken (enforced by the database) or the guard refuses."""
    # a start without an offset is the clinic's wall-clock time, never the server's
    starts_at = aware(body.starts_at, policy.time_zone)
    svc.book(
        uow,
        case_id,
        room=body.room,
        starts_at=starts_at,
        actor=staff.actor,
        policy=policy,
        expected_version=if_match(match),
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/booking/cancel", response_model=CaseOut)
def cancel_booking(
    case_id: CaseId,
    body: CancelIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Cancel the booking (its slots are freed, the case is prepared again); a reason and ``confirm: true``."""
    svc.cancel_booking(
        uow,
        case_id,
        reason=body.reason,
        confirmed=body.confirm,
        actor=staff.actor,
        policy=policy,
        expected_version=if_match(match),
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/procedure", response_model=CaseOut)
def post_procedure(
    case_id: CaseId,
    body: ProcedureIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.RADIOLOGIST))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Record (and optionally sign) the procedure."""
    svc.record_procedure(
        uow,
        case_id,
        levels=[
            svc.LevelRecord(
                **{**lv.model_dump(), "leaks": tuple(lv.leaks) or ((lv.leakage,) if lv.leakage != "none" else ())}
            )
            for lv in body.levels
        ],
        technique=body.technique,
        sedation=body.sedation,
        started_at=body.started_at,
        ended_at=body.ended_at,
        complications=body.complications,
        notes=body.notes,
        dose=svc.RadiationDose(**body.dose.model_dump()),
        date_change_reason=body.date_change_reason,
        sign=body.sign,
        actor=staff.actor,
        policy=policy,
        expected_version=if_match(match),
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/observations", response_model=CaseOut)
def post_observation(
    case_id: CaseId,
    body: ObservationIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
) -> Response:
    """Record vitals and a neurological check."""
    values = body.model_dump()
    observation = ObservationSet(
        **{
            **values,
            "consciousness": Consciousness(values["consciousness"]),
            "neuro": NeuroCheck(values["neuro"]),
        }
    )
    svc.record_observation(uow, case_id, observation=observation, actor=staff.actor)
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/discharge", response_model=CaseOut)
def post_discharge(
    case_id: CaseId,
    body: DischargeIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    match: IfMatch = None,
) -> Response:
    """Discharge (409 with the unmet criteria otherwise)."""
    criteria = {name: getattr(body, name) for name in svc.DISCHARGE_CRITERIA}
    svc.discharge(
        uow,
        case_id,
        criteria=criteria,
        aldrete=body.aldrete,
        driver_name=body.driver_name,
        companion_name=body.companion_name,
        actor=staff.actor,
        policy=policy,
        expected_version=if_match(match),
        override_reason=body.override_reason,
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/follow-ups/{visit}", response_model=CaseOut)
def post_follow_up(
    case_id: CaseId,
    visit: Annotated[str, Path(pattern="^(2w|3m|12m)$")],
    body: FollowUpIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST))],
    policy: Policy,
) -> Response:
    """Record a follow-up questionnaire."""
    svc.record_follow_up(
        uow, case_id, visit=visit, nrs=body.nrs, odi_percent=body.odi_percent, rdq=body.rdq, actor=staff.actor
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)


@router.post("/cases/{case_id}/complications", response_model=CaseOut)
def post_complication(
    case_id: CaseId,
    body: ComplicationIn,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
) -> Response:
    """Record a complication after the procedure."""
    svc.record_complication(
        uow,
        case_id,
        kind=body.kind,
        occurred_on=body.occurred_on,
        serious=body.serious,
        notes=body.notes,
        actor=staff.actor,
    )
    uow.commit()
    return _case_out(uow, case_id, staff, policy)
