"""A patient's requests to cancel or move an appointment, and how staff answer them (decisions 0026 and 0040).

The patient asks from the portal (``cases.ask_to_change``); nothing changes on the booking. Staff call the patient
and record an answer: the booking was moved, it was cancelled, or it was kept as booked after a call; each of these
closes the request. "Could not reach the patient" is recorded too, and leaves the request open. A request stays
open (a warning on the chart, a marker on the worklist) until a closing answer is recorded, and an answer names one
request: answering an old request never closes a newer one (hazard H126).

An answer must agree with the booking the patient asked about, so that what the portal tells the patient is true:
"kept" only while that booking is still booked; "moved" or "cancelled" only once it no longer is ("moved" also
needs the case to be booked again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from vertebro.errors import Conflict, InvalidInput, NotFound
from vertebro.store.db import UnitOfWork
from vertebro.store.models import CHANGE_OUTCOMES as CHANGE_OUTCOMES
from vertebro.store.models import AppointmentChangeAnswer, AppointmentChangeRequest
from vertebro.store.workflow.base import Actor, load_workflow, record_audit

CLOSING = ("moved", "cancelled", "kept")
UNREACHABLE = "unreachable"
# what staff read on the chart
OUTCOME_WORDS = {
    "moved": "moved to another time",
    "cancelled": "cancelled",
    "kept": "kept as booked after a call",
    "unreachable": "could not reach the patient",
}
KIND_WORDS = {"cancel": "cancel", "reschedule": "move"}
CHANGE_KINDS = ("reschedule", "cancel")  # in the order the portal's form offers them
NOTE_LENGTH = 500


def outcomes_now(booking_active: bool, case_booked: bool) -> tuple[str, ...]:
    """Return the answers that agree with the booking (decision 0040): "kept" while the booking the patient asked
    about is booked; "moved" (the case is booked again) or "cancelled" once it is not; "unreachable" always."""
    if booking_active:
        return ("kept", UNREACHABLE)
    return ("moved", "cancelled", UNREACHABLE) if case_booked else ("cancelled", UNREACHABLE)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """One request with its answers (oldest first) and where its booking stands, as the chart and portal show it."""

    request: AppointmentChangeRequest
    answers: tuple[AppointmentChangeAnswer, ...]
    booking_active: bool  # the booking the patient asked about is still booked
    case_booked: bool  # the case has an active booking now (that one, or a new one)

    @property
    def id(self) -> int:
        """The request's id."""
        return self.request.id

    @property
    def kind_words(self) -> str:
        """What the patient asked, as a verb: "cancel" or "move"."""
        return KIND_WORDS.get(self.request.kind, self.request.kind)

    @property
    def closing(self) -> AppointmentChangeAnswer | None:
        """The answer that closed the request, or None while it is open."""
        return next((a for a in self.answers if a.outcome in CLOSING), None)

    @property
    def open(self) -> bool:
        """Whether the request still waits for an answer."""
        return self.closing is None

    @property
    def calls(self) -> tuple[AppointmentChangeAnswer, ...]:
        """The calls that did not reach the patient, oldest first."""
        return tuple(a for a in self.answers if a.outcome == UNREACHABLE)

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The answers staff can record now (they agree with the booking)."""
        return outcomes_now(self.booking_active, self.case_booked)


def change_requests(uow: UnitOfWork, case_ids: list[int]) -> dict[int, tuple[ChangeRequest, ...]]:
    """Return every change request of the cases with its answers, per case, newest first (the caller's read of the
    case is audited already)."""
    asked = uow.portal.change_requests(case_ids)
    answers = uow.portal.change_answers([r.id for rows in asked.values() for r, _ in rows])
    booked = uow.portal.booked_cases(list(asked))
    return {
        case_id: tuple(ChangeRequest(r, tuple(answers.get(r.id, ())), active, case_id in booked) for r, active in rows)
        for case_id, rows in asked.items()
    }


def open_requests(uow: UnitOfWork, case_id: int) -> list[ChangeRequest]:
    """Return the case's requests still waiting for an answer, newest first."""
    return [c for c in change_requests(uow, [case_id]).get(case_id, ()) if c.open]


def _request_of_case(uow: UnitOfWork, case_id: int, request_id: int) -> ChangeRequest:
    request = uow.portal.change_request(request_id)
    if request is None or request.case_id != case_id:
        raise NotFound(f"case {case_id} has no change request {request_id}", field="request_id")
    found = next(c for c in change_requests(uow, [case_id])[case_id] if c.id == request_id)
    return found


def _checked_note(note: str | None) -> str | None:
    text = " ".join((note or "").split())
    if len(text) > NOTE_LENGTH:
        raise InvalidInput(f"at most {NOTE_LENGTH} characters", field="note")
    return text or None


def _refusal(outcome: str, asked: ChangeRequest) -> str:
    if outcome == "kept":
        return "the booking the patient asked about is no longer booked: record it as moved or cancelled"
    if asked.booking_active:
        return (
            "the booking is still as the patient had it: move or cancel it first, "
            "or record that it was kept as booked after a call"
        )
    return "the case has no booking now: the appointment was cancelled, not moved"


def answer(
    uow: UnitOfWork, case_id: int, request_id: int, *, outcome: str, note: str | None, actor: Actor
) -> AppointmentChangeAnswer:
    """Record how staff answered one change request of a case (audited); a closing answer closes it.

    Refused, with nothing written: an unknown outcome or a note too long (422, naming the field), a request already
    closed (409, naming who closed it), an answer that contradicts the booking (409, see ``outcomes_now``). The case
    is locked while the booking is read, so a move or cancel cannot slip in between the check and the answer; the
    one-closing-answer index refuses a second closing answer from a concurrent request.
    """
    if outcome not in CHANGE_OUTCOMES:
        raise InvalidInput("choose how the request was answered", field="outcome")
    text = _checked_note(note)
    workflow = load_workflow(uow, case_id, for_update=True)
    asked = _request_of_case(uow, case_id, request_id)
    closed = asked.closing
    if closed is not None:
        raise Conflict(
            f"this request was already answered by {closed.answered_by}: {OUTCOME_WORDS[closed.outcome]}",
            field="outcome",
        )
    if outcome not in asked.outcomes:
        raise Conflict(_refusal(outcome, asked), field="outcome")
    row = AppointmentChangeAnswer(request_id=request_id, outcome=outcome, note=text, answered_by=actor.username)
    try:
        with uow.session.begin_nested():
            uow.portal.add(row)
    except IntegrityError as error:
        raise Conflict(
            "this request was answered by someone else just now: reload the chart", field="outcome"
        ) from error
    record_audit(
        uow,
        actor,
        "answer",
        "change_request",
        request_id,
        workflow.case.patient_id,
        outcome=outcome,
        kind=asked.request.kind,
        booking_id=asked.request.booking_id,
        with_note=text is not None,  # the note itself stays in the answer's row: the audit holds no free text
    )
    return row


def answer_with_booking(
    uow: UnitOfWork, case_id: int, request_ids: Iterable[int], *, outcome: str, actor: Actor
) -> list[int]:
    """Close the requests ticked on a cancel or move form with ``outcome``, after the booking changed in the same
    transaction; return the ids answered. A request someone else answered meanwhile is left as they answered it."""
    done: list[int] = []
    for request_id in dict.fromkeys(request_ids):
        if _request_of_case(uow, case_id, request_id).open:
            answer(uow, case_id, request_id, outcome=outcome, note=None, actor=actor)
            done.append(request_id)
    return done
