"""The patient's own cases: what they may see, their questionnaires, and their follow-up answers.

Every function takes the signed-in :class:`PatientActor` and only ever touches that patient's rows: a
case of another patient is reported as not found (404), exactly like a case that does not exist, so
the portal never confirms that someone else's record exists. Reads and writes are audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from vertebro.clinical import ClinicPolicy
from vertebro.clinical.clinic import Clinic
from vertebro.errors import Conflict, InvalidInput, NotFound
from vertebro.pathway.machine import State
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import (
    AppointmentChangeRequest,
    AppointmentRequest,
    Booking,
    CaseWorkflow,
    FollowUp,
    QuestionnaireResponse,
)
from vertebro.store.portal.accounts import PatientActor, audit
from vertebro.store.portal.changes import CHANGE_KINDS, KIND_WORDS, ChangeRequest, change_requests
from vertebro.store.portal.outbox import VISIT_WORDS, queue_team_change_notice
from vertebro.store.records import signed_procedure
from vertebro.store.workflow.base import BOOKED_OR_LATER, TREATED_OR_LATER
from vertebro.store.workflow.steps import apply_facts

VISITS = {"2w": "follow_up_2w", "3m": "follow_up_3m", "12m": "follow_up_12m"}


@dataclass(frozen=True, slots=True)
class MyCase:
    """One case as its patient sees it."""

    case_id: int
    state: State
    levels: tuple[str, ...]
    created_at: dt.datetime
    booking: Booking | None
    arrival: dt.datetime | None
    follow_ups: tuple[FollowUp, ...]
    questionnaires: dict[str, QuestionnaireResponse]
    request: AppointmentRequest | None
    baseline: dict[str, Any]
    change_requests: tuple[ChangeRequest, ...] = ()  # asking to cancel or move the appointment, newest first
    performed_at: dt.datetime | None = None  # the signed procedure record's start (decision 0018), once signed

    @property
    def intake(self) -> QuestionnaireResponse | None:
        """The intake questionnaire (draft or sent), if started."""
        return self.questionnaires.get("intake")

    def due(self, today: dt.date) -> tuple[FollowUp, ...]:
        """Follow-ups the patient can fill in now (their window has opened and they are not done)."""
        return tuple(f for f in self.follow_ups if f.completed_at is None and f.due_from <= today)

    def can_ask(self) -> tuple[str, ...]:
        """The changes the patient can still ask for about the booked appointment: not one already open for it."""
        if self.booking is None:
            return ()
        asked = {c.request.kind for c in self.change_requests if c.open and c.request.booking_id == self.booking.id}
        return tuple(kind for kind in CHANGE_KINDS if kind not in asked)


def own_workflow(uow: UnitOfWork, actor: PatientActor, case_id: int, *, for_update: bool = False) -> CaseWorkflow:
    """Return the patient's own case; another patient's case is 'not found' like a missing one."""
    workflow = uow.workflows.get(case_id, for_update=for_update)
    if workflow is None or workflow.case.patient_id != actor.patient_id:
        raise NotFound(f"you have no case {case_id}", field="case_id")
    return workflow


def _my_case(uow: UnitOfWork, workflow: CaseWorkflow, policy: ClinicPolicy) -> MyCase:
    state = State(workflow.state)
    booking = uow.bookings.active_booking(workflow.case_id) if state in BOOKED_OR_LATER else None
    arrival = None
    if booking is not None:
        # preparation.arrival: arrive ClinicPolicy.arrival_minutes_early (15) minutes before the start.
        arrival = booking.starts_at - dt.timedelta(minutes=policy.arrival_minutes_early)
    facts = workflow.case.facts
    follow_ups = tuple(uow.records.follow_ups(workflow.case_id)) if state in TREATED_OR_LATER else ()
    signed = signed_procedure(uow, workflow.case_id) if state in TREATED_OR_LATER else None
    return MyCase(
        case_id=workflow.case_id,
        state=state,
        levels=tuple(f["level"] for f in facts.get("fractures", [])),
        created_at=workflow.case.created_at,
        booking=booking,
        arrival=arrival,
        follow_ups=follow_ups,
        questionnaires={q.kind: q for q in uow.portal.responses(workflow.case_id)},
        request=uow.portal.request_of_case(workflow.case_id),
        change_requests=change_requests(uow, [workflow.case_id]).get(workflow.case_id, ()),
        performed_at=None if signed is None else signed.started_at,
        baseline={
            "nrs": facts.get("pain", {}).get("nrs"),
            "odi_percent": facts.get("function", {}).get("odi_percent"),
            "rdq": facts.get("function", {}).get("rdq"),
        },
    )


def my_cases(uow: UnitOfWork, actor: PatientActor, policy: ClinicPolicy, *, view: str) -> list[MyCase]:
    """Return every case of the signed-in patient, newest first; the read is audited."""
    cases = [_my_case(uow, w, policy) for w in uow.workflows.cases_of_patient(actor.patient_id)]
    audit(uow, actor, "read", "patient", actor.patient_id, view=view, case_ids=[c.case_id for c in cases])
    return cases


def my_case(uow: UnitOfWork, actor: PatientActor, case_id: int, policy: ClinicPolicy, *, view: str) -> MyCase:
    """Return one of the patient's own cases; the read is audited."""
    case = _my_case(uow, own_workflow(uow, actor, case_id), policy)
    audit(uow, actor, "read", "case", case_id, view=view)
    return case


def questionnaire(uow: UnitOfWork, actor: PatientActor, case_id: int, kind: str) -> QuestionnaireResponse | None:
    """Return the patient's answers (draft or sent) to one questionnaire of their case; audited."""
    own_workflow(uow, actor, case_id)
    response = uow.portal.response(case_id, kind)
    audit(uow, actor, "read", "questionnaire", f"{case_id}:{kind}", kind=kind)
    return response


def _response(uow: UnitOfWork, case_id: int, kind: str, expected_version: int | None) -> QuestionnaireResponse:
    response = uow.portal.response(case_id, kind, for_update=True)
    if response is None:
        response = QuestionnaireResponse(case_id=case_id, kind=kind, answers={})
        uow.portal.add(response)
    elif expected_version is not None and response.version != expected_version:
        raise Conflict(
            "these answers were changed on another device meanwhile; the newer answers are shown, "
            "and what you typed here is kept in the form",
            field="version",
        )
    if response.submitted_at is not None:
        raise Conflict("this questionnaire was already sent; call us if something has changed", field="form")
    return response


def save_draft(
    uow: UnitOfWork,
    actor: PatientActor,
    case_id: int,
    kind: str,
    raw: dict[str, Any],
    *,
    expected_version: int | None,
    steps: list[str] | None = None,
) -> QuestionnaireResponse:
    """Keep what the patient typed so far (even answers not yet valid), to resume on any device.

    ``steps`` are the steps of a stepped questionnaire the patient has completed (where to resume);
    None keeps those already stored.
    """
    own_workflow(uow, actor, case_id)
    response = _response(uow, case_id, kind, expected_version)
    done = list((response.answers or {}).get("steps", [])) if steps is None else steps
    response.answers = {"raw": raw, "steps": done}
    response.updated_at = utc_now()
    uow.session.flush()
    audit(uow, actor, "update", "questionnaire", response.id, kind=kind, draft=True)
    return response


def send_intake(
    uow: UnitOfWork,
    actor: PatientActor,
    case_id: int,
    *,
    raw: dict[str, Any],
    answers: dict[str, Any],
    patch: dict[str, Any],
    policy: ClinicPolicy,
    expected_version: int | None,
) -> QuestionnaireResponse:
    """Send the intake: keep the answers, apply them to the case's facts and re-assess (one transaction).

    Raises InvalidInput naming the fact when the answers would make the case invalid; nothing is written.
    """
    workflow = own_workflow(uow, actor, case_id, for_update=True)
    if State(workflow.state) not in (State.REQUESTED, State.SCREENING, State.ELIGIBLE, State.PREPARED):
        raise Conflict("your procedure is already booked: tell the team about changes by phone", field="form")
    response = _response(uow, case_id, "intake", expected_version)
    if patch:
        apply_facts(uow, workflow, patch, policy)
    response.answers = {"raw": raw, "answers": answers}
    response.updated_at = response.submitted_at = utc_now()
    uow.session.flush()
    audit(uow, actor, "submit", "questionnaire", response.id, kind="intake", facts=sorted(patch))
    audit(uow, actor, "update", "case", case_id, fields=sorted(patch), via="intake")
    return response


def send_follow_up(
    uow: UnitOfWork,
    actor: PatientActor,
    case_id: int,
    visit: str,
    *,
    raw: dict[str, Any],
    answers: dict[str, Any],
    expected_version: int | None,
    today: dt.date,
) -> FollowUp:
    """Record a follow-up questionnaire in the follow-up record staff use (NRS, ODI, RDQ); audited.

    ``today`` is the clinic's date (the questionnaire opens on its first day in the clinic's zone).
    """
    own_workflow(uow, actor, case_id)
    follow_up = uow.records.follow_up(case_id, visit)
    if follow_up is None:
        raise NotFound(f"no {VISIT_WORDS.get(visit, visit)} questionnaire is planned for you", field="visit")
    if follow_up.completed_at is not None:
        raise Conflict("this questionnaire was already answered; thank you", field="form")
    if follow_up.due_from > today:
        raise Conflict(f"this questionnaire opens on {follow_up.due_from:%d %B %Y}", field="form")
    response = _response(uow, case_id, VISITS[visit], expected_version)
    response.answers = {"raw": raw, "answers": answers}
    response.updated_at = response.submitted_at = utc_now()
    follow_up.nrs = answers["pain_now"]
    follow_up.odi_percent = answers.get("odi_percent")
    follow_up.rdq = answers.get("rdq")
    follow_up.completed_at = utc_now()
    follow_up.recorded_by = actor.name
    uow.session.flush()
    audit(uow, actor, "update", "follow_up", follow_up.id, visit=visit)
    return follow_up


@dataclass(frozen=True, slots=True)
class FromThePortal:
    """What a patient told the team through the portal about one case (for the staff chart)."""

    request: AppointmentRequest | None
    reference: str | None
    email: str | None
    phone: str | None
    intake: QuestionnaireResponse | None


def ask_to_change(
    uow: UnitOfWork, actor: PatientActor, case_id: int, *, kind: str, reason: str, clinic: Clinic
) -> AppointmentChangeRequest:
    """Record the patient's request to cancel or move their booked appointment (staff act on it; audited), and
    queue the team's e-mail that a request waits (no name, no content; hazard H130) when the clinic has one.

    Nothing is cancelled here: the booking stays until staff cancel or move it with their own reason. The same
    request while one is still open (not answered yet) is refused, and the patient is told it is open (decision
    0040); the case is locked meanwhile, so two quick sends store one request.
    """
    workflow = own_workflow(uow, actor, case_id, for_update=True)
    booking = uow.bookings.active_booking(workflow.case_id)
    if booking is None:
        raise Conflict("you have no appointment booked to change", field="kind")
    if kind not in CHANGE_KINDS:
        raise InvalidInput("choose whether to cancel or to move the appointment", field="kind")
    if uow.portal.open_change_request(booking.id, kind) is not None:
        raise Conflict(
            f"you have already asked us to {KIND_WORDS[kind]} this appointment and we have not answered yet: "
            "the team will contact you, there is no need to ask again",
            field="kind",
        )
    text = " ".join(reason.split())[:500]
    row = AppointmentChangeRequest(case_id=case_id, booking_id=booking.id, kind=kind, reason=text)
    uow.portal.add(row)
    uow.session.flush()  # the request's id is its reference in the team's e-mail
    audit(uow, actor, "ask_change", "booking", booking.id, kind=kind)
    queue_team_change_notice(uow, clinic, request_id=row.id)
    return row


def from_the_portal(uow: UnitOfWork, case_ids: list[int]) -> dict[int, FromThePortal]:
    """Return the portal request and intake of each case (the caller's chart read is already audited)."""
    found: dict[int, FromThePortal] = {}
    asked = uow.portal.cases_with_change_requests(case_ids)
    for case_id, request, intake, account in uow.portal.portal_of_cases(case_ids):
        if request is None and intake is None and case_id not in asked:
            continue
        found[case_id] = FromThePortal(
            request=request,
            reference=None if account is None else account.reference,
            email=None if account is None else account.email,
            phone=None if account is None else account.phone,
            intake=intake,
        )
    return found
