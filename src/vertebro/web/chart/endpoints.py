"""The patient chart and every step staff take on a case, as HTML forms.

Each form posts to a route that calls one service and commits. On a mistake or a conflicting edit
the chart is shown again with the message next to the field and the values that were typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical.news2 import Consciousness
from vertebro.dicom import chart as dicom_chart
from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.intake.answers import PORTAL_WORDS
from vertebro.pathway.checklist import Confirmations
from vertebro.pathway.machine import TRANSITIONS, Action, Role
from vertebro.pathway.monitoring import NeuroCheck, ObservationSet
from vertebro.store import workflow as svc
from vertebro.store.models import LEAKAGE, TECHNIQUES
from vertebro.store.portal.cases import from_the_portal
from vertebro.web.chart import care_forms
from vertebro.web.chart.procedure_mode import collect, raise_problems, submit_from_mode, typed_values
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, form_data
from vertebro.web.referrals.endpoints import CAUSES
from vertebro.web.safety_forms import safety_patch
from vertebro.web.templating import page

router = APIRouter()
Form = Annotated[FormData, Depends(form_data)]

DESK = (Role.COORDINATOR, Role.NURSE)
CARE = (Role.NURSE, Role.RADIOLOGIST)
# the states in which the chart asks what the room's modality reported (decision 0023)
DICOM_STATES = frozenset({"scheduled", "in_procedure", "monitoring", "discharged", "follow_up", "closed"})


def _chart(
    request: Request,
    uow: UoW,
    staff: Staff,
    policy: Policy,
    patient_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    section: str | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    chart = svc.chart(uow, patient_id, staff.actor, policy)
    portal = from_the_portal(uow, [view.workflow.case_id for view in chart.cases])
    uow.commit()
    feasibility = {  # the earliest safe start of each case still to book (rule booking.feasible_start)
        view.workflow.case_id: svc.feasibility_now(view.facts, policy)
        for view in chart.cases
        if view.workflow.state in ("eligible", "prepared")
    }
    modality = dicom_chart.modality_reports(  # what the procedure room's modality reported (decision 0023)
        uow, [v.workflow.case_id for v in chart.cases if v.workflow.state in DICOM_STATES]
    )
    return page(
        request,
        "chart.html",
        staff,
        status,
        chart=chart,
        errors=errors or {},
        values=values or {},
        section=section,
        flash=flash,
        flash_kind="error" if errors else "ok",
        leakage=LEAKAGE,
        causes=CAUSES,
        portal=portal,
        feasibility=feasibility,
        portal_words=PORTAL_WORDS,
        today=dt.date.today().isoformat(),
        procedure_values=care_forms.procedure_form_values,
        selected_leaks=care_forms.selected_leaks,
        observation_words=care_forms.observation_words,
        dose_fields=care_forms.DOSE_FIELDS,
        modality=modality,
        modality_prefill=dicom_chart.prefill,
        dose_review=dicom_chart.chart_review,
        transitions=TRANSITIONS,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def chart_page(
    request: Request,
    patient_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
) -> HTMLResponse:
    """A patient's chart: every case with its assessment, steps and timeline (the read is audited)."""
    return _chart(request, uow, staff, policy, patient_id)


@router.get("/cases/{case_id}/reasons", response_class=HTMLResponse)
def case_reasons(
    request: Request,
    case_id: Annotated[RecordId, Path()],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
) -> HTMLResponse:
    """Each profile's reasons, the fracture table and the sources of a case's assessment (the read is audited).

    The chart loads this on demand (htmx, when its "Why" panel is opened) so that the chart itself stays
    light; without JavaScript the panel's link opens it as a page of its own.
    """
    view = svc.case_view(uow, case_id, staff.actor, policy)
    uow.commit()
    fragment = request.headers.get("hx-request") == "true"
    return page(
        request,
        "case_reasons.html",
        staff,
        layout="_fragment.html" if fragment else "base.html",
        view=view,
        a=view.assessment_data,
        cid=case_id,
    )


def _submit(
    request: Request,
    uow: UoW,
    staff: Staff,
    policy: Policy,
    case_id: RecordId,
    form: FormData,
    section: str,
    work: Callable[[], Any],
    done: str,
) -> Response:
    """Run one change; on success redirect to the chart, on failure show it again with the message."""
    workflow = uow.workflows.get(case_id)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    patient_id = workflow.case.patient_id
    try:
        work()
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403, 404):
            raise
        uow.rollback()
        field = error.field or "form"
        errors = {f"{section}.{f}": m for f, m in getattr(error, "problems", {}).items()}  # every mistake at once
        errors.setdefault(f"{section}.{field}", error.message)
        errors[section] = error.message
        return _chart(
            request,
            uow,
            staff,
            policy,
            patient_id,
            status=error.status_code,
            errors=errors,
            values=typed_values(form),
            section=section,
            flash=error.message,
        )
    return RedirectResponse(f"/patients/{patient_id}?done={done}#case-{case_id}-{section}", status_code=303)


@router.post("/cases/{case_id}/actions/{action}")
def take_action(
    request: Request,
    case_id: RecordId,
    action: Action,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
    form: Form,
) -> Response:
    """Move the case along its path (the pathway checks the role and the guards).

    Booking needs a slot (the calendar); cancelling needs a reason and a confirmation (the booking's form).
    The chart offers a step's button only to the roles that may take it; another role posting it anyway is
    refused by the pathway with the reason on the page (409).
    """
    if action is Action.BOOK:
        return RedirectResponse(f"/calendar?case_id={case_id}", status_code=303)
    if action is Action.CANCEL_BOOKING:
        return cancel_booking(request, case_id, uow, staff, policy, form)
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "actions",
        lambda: svc.take_action(
            uow,
            case_id,
            action,
            staff.actor,
            policy,
            expected_version=form.version(),
            reason=form.text("reason", 2000),
        ),
        action.value,
    )


@router.post("/cases/{case_id}/facts")
def update_facts(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.RADIOLOGIST))],
    policy: Policy,
    form: Form,
) -> Response:
    """Imaging facts for one level, entered by the radiologist; the case is re-assessed."""

    def work() -> None:
        level = form.required_text("level", 3)
        fracture: dict[str, Any] = {"level": level}
        if form.text("cause", 32) is not None:
            fracture["cause"] = form.choice("cause", CAUSES)
        if form.text("imaging_date", 10) is not None:
            fracture["imaging_date"] = form.day("imaging_date").isoformat()
        for name in (
            "mri_edema",
            "bone_scan_uptake",
            "intravertebral_cleft",
            "kyphotic_deformity",
            "height_loss_progressing",
            "retropulsion",
            "canal_compromise",
            "posterior_wall_intact",
            "unstable",
        ):
            fracture[name] = form.tristate(name)
        fracture["height_loss_percent"] = form.number("height_loss_percent", 0, 99.9)
        anterior = form.number("anterior", 0.1, 80)
        middle = form.number("middle", 0.1, 80)
        posterior = form.number("posterior", 0.1, 80)
        if any(v is not None for v in (anterior, middle, posterior)):
            if None in (anterior, middle, posterior):
                raise InvalidInput("give all three heights, or none", field="anterior")
            fracture["heights_mm"] = {"anterior": anterior, "middle": middle, "posterior": posterior}
        svc.update_facts(uow, case_id, {"fractures": [fracture]}, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "facts", work, "facts")


@router.post("/cases/{case_id}/checklist")
def save_checklist(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Form,
) -> Response:
    """The pre-procedure call's checklist."""

    def work() -> None:
        confirmations = Confirmations(
            medications_reviewed=form.checked("medications_reviewed"),
            holds_explained=form.checked("holds_explained"),
            allergies_reviewed=form.checked("allergies_reviewed"),
            pregnancy_test_negative=form.tristate("pregnancy_test_negative"),
            fasting_explained=form.checked("fasting_explained"),
            driver_name=form.text("driver_name", 200),
            companion_name=form.text("companion_name", 200),
            arrival_time_told=form.checked("arrival_time_told"),
        )
        svc.save_checklist(uow, case_id, confirmations, staff.actor, expected_version=form.version(), policy=policy)
        changes: dict[str, Any] = {}
        sedation = form.tristate("sedation_planned")
        if sedation is not None:
            changes["sedation_planned"] = sedation
        labs = {
            "inr": form.number("inr", 0.5, 15),
            "platelets": form.number("platelets", 0, 2000),
            "taken_on": form.day("labs_taken_on").isoformat() if form.text("labs_taken_on", 10) else None,
        }
        if any(value is not None for value in labs.values()):
            changes["labs"] = {k: v for k, v in labs.items() if v is not None}
        if changes:
            svc.update_facts(uow, case_id, changes, staff.actor, policy, expected_version=None)

    return _submit(request, uow, staff, policy, case_id, form, "checklist", work, "checklist")


@router.post("/cases/{case_id}/insurance")
def save_insurance(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Form,
) -> Response:
    """Payer, pre-approval status or a self-pay decision."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "insurance",
        lambda: svc.save_insurance(
            uow,
            case_id,
            payer=form.text("payer", 200),
            status=form.required_text("status", 16),
            reference=form.text("reference", 200),
            actor=staff.actor,
            expected_version=form.version(),
        ),
        "insurance",
    )


@router.post("/cases/{case_id}/booking")
def book(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Form,
) -> Response:
    """Book the case into a free slot (the database refuses a slot that is taken)."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "booking",
        lambda: svc.book(
            uow,
            case_id,
            room=form.required_text("room", 32),
            starts_at=form.moment("starts_at"),
            actor=staff.actor,
            policy=policy,
            expected_version=form.version(),
        ),
        "booked",
    )


@router.post("/cases/{case_id}/booking/cancel")
def cancel_booking(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Form,
) -> Response:
    """Cancel the booking and free the slot: a written reason and the confirmation box are required."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "booking",
        lambda: svc.cancel_booking(
            uow,
            case_id,
            reason=form.raw.get("reason"),
            confirmed=form.checked("confirm"),
            actor=staff.actor,
            policy=policy,
            expected_version=form.version(),
        ),
        "cancelled",
    )


def procedure_levels(form: FormData, problems: dict[str, str] | None = None) -> list[svc.LevelRecord]:
    """The levels of the procedure form; product and volume may be empty in a draft (signing requires them).

    With ``problems``, every unreadable value is noted there (and read as empty) instead of stopping at the first.
    """
    found: dict[str, str] = {} if problems is None else problems
    levels = []
    for level in form.all("level"):
        prefix = f"{level}."
        leaks = tuple(site for site in form.lists.get(prefix + "leaks", []) if site in LEAKAGE and site != "none")
        leakage = collect(
            found, lambda p=prefix: form.choice(p + "leakage", LEAKAGE) if form.raw.get(p + "leakage") else "none"
        )
        leakage = leakage or "none"
        levels.append(
            svc.LevelRecord(
                level=level,
                approach=collect(found, lambda p=prefix: form.choice(p + "approach", ("unipedicular", "bipedicular"))),
                guidance=collect(found, lambda p=prefix: form.choice(p + "guidance", ("fluoroscopy", "ct"))),
                contrast=form.checked(prefix + "contrast"),
                cement_product=collect(found, lambda p=prefix: form.text(p + "cement_product", 64)),
                cement_volume_ml=collect(found, lambda p=prefix: form.number(p + "cement_volume_ml", 0.1, 20)),
                leakage=leaks[0] if leaks else leakage,
                leakage_symptomatic=form.checked(prefix + "leakage_symptomatic"),
                leaks=leaks or ((leakage,) if leakage != "none" else ()),
            )
        )
    if problems is None:
        raise_problems(found)
    return levels


@router.post("/cases/{case_id}/procedure")
def record_procedure(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.RADIOLOGIST))],
    policy: Policy,
    form: Form,
) -> Response:
    """The procedure record, level by level; 'sign' signs it and starts monitoring.

    Every mistake in the form is listed at once, each beside its field; a draft saves at any point (decision 0018).
    Posted from procedure mode (``view=procedure-mode``), the answer is procedure mode again (decision 0034).
    """

    def work() -> None:
        sign = form.raw.get("sign") == "1"
        problems: dict[str, str] = {}
        levels = procedure_levels(form, problems)
        technique = collect(
            problems, lambda: form.choice("technique", TECHNIQUES) if form.raw.get("technique") else "vertebroplasty"
        )
        started_at = collect(problems, lambda: form.optional_moment("started_at"))
        ended_at = collect(problems, lambda: form.optional_moment("ended_at"))
        complications = collect(problems, lambda: form.text("complications", 2000)) or ""
        notes = collect(problems, lambda: form.text("notes", 4000))
        reason = collect(problems, lambda: form.text("date_change_reason", 500))
        dose = {
            name: collect(problems, lambda n=name, h=high: form.number(n, 0, h))
            for name, high in (
                ("fluoroscopy_minutes", 600),
                ("dap_gy_cm2", 100000),
                ("air_kerma_mgy", 100000),
                ("ctdivol_mgy", 10000),
                ("dlp_mgy_cm", 100000),
            )
        }
        version = collect(problems, form.version)
        raise_problems(problems)
        svc.record_procedure(
            uow,
            case_id,
            levels=levels,
            sedation=form.checked("sedation"),
            technique=technique,
            started_at=started_at,
            ended_at=ended_at,
            complications=[c.strip() for c in complications.split(";")],
            notes=notes,
            sign=sign,
            actor=staff.actor,
            policy=policy,
            expected_version=version,
            dose=svc.RadiationDose(**dose),
            date_change_reason=reason,
        )

    if form.raw.get("view") == "procedure-mode":
        return submit_from_mode(request, uow, staff, policy, case_id, form, work)
    return _submit(request, uow, staff, policy, case_id, form, "procedure", work, "procedure")


def observation_set(form: FormData) -> ObservationSet:
    """A set of observations from the chart's form: whole numbers parsed here, plausible ranges checked by the
    service (every value outside its range named at once); consciousness and the neurological check are choices."""
    return ObservationSet(
        systolic=form.required_integer("systolic", 0, 999),
        diastolic=form.required_integer("diastolic", 0, 999),
        heart_rate=form.required_integer("heart_rate", 0, 999),
        respiration_rate=form.required_integer("respiration_rate", 0, 999),
        spo2=form.required_integer("spo2", 0, 999),
        on_oxygen=form.choice("oxygen", ("air", "oxygen")) == "oxygen",
        temperature_c=form.required_number("temperature_c", 0, 99),
        consciousness=Consciousness(form.choice("consciousness", [c.value for c in Consciousness])),
        pain_nrs=form.required_integer("pain_nrs", 0, 999),
        neuro=NeuroCheck(form.choice("neuro", [n.value for n in NeuroCheck])),
        spo2_scale_2=form.raw.get("spo2_scale") == "2",
    )


@router.post("/cases/{case_id}/observations")
def record_observation(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """Vitals and a neurological check while monitoring."""

    def work() -> None:
        svc.record_observation(uow, case_id, observation=observation_set(form), actor=staff.actor)

    return _submit(request, uow, staff, policy, case_id, form, "monitoring", work, "observation")


@router.post("/cases/{case_id}/discharge")
def discharge(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """Discharge when the criteria are met; after sedation the driver and companion must be named."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "discharge",
        lambda: svc.discharge(
            uow,
            case_id,
            criteria={name: form.checked(name) for name in svc.DISCHARGE_CRITERIA},
            aldrete=form.integer("aldrete", 0, 10),
            driver_name=form.text("driver_name", 200),
            companion_name=form.text("companion_name", 200),
            actor=staff.actor,
            policy=policy,
            expected_version=form.version(),
            override_reason=form.text("override_reason", 2000),
        ),
        "discharged",
    )


@router.post("/cases/{case_id}/follow-ups/{visit}")
def record_follow_up(
    request: Request,
    case_id: RecordId,
    visit: Annotated[str, Path(pattern="^(2w|3m|12m)$")],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST))],
    policy: Policy,
    form: Form,
) -> Response:
    """A follow-up questionnaire's scores (NRS, ODI, RDQ)."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "follow-up",
        lambda: svc.record_follow_up(
            uow,
            case_id,
            visit=visit,
            nrs=form.required_integer("nrs", 0, 10),
            odi_percent=form.number("odi_percent", 0, 100),
            rdq=form.integer("rdq", 0, 24),
            actor=staff.actor,
        ),
        "follow-up",
    )


@router.post("/cases/{case_id}/complications")
def record_complication(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """A complication recorded after the procedure."""
    return _submit(
        request,
        uow,
        staff,
        policy,
        case_id,
        form,
        "complications",
        lambda: svc.record_complication(
            uow,
            case_id,
            kind=form.choice("kind", svc.COMPLICATION_KINDS),
            occurred_on=form.day("occurred_on"),
            serious=form.checked("serious"),
            notes=form.text("notes", 2000),
            actor=staff.actor,
        ),
        "complication",
    )


@router.post("/cases/{case_id}/safety-facts")
def save_safety_facts(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST))],
    policy: Policy,
    form: Form,
) -> Response:
    """The safety facts, each an explicit Yes / No / Not recorded; the case is re-assessed."""

    def work() -> None:
        workflow = uow.workflows.get(case_id)
        current = dict(workflow.case.facts) if workflow is not None else {}
        changes = safety_patch(form, current)
        svc.update_facts(uow, case_id, changes, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "safety", work, "safety")


@router.post("/cases/{case_id}/medications/decision")
def record_prescriber_decision(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """The thrombotic risk and the prescriber's decision on one medicine; the hold dates follow (audited)."""

    def work() -> None:
        answer = svc.PrescriberAnswer(
            medication=form.required_integer("medication", 0, 100),
            drug=form.required_text("drug", 100),
            thrombotic_risk=svc.as_thrombotic_risk(form.text("thrombotic_risk", 16)),
            decision=svc.as_decision(form.text("decision", 16)),
            agreed_on=None if form.text("agreed_on", 10) is None else form.day("agreed_on"),
            stop_days_before=form.integer("stop_days_before", 1, 14),
            note=form.text("note", 500),
        )
        svc.record_prescriber_decision(uow, case_id, answer, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "prescriber", work, "prescriber")


@router.post("/cases/{case_id}/labs/creatinine-clearance")
def record_creatinine_clearance(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CARE))],
    policy: Policy,
    form: Form,
) -> Response:
    """The creatinine clearance the DOAC hold intervals need (rule asra.doac); the case is re-assessed (audited)."""

    def work() -> None:
        value = form.required_number("creatinine_clearance", 0, 300)
        svc.record_creatinine_clearance(uow, case_id, value, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "prescriber", work, "creatinine-clearance")
