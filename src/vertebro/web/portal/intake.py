"""The intake questionnaire in short steps (decision 0036): progress, save-and-resume per step, review, send.

Each step is one page; "Continue" checks that step (every problem at once, what was typed kept) and saves
it, "Back" and "Save and come back later" save without checking, so nothing typed is lost. A question that
starts to apply because of an answer on the same page (a blood thinner, aspirin, the overnight companion)
is shown on the same page when the patient continues, without any script. The draft, and the steps done,
are stored server-side, so the patient resumes at the right step on any device. The review lists every
answer with a "change" link; sending checks everything again and applies the answers to the case's facts.
The whole form can still be posted at once to ``/intake`` (save or send), for scripts and tests.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vertebro.clinical.preparation import could_be_pregnant
from vertebro.education.dates import long_date
from vertebro.education.documents import stored_case
from vertebro.errors import NotFound, VertebroError
from vertebro.ids import RecordId
from vertebro.intake import answers as intake
from vertebro.intake import steps as flow
from vertebro.intake.questionnaires import FunctionQuestionnaires
from vertebro.store.base import clinic_today
from vertebro.store.portal import cases
from vertebro.store.records import own_case_record
from vertebro.web.deps import Policy, UoW
from vertebro.web.forms import FormData, form_data
from vertebro.web.portal.deps import CurrentPatient
from vertebro.web.portal.templating import portal_page

router = APIRouter(prefix="/portal", tags=["portal"])
Form = Annotated[FormData, Depends(form_data)]
CaseId = Annotated[RecordId, Path()]
StepSlug = Annotated[str, Path(pattern="^[a-z]{2,12}$")]
SAVED = "Your answers are saved. You can come back to them later, on any device."


def _function(request: Request) -> FunctionQuestionnaires:
    value: FunctionQuestionnaires = request.app.state.questionnaires
    return value


def _context(request: Request, uow: UoW, patient: CurrentPatient, policy: Policy, case_id: int) -> flow.Context:
    """Which questions apply to this patient: the pregnancy screen of the stored case, the clinic's instruments."""
    record = own_case_record(
        uow,
        patient.actor.patient_id,
        case_id,
        actor=patient.actor.name,
        source=patient.actor.source,
        view="portal:intake",
        detail={},
    )
    return flow.Context(could_be_pregnant(stored_case(record), policy), _function(request))


class _Draft:
    """The stored draft of one patient's intake: answers as typed, steps done, version; pre-filled from the request."""

    def __init__(self, uow: UoW, patient: CurrentPatient, case: cases.MyCase) -> None:
        response = cases.questionnaire(uow, patient.actor, case.case_id, "intake")
        stored = dict(response.answers) if response is not None else {}
        self.raw: intake.Raw = dict(stored.get("raw", {}))
        self.done: list[str] = list(stored.get("steps", []))
        self.version = response.version if response is not None else None
        self.sent = response is not None and response.submitted_at is not None
        if not self.raw and case.request is not None:  # carried over from the appointment request, editable
            self.raw = intake.from_request(case.baseline["nrs"], case.request.pain_since, case.request.where_it_hurts)


def _words() -> dict[str, str]:
    return {**intake.PORTAL_WORDS, **dict(intake.YES_NO_UNSURE), "some": "Yes", "none": "No"}


def _step_page(
    request: Request,
    patient: CurrentPatient,
    case: cases.MyCase,
    context: flow.Context,
    step: flow.Step,
    *,
    raw: intake.Raw,
    done: list[str],
    version: int | None,
    errors: dict[str, str],
    status: int = 200,
    flash: str | None = None,
    return_to: str = "",
) -> HTMLResponse:
    all_steps = flow.steps(context)
    index = [s.slug for s in all_steps].index(step.slug)
    common: dict[str, Any] = {
        "case": case,
        "step": step,
        "steps": all_steps,
        "number": index + 1,
        "total": len(all_steps),
        "previous": all_steps[index - 1] if index > 0 else None,
        "done": done,
        "values": raw,
        "errors": errors,
        "version": version,
        "flash": flash,
        "q": intake,
        "labels": intake.LABELS,
        "words": _words(),
        "function": context.function,
    }
    if step.slug == flow.REVIEW:
        rows = _review_rows(raw, context)
        base = f"/portal/cases/{case.case_id}/intake/"
        links = {
            name: f"{base}{flow.step_of(name, context).slug}?from=review#{name}" for name in errors if name != "form"
        }
        return portal_page(request, "intake_review.html", patient, status, rows=rows, error_links=links, **common)
    asked = flow.visible(step, raw, context)
    return portal_page(request, "intake_step.html", patient, status, asked=asked, return_to=return_to, **common)


def _answer_text(name: str, raw: intake.Raw, words: dict[str, str], function: FunctionQuestionnaires) -> str:
    """One answer in the words the patient chose (what the review lists)."""
    if name == "odi" and function.odi is not None:
        answered = sum(1 for item in function.odi.items if raw.get(item.id))
        return f"{answered} of {len(function.odi.items)} parts answered" if answered else "not answered"
    value = raw.get(name)
    if isinstance(value, list):
        if name == "rdq":
            return f"{len(value)} sentences ticked" if value else "none ticked"
        return ", ".join(words.get(v, v) for v in value) if value else "none ticked"
    if not value:
        return "not answered"
    if name == "pain_now":
        return f"{value} out of 10"
    if name == "pain_started" and (day := intake.read_day(value)) is not None:
        return long_date(day)  # the date in words: no order of day and month to misread
    return words.get(value, value)


def _review_rows(raw: intake.Raw, context: flow.Context) -> list[tuple[flow.Step, list[tuple[str, str, str]]]]:
    words = _words()
    return [
        (
            step,
            [
                (name, intake.LABELS.get(name, name), _answer_text(name, raw, words, context.function))
                for name in flow.visible(step, raw, context)
            ],
        )
        for step in flow.steps(context)
        if step.slug != flow.REVIEW
    ]


def _sent_page(request: Request, patient: CurrentPatient, case: cases.MyCase) -> HTMLResponse:
    return portal_page(request, "intake.html", patient, case=case, words=_words(), sent=True)


@router.get("/cases/{case_id}/intake", response_class=HTMLResponse)
def intake_form(request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy) -> HTMLResponse:
    """The questionnaire where the patient left it (from any device): the first step not yet done, or the review."""
    return _saved_step(request, uow, patient, policy, case_id, None)


def _saved_step(
    request: Request,
    uow: UoW,
    patient: CurrentPatient,
    policy: Policy,
    case_id: int,
    slug: str | None,
    return_to: str = "",
) -> HTMLResponse:
    """One step (``slug``; None: where the patient left it) with the answers saved so far, or the sent page."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:intake")
    draft = _Draft(uow, patient, case)
    if draft.sent:
        uow.commit()
        return _sent_page(request, patient, case)
    context = _context(request, uow, patient, policy, case_id)
    uow.commit()
    step = flow.resume_at(draft.done, context) if slug is None else _own_step(context, slug)
    return _step_page(
        request,
        patient,
        case,
        context,
        step,
        raw=flow.applicable(draft.raw, context),
        done=draft.done,
        version=draft.version,
        errors={},
        flash=SAVED if request.query_params.get("saved") == "1" else None,
        return_to=return_to,
    )


@router.post("/cases/{case_id}/intake", response_model=None)
def save_intake(
    request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """The whole questionnaire posted at once: 'save' keeps it as a draft, 'send' sends it; problems are listed
    on the review page, each with its answer and a link to change it."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:intake")
    context = _context(request, uow, patient, policy, case_id)
    raw = flow.applicable(intake.raw_form(form.raw, form.lists), context)
    sending = form.raw.get("send") == "1"
    done = _Draft(uow, patient, case).done  # the steps done stay as they were
    return _save_or_send(request, uow, patient, policy, case, context, raw, form.version(), sending=sending, done=done)


def _save_or_send(
    request: Request,
    uow: UoW,
    patient: CurrentPatient,
    policy: Policy,
    case: cases.MyCase,
    context: flow.Context,
    raw: intake.Raw,
    version: int | None,
    *,
    sending: bool,
    done: list[str] | None = None,
) -> Response:
    today = clinic_today(policy.time_zone)
    checked = intake.check_intake(raw, context.function, today=today, sending=sending)
    try:
        if sending and checked.ok:
            record = own_case_record(
                uow,
                patient.actor.patient_id,
                case.case_id,
                actor=patient.actor.name,
                source=patient.actor.source,
                view="portal:intake",
                detail={},
            )
            patch = intake.intake_patch(checked.answers, record.facts, today=today)
            cases.send_intake(
                uow,
                patient.actor,
                case.case_id,
                raw=raw,
                answers=intake.json_ready(checked.answers),
                patch=patch,
                policy=policy,
                expected_version=version,
            )
        else:
            version = cases.save_draft(
                uow, patient.actor, case.case_id, "intake", raw, expected_version=version, steps=done
            ).version
        uow.commit()
    except VertebroError as error:
        errors = {**checked.errors, error.field or "form": error.message}
        return _problem_page(request, uow, patient, policy, case.case_id, context, raw, version, errors, error)
    if sending and checked.ok:
        return RedirectResponse("/portal/me?sent=intake", status_code=303)
    if checked.errors:
        case = cases.my_case(uow, patient.actor, case.case_id, policy, view="portal:intake")
        uow.commit()
        review = flow.step_named(flow.REVIEW, context)
        assert review is not None
        flash = "Your answers are saved, but some need another look before you can send them: see the notes."
        return _step_page(
            request,
            patient,
            case,
            context,
            review,
            raw=raw,
            done=done or [],
            version=version,
            errors=checked.errors,
            status=422,
            flash=flash,
        )
    return RedirectResponse(f"/portal/cases/{case.case_id}/intake?saved=1", status_code=303)


def _problem_page(
    request: Request,
    uow: UoW,
    patient: CurrentPatient,
    policy: Policy,
    case_id: int,
    context: flow.Context,
    raw: intake.Raw,
    version: int | None,
    errors: dict[str, str],
    error: VertebroError,
    step: flow.Step | None = None,
) -> HTMLResponse:
    """A save or send refused (changed on another device, already sent): nothing is stored, and what was typed
    stays in the form. A refusal of the patient or of the case itself (401, 403, 404) is raised as it is."""
    if error.status_code in (401, 403, 404):
        raise error
    uow.rollback()
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:intake")
    draft = _Draft(uow, patient, case)
    uow.commit()
    if draft.sent:
        return _sent_page(request, patient, case)
    shown_step = step or flow.step_named(flow.REVIEW, context)
    assert shown_step is not None
    return _step_page(
        request,
        patient,
        case,
        context,
        shown_step,
        raw=raw,
        done=draft.done,
        version=draft.version,
        errors=errors,
        status=error.status_code,
        flash=error.message,
    )


def _own_step(context: flow.Context, slug: str) -> flow.Step:
    step = flow.step_named(slug, context)
    if step is None:
        raise NotFound(f"the questionnaire has no step called {slug}", field="step")
    return step


@router.post("/cases/{case_id}/intake/send", response_model=None)
def send_intake(
    request: Request, case_id: CaseId, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """Send the reviewed answers to the team (every question the plan needs must be answered)."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:intake")
    draft = _Draft(uow, patient, case)
    context = _context(request, uow, patient, policy, case_id)
    raw = flow.applicable(draft.raw, context)
    return _save_or_send(
        request, uow, patient, policy, case, context, raw, form.version(), sending=True, done=draft.done
    )


@router.get("/cases/{case_id}/intake/{step}", response_class=HTMLResponse)
def intake_step(
    request: Request, case_id: CaseId, step: StepSlug, uow: UoW, patient: CurrentPatient, policy: Policy
) -> HTMLResponse:
    """One step of the questionnaire (or the review), with the answers saved so far."""
    return_to = "review" if request.query_params.get("from") == "review" else ""
    return _saved_step(request, uow, patient, policy, case_id, step, return_to)


@router.post("/cases/{case_id}/intake/{step}", response_model=None)
def save_step(
    request: Request, case_id: CaseId, step: StepSlug, uow: UoW, patient: CurrentPatient, policy: Policy, form: Form
) -> Response:
    """Keep one step's answers: 'next' checks them first (all problems at once), 'back' and 'save' do not."""
    case = cases.my_case(uow, patient.actor, case_id, policy, view="portal:intake")
    draft = _Draft(uow, patient, case)
    context = _context(request, uow, patient, policy, case_id)
    page = _own_step(context, step)
    if page.slug == flow.REVIEW:
        raise NotFound("the review has nothing to save: send it, or change a step", field="step")
    raw = flow.merged(draft.raw, intake.raw_form(form.raw, form.lists), page, context)
    go = form.raw.get("go", "next")
    return_to = "review" if form.raw.get("return_to") == "review" else ""
    asked_before = set(form.raw.get("shown", "").split())
    asked_now = flow.visible(page, raw, context)
    newly_asked = [name for name in asked_now if name not in asked_before] if "shown" in form.raw else []
    errors = {} if go != "next" else flow.check_step(page, raw, context, today=clinic_today(policy.time_zone))
    errors = {k: v for k, v in errors.items() if k not in newly_asked}  # a question just shown is not a mistake
    finished = go == "next" and not errors and not newly_asked
    done = [s for s in draft.done if s != page.slug] + ([page.slug] if finished else [])
    try:
        version = cases.save_draft(
            uow, patient.actor, case_id, "intake", raw, expected_version=form.version(), steps=done
        ).version
        uow.commit()
    except VertebroError as error:
        return _problem_page(
            request, uow, patient, policy, case_id, context, raw, form.version(), {"form": error.message}, error, page
        )
    all_steps = flow.steps(context)
    index = [s.slug for s in all_steps].index(page.slug)
    base = f"/portal/cases/{case_id}/intake"
    if go == "back":
        return RedirectResponse(f"{base}/{all_steps[max(index - 1, 0)].slug}", status_code=303)
    if go == "save":
        return RedirectResponse(f"{base}/{page.slug}?saved=1", status_code=303)
    if finished:
        following = flow.REVIEW if return_to else all_steps[index + 1].slug
        return RedirectResponse(f"{base}/{following}", status_code=303)
    flash = (
        "Thank you. Because of your answer, there is another question below."
        if newly_asked and not errors
        else "Please check the answers marked below."
    )
    return _step_page(
        request,
        patient,
        case,
        context,
        page,
        raw=raw,
        done=done,
        version=version,
        errors=errors,
        status=422 if errors else 200,
        flash=flash,
        return_to=return_to,
    )
