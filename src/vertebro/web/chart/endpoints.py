"""The patient chart and every step staff take on a case, as HTML forms.

Each form posts to a route that calls one service and commits. On a mistake or a conflicting edit
the chart is shown again with the message next to the field and the values that were typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical.news2 import Consciousness
from vertebro.dicom import chart as dicom_chart
from vertebro.errors import InvalidFields, NotFound, Problems, VertebroError
from vertebro.fhir.repository import FhirRepository
from vertebro.ids import RecordId
from vertebro.intake.answers import PORTAL_WORDS
from vertebro.intake.fhir_bundle import case_facts_of_condition
from vertebro.pathway.checklist import Confirmations
from vertebro.pathway.handover import fact_handovers, waiting_on
from vertebro.pathway.machine import RECORD_ROLES, TRANSITIONS, UNDO_ACTIONS, UNDO_WINDOW, Action, Role, State, who_can
from vertebro.pathway.monitoring import NeuroCheck, ObservationSet
from vertebro.store import workflow as svc
from vertebro.store.base import clinic_today
from vertebro.store.models import LEAKAGE, TECHNIQUES
from vertebro.store.portal import changes
from vertebro.store.portal.cases import from_the_portal
from vertebro.store.workflow.booking import cancel_reason
from vertebro.web.chart import care_forms, stages
from vertebro.web.chart.procedure_mode import raise_problems, submit_from_mode, typed_values
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow
from vertebro.web.flash import MESSAGES, done_url, flash_of
from vertebro.web.forms import FormData, form_data
from vertebro.web.referrals.endpoints import CAUSES
from vertebro.web.safety_forms import safety_patch
from vertebro.web.templating import page

router = APIRouter()
Form = Annotated[FormData, Depends(form_data)]

DESK = (Role.COORDINATOR, Role.NURSE)
CARE = (Role.NURSE, Role.RADIOLOGIST)
# Steps that ask for a confirmation before they are taken (decision 0033); cancelling a booking has its own
# confirmation box on its form.
CONFIRMED_ACTIONS = frozenset({Action.ACCEPT, Action.DECLINE})
UNDO_MINUTES = int(UNDO_WINDOW.total_seconds() // 60)
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
    error_case: int | None = None,
) -> HTMLResponse:
    chart = svc.chart(uow, patient_id, staff.actor, policy)
    portal = from_the_portal(uow, [view.workflow.case_id for view in chart.cases])
    change_requests = changes.change_requests(uow, [view.workflow.case_id for view in chart.cases])
    sent = [_sent_condition(c) for c in FhirRepository(uow.session).stored_contents_of_patient(patient_id, "Condition")]
    uow.commit()
    feasibility = {  # the earliest safe start of each case still to book (rule booking.feasible_start)
        view.workflow.case_id: svc.feasibility_now(view.facts, policy)
        for view in chart.cases
        if view.workflow.state in ("eligible", "prepared")
    }
    modality = dicom_chart.modality_reports(  # what the procedure room's modality reported (decision 0023)
        uow, [v.workflow.case_id for v in chart.cases if v.workflow.state in DICOM_STATES]
    )
    asked = request.query_params.get("case", "")
    asked_stage = request.query_params.get("stage")
    tabs = {
        view.workflow.case_id: stages.tabs(
            view.workflow.state, asked_stage if asked == str(view.workflow.case_id) else None
        )
        for view in chart.cases
    }
    waiting = {
        view.workflow.case_id: waiting_on(State(view.workflow.state), fact_handovers(view.assessment_data))
        for view in chart.cases
    }
    evidence = {view.workflow.case_id: stages.evidence(view.assessment_data) for view in chart.cases}
    undo = {
        view.workflow.case_id: verdict
        for view in chart.cases
        for verdict in view.actions
        if verdict.action in UNDO_ACTIONS and verdict.allowed
    }
    done = flash_of(request)
    flash_undo = None
    if done is not None and done.case_id in undo and done.code in ("accept", "decline"):
        view = next(v for v in chart.cases if v.workflow.case_id == done.case_id)
        flash_undo = {
            "action": f"/cases/{done.case_id}/actions/{Action.UNDO_DECISION.value}",
            "version": view.workflow.version,
            "label": f"Undo the {done.code}",
            "note": f"possible for {UNDO_MINUTES} minutes after the decision",
        }
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
        error_case=error_case,
        leakage=LEAKAGE,
        causes=CAUSES,
        portal=portal,
        change_requests=change_requests,
        outcome_words=changes.OUTCOME_WORDS,
        feasibility=feasibility,
        portal_words=PORTAL_WORDS,
        today=clinic_today(policy.time_zone).isoformat(),
        procedure_values=partial(care_forms.procedure_form_values, zone_name=policy.time_zone),
        selected_leaks=care_forms.selected_leaks,
        observation_words=care_forms.observation_words,
        dose_fields=care_forms.DOSE_FIELDS,
        modality=modality,
        modality_prefill=partial(dicom_chart.prefill, zone_name=policy.time_zone),
        dose_review=dicom_chart.chart_review,
        transitions=TRANSITIONS,
        record_roles=RECORD_ROLES,
        who_can=who_can,
        tabs=tabs,
        waiting=waiting,
        evidence=evidence,
        cited_sources=stages.cited_sources,
        undo=undo,
        undo_minutes=UNDO_MINUTES,
        flash_undo=flash_undo,
        confirmed_actions=CONFIRMED_ACTIONS,
        sent_conditions=sent,
    )


def _sent_condition(condition: dict[str, Any]) -> dict[str, Any]:
    """What the chart shows of a Condition another system wrote through /fhir or an import kept (H133): one written
    after the case was made is not read into it, so the facts its codes bear on are named for staff to check."""
    code = condition.get("code") or {}
    codings = [c for c in code.get("coding") or [] if isinstance(c, dict)]
    named = code.get("text") or next((c.get("display") for c in codings if c.get("display")), None)
    statuses = [c for c in (condition.get("clinicalStatus") or {}).get("coding") or [] if isinstance(c, dict)]
    status = statuses[0].get("code") if statuses else None
    return {
        "id": condition.get("id"),
        "name": named or ", ".join(f"{c.get('system')}|{c.get('code')}" for c in codings) or "(no code)",
        "status": status or "clinical status not given",
        "onset": str(condition.get("onsetDateTime") or "")[:10] or None,
        "facts": case_facts_of_condition(condition),
    }


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


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What the confirmation page of a step says before it is taken (decision 0033)."""

    title: str
    points: tuple[str, ...]
    button: str
    primary: bool = True
    warning: str | None = None


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
    confirm: Callable[[], Confirmation] | None = None,
) -> Response:
    """Run one change; on success redirect to the chart with its success message, on failure show the chart
    again with every problem listed and the values typed.

    With ``confirm``, a form not yet confirmed (no ``confirmed=yes``) is run and rolled back: a step that would
    be refused shows its problems at once, a step that would succeed shows its confirmation page first.
    """
    workflow = uow.workflows.get(case_id)
    if workflow is None:
        raise NotFound(f"no case {case_id}", field="case_id")
    patient_id = workflow.case.patient_id
    try:
        work()
        if confirm is not None and form.raw.get("confirmed") != "yes":
            question = confirm()
            uow.rollback()
            return _confirmation(request, staff, case_id, patient_id, form, section, question)
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403, 404):
            raise
        uow.rollback()
        field = error.field or "form"
        problems = error.problems if isinstance(error, InvalidFields) else {field: error.message}
        errors = {f"{section}.{name}": message for name, message in problems.items()}
        errors[section] = error.message if len(problems) == 1 else f"{len(problems)} answers need a change"
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
            error_case=case_id,
        )
    code = done if done in MESSAGES else section
    return RedirectResponse(
        done_url(f"/patients/{patient_id}", code, case_id, f"case-{case_id}-{section}"), status_code=303
    )


def _confirmation(
    request: Request,
    staff: Staff,
    case_id: int,
    patient_id: int,
    form: FormData,
    section: str,
    question: Confirmation,
) -> HTMLResponse:
    """The confirmation page: what the step will do, the answers carried as hidden fields, confirm or go back."""
    carried = [(k, v) for k, values in form.lists.items() if k not in ("csrf_token", "confirmed") for v in values]
    return page(
        request,
        "confirm.html",
        staff,
        question=question,
        action=request.url.path,
        carried=carried,
        back=f"/patients/{patient_id}#case-{case_id}-{section}",
        cid=case_id,
    )


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
            uow, case_id, action, staff.actor, policy, expected_version=form.version(), reason=form.text("reason", 2000)
        ),
        action.value,
        confirm=(lambda: _decision_question(uow, case_id, action, form.text("reason", 2000)))
        if action in CONFIRMED_ACTIONS
        else None,
    )


def _decision_question(uow: UoW, case_id: int, action: Action, reason: str | None) -> Confirmation:
    """The confirmation of an accept or decline: the case, the recommendation, the reason and the undo window."""
    workflow = uow.workflows.get(case_id)
    treatment = (workflow.treatment if workflow is not None else None) or "not assessed"
    verb = "Accept" if action is Action.ACCEPT else "Decline"
    against = (action is Action.ACCEPT) != (treatment in ("vertebroplasty", "kyphoplasty"))
    points = [
        f"The rules recommend: {treatment.replace('_', ' ')}.",
        "The case moves to preparation (the desk's pre-procedure call)."
        if action is Action.ACCEPT
        else "The case leaves the path: it is not prepared or booked.",
        f"Your reason: {reason}" if reason else "No written reason.",
        f"You can undo it for {UNDO_MINUTES} minutes; after that, decide again with a written reason.",
    ]
    return Confirmation(
        title=f"{verb} case {case_id}?",
        points=tuple(points),
        button=f"Yes, {verb.lower()} case {case_id}",
        primary=action is Action.ACCEPT,
        warning="This goes against the rules' recommendation." if against else None,
    )


@router.post("/cases/{case_id}/facts")
def update_facts(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["imaging facts"]))],
    policy: Policy,
    form: Form,
) -> Response:
    """Imaging facts for one level, entered by the radiologist; the case is re-assessed."""

    def work() -> None:
        problems = Problems()
        level = form.required_text("level", 3).upper()
        fracture: dict[str, Any] = {"level": level}
        if form.text("cause", 32) is not None:
            fracture["cause"] = problems.check(lambda: form.choice("cause", CAUSES))
        if form.text("imaging_date", 10) is not None:
            day = problems.check(lambda: form.day("imaging_date"))
            fracture["imaging_date"] = None if day is None else day.isoformat()
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
            fracture[name] = problems.check(lambda name=name: form.tristate(name))  # type: ignore[misc]
        fracture["height_loss_percent"] = problems.check(lambda: form.number("height_loss_percent", 0, 99.9))
        heights = {h: problems.check(lambda h=h: form.number(h, 0.1, 80)) for h in ("anterior", "middle", "posterior")}  # type: ignore[misc]
        given = [h for h in heights if form.raw.get(h, "").strip()]
        if given and len(given) < 3:
            problems.add(next(h for h in heights if h not in given), "give all three heights, or none")
        problems.raise_any()
        if given:
            fracture["heights_mm"] = heights
        svc.update_facts(uow, case_id, {"fractures": [fracture]}, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "facts", work, "facts")


@router.post("/cases/{case_id}/checklist")
def save_checklist(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["pre-procedure checklist"]))],
    policy: Policy,
    form: Form,
) -> Response:
    """The pre-procedure call's checklist."""

    def work() -> None:
        problems = Problems()
        confirmations = Confirmations(
            medications_reviewed=form.checked("medications_reviewed"),
            holds_explained=form.checked("holds_explained"),
            allergies_reviewed=form.checked("allergies_reviewed"),
            pregnancy_test_negative=problems.check(lambda: form.tristate("pregnancy_test_negative")),
            fasting_explained=form.checked("fasting_explained"),
            driver_name=problems.check(lambda: form.text("driver_name", 200)),
            companion_name=problems.check(lambda: form.text("companion_name", 200)),
            arrival_time_told=form.checked("arrival_time_told"),
        )
        sedation = problems.check(lambda: form.tristate("sedation_planned"))
        labs: dict[str, float | str | None] = {
            "inr": problems.check(lambda: form.number("inr", 0.5, 15)),
            "platelets": problems.check(lambda: form.number("platelets", 0, 2000)),
            "taken_on": None,
        }
        if form.text("labs_taken_on", 10):
            taken = problems.check(lambda: form.day("labs_taken_on"))
            labs["taken_on"] = None if taken is None else taken.isoformat()
        problems.raise_any()
        svc.save_checklist(uow, case_id, confirmations, staff.actor, expected_version=form.version(), policy=policy)
        changes: dict[str, Any] = {}
        if sedation is not None:
            changes["sedation_planned"] = sedation
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["insurance"]))],
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["booking"]))],
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["booking"]))],
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
        lambda: _cancel(uow, case_id, form, staff, policy),
        "cancelled",
    )


def _cancel(uow: UoW, case_id: int, form: FormData, staff: Staff, policy: Policy) -> None:
    """Cancel a booking: the reason and the confirmation box are checked together, then the booking service."""
    problems = Problems()
    problems.check(lambda: cancel_reason(form.raw.get("reason")))
    if not form.checked("confirm"):
        problems.add("confirm", "tick the box to confirm that the booking is to be cancelled")
    answered = problems.check(lambda: form.record_ids("answer_request"))
    problems.raise_any()
    svc.cancel_booking(
        uow,
        case_id,
        reason=form.raw.get("reason"),
        confirmed=form.checked("confirm"),
        actor=staff.actor,
        policy=policy,
        expected_version=form.version(),
    )
    # the patient's open requests ticked on the form are answered in the same step (decision 0040)
    changes.answer_with_booking(uow, case_id, answered or [], outcome="cancelled", actor=staff.actor)


@router.post("/cases/{case_id}/change-requests/{request_id}/answer")
def answer_change_request(
    request: Request,
    case_id: RecordId,
    request_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["change requests"]))],
    policy: Policy,
    form: Form,
) -> Response:
    """Record how a patient's request to cancel or move the appointment was answered, with an optional note.

    Moved, cancelled or kept as booked closes the request; "could not reach the patient" leaves it open. No
    confirmation step: it changes no clinical fact (decision 0040). Audited.
    """
    unreached = form.raw.get("outcome") == changes.UNREACHABLE

    def work() -> None:
        problems = Problems()
        outcome = form.raw.get("outcome", "").strip()
        if outcome not in changes.CHANGE_OUTCOMES:
            problems.add("outcome", "choose how the request was answered")
        note = problems.check(lambda: form.text("note", changes.NOTE_LENGTH))
        problems.raise_any()
        changes.answer(uow, case_id, request_id, outcome=outcome, note=note, actor=staff.actor)

    done = "change-unreached" if unreached else "change-answered"
    return _submit(request, uow, staff, policy, case_id, form, "changes", work, done)


def procedure_levels(form: FormData, problems: Problems | None = None) -> list[svc.LevelRecord]:
    """The levels of the procedure form; product and volume may be empty in a draft (signing requires them).

    With ``problems``, every unreadable value is noted there (and read as empty; a level without its approach or
    guidance is left out) instead of stopping at the first: the caller raises them all before anything is recorded.
    """
    found = Problems() if problems is None else problems
    levels = []
    for level in form.all("level"):
        prefix = f"{level}."
        leaks = tuple(site for site in form.lists.get(prefix + "leaks", []) if site in LEAKAGE and site != "none")
        leakage = found.check(form.choice, prefix + "leakage", LEAKAGE) if form.raw.get(prefix + "leakage") else "none"
        leakage = leakage or "none"
        approach = found.check(form.choice, prefix + "approach", ("unipedicular", "bipedicular"))
        guidance = found.check(form.choice, prefix + "guidance", ("fluoroscopy", "ct"))
        cement_product = found.check(form.text, prefix + "cement_product", 64)
        cement_volume_ml = found.check(form.number, prefix + "cement_volume_ml", 0.1, 20)
        if approach is None or guidance is None:
            continue  # the problem is noted in ``found``: nothing is recorded
        levels.append(
            svc.LevelRecord(
                level=level,
                approach=approach,
                guidance=guidance,
                contrast=form.checked(prefix + "contrast"),
                cement_product=cement_product,
                cement_volume_ml=cement_volume_ml,
                leakage=leaks[0] if leaks else leakage,
                leakage_symptomatic=form.checked(prefix + "leakage_symptomatic"),
                leaks=leaks or ((leakage,) if leakage != "none" else ()),
            )
        )
    if problems is None:
        raise_problems(found.found)
    return levels


@router.post("/cases/{case_id}/procedure")
def record_procedure(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["procedure record"]))],
    policy: Policy,
    form: Form,
) -> Response:
    """The procedure record, level by level; 'sign' signs it and starts monitoring.

    Every mistake in the form is listed at once, each beside its field; a draft saves at any point (decision 0018).
    Posted from procedure mode (``view=procedure-mode``), the answer is procedure mode again (decision 0034).
    """

    def work() -> None:
        sign = form.raw.get("sign") == "1"
        problems = Problems()
        levels = procedure_levels(form, problems)
        technique = (
            problems.check(form.choice, "technique", TECHNIQUES) if form.raw.get("technique") else "vertebroplasty"
        )
        started_at = problems.check(lambda: form.optional_moment("started_at"))
        ended_at = problems.check(lambda: form.optional_moment("ended_at"))
        complications = problems.check(lambda: form.text("complications", 2000)) or ""
        notes = problems.check(lambda: form.text("notes", 4000))
        reason = problems.check(lambda: form.text("date_change_reason", 500))
        dose = {
            name: problems.check(form.number, name, 0, high)
            for name, high in (
                ("fluoroscopy_minutes", 600),
                ("dap_gy_cm2", 100000),
                ("air_kerma_mgy", 100000),
                ("ctdivol_mgy", 10000),
                ("dlp_mgy_cm", 100000),
            )
        }
        version = problems.check(form.version)
        raise_problems(problems.found)
        assert technique is not None  # read, or noted as a problem and raised above
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["observations"]))],
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["discharge"]))],
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
        confirm=lambda: Confirmation(
            title=f"Discharge case {case_id}?",
            points=(
                "The aftercare plan is issued and the patient goes home.",
                "A discharge cannot be undone here: a problem afterwards is recorded as a complication, "
                "and the patient is brought back through the clinic.",
            ),
            button=f"Yes, discharge case {case_id}",
        ),
    )


@router.post("/cases/{case_id}/follow-ups/{visit}")
def record_follow_up(
    request: Request,
    case_id: RecordId,
    visit: Annotated[str, Path(pattern="^(2w|3m|12m)$")],
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["follow-up questionnaires"]))],
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
        lambda: _follow_up(uow, case_id, visit, form, staff),
        "follow-up",
    )


@router.post("/cases/{case_id}/complications")
def record_complication(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["complications"]))],
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
        lambda: _complication(uow, case_id, form, staff),
        "complication",
    )


def _follow_up(uow: UoW, case_id: int, visit: str, form: FormData, staff: Staff) -> None:
    """Record a follow-up's scores; every score out of its range is named at once."""
    problems = Problems()
    nrs = problems.check(lambda: form.required_integer("nrs", 0, 10))
    odi = problems.check(lambda: form.number("odi_percent", 0, 100))
    rdq = problems.check(lambda: form.integer("rdq", 0, 24))
    problems.raise_any()
    assert nrs is not None  # required: a problem was raised otherwise
    svc.record_follow_up(uow, case_id, visit=visit, nrs=nrs, odi_percent=odi, rdq=rdq, actor=staff.actor)


def _complication(uow: UoW, case_id: int, form: FormData, staff: Staff) -> None:
    """Record a complication; the kind, the date and the notes are checked together."""
    problems = Problems()
    kind = problems.check(lambda: form.choice("kind", svc.COMPLICATION_KINDS))
    day = problems.check(lambda: form.day("occurred_on"))
    notes = problems.check(lambda: form.text("notes", 2000))
    problems.raise_any()
    assert kind is not None
    assert day is not None
    svc.record_complication(
        uow, case_id, kind=kind, occurred_on=day, serious=form.checked("serious"), notes=notes, actor=staff.actor
    )


@router.post("/cases/{case_id}/safety-facts")
def save_safety_facts(
    request: Request,
    case_id: RecordId,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["safety facts"]))],
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["prescriber decisions"]))],
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
    staff: Annotated[Staff, Depends(allow(*RECORD_ROLES["prescriber decisions"]))],
    policy: Policy,
    form: Form,
) -> Response:
    """The creatinine clearance the DOAC hold intervals need (rule asra.doac); the case is re-assessed (audited)."""

    def work() -> None:
        value = form.required_number("creatinine_clearance", 0, 300)
        svc.record_creatinine_clearance(uow, case_id, value, staff.actor, policy, expected_version=form.version())

    return _submit(request, uow, staff, policy, case_id, form, "prescriber", work, "creatinine-clearance")
