"""A patient's request to cancel or move the appointment, answered by staff (decision 0040, hazard H126), over HTTP
on SQLite and PostgreSQL: the patient asks from the portal; the chart shows each open request as a warning with a
small form (the coordinator or nurse records moved / cancelled / kept as booked / could not reach the patient, with a
note; other roles see who can, and are refused); answered requests fold into a short history; the worklist marks
and filters the cases whose patient waits; the patient's page shows the request received or answered (with the
date in the clinic's zone) and refuses the same request twice while one is open; cancelling on the chart or moving
with the calendar's form answers the ticked requests in the same step."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import form_fields, submit
from tests.integration.web.portal_helpers import csrf_of, new_patient
from tests.integration.web.test_booking_safety import REASON
from tests.integration.web.test_portal_path import _send_intake, _staff_books
from tests.integration.web.test_secure_messages import _write
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AppointmentChangeAnswer, AppointmentChangeRequest, AuditEntry, Booking

C, N, R, L, A = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD, Role.ADMIN
ZONED = r"\d{1,2}:\d\d (am|pm|noon) (GMT|BST) on \w+day \d{1,2} \w+ \d{4}"  # the clinic's zone, named


@dataclass(frozen=True)
class Booked:
    """A patient with a portal account whose case staff have booked."""

    patient: TestClient
    case_id: int
    patient_id: int

    @property
    def chart(self) -> str:
        return f"/patients/{self.patient_id}"


def _booked(portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]) -> Booked:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    _send_intake(client, case_id)
    _staff_books(signed_in, case_id)
    patient_id = signed_in(C).get(f"/api/cases/{case_id}").json()["patient_id"]
    return Booked(client, case_id, patient_id)


@pytest.fixture
def asked(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> Callable[..., tuple[Booked, int]]:
    """Return a maker: a booked patient who asks (from the portal) to ``kind`` the appointment; the request's id."""

    def make(kind: str, reason: str = "") -> tuple[Booked, int]:
        booked = _booked(portal_factory, signed_in)
        response = _ask(booked, kind, reason)
        assert response.status_code == 303, response.text
        return booked, _requests(session_factory, booked.case_id)[-1].id

    return make


def _ask(booked: Booked, kind: str, reason: str = "") -> Response:
    token = csrf_of(booked.patient.get("/portal/me").text)
    data = {"csrf_token": token, "kind": kind, "reason": reason}
    return booked.patient.post(f"/portal/cases/{booked.case_id}/appointment/change", data=data)


def _requests(session_factory: sessionmaker[Session], case_id: int) -> list[AppointmentChangeRequest]:
    with UnitOfWork(session_factory) as uow:
        statement = select(AppointmentChangeRequest).where(AppointmentChangeRequest.case_id == case_id)
        return list(uow.session.scalars(statement.order_by(AppointmentChangeRequest.id)))


def _answers(session_factory: sessionmaker[Session], request_id: int) -> list[AppointmentChangeAnswer]:
    with UnitOfWork(session_factory) as uow:
        return _answers_in(uow, request_id)


def _answers_in(uow: UnitOfWork, request_id: int) -> list[AppointmentChangeAnswer]:
    statement = select(AppointmentChangeAnswer).where(AppointmentChangeAnswer.request_id == request_id)
    return list(uow.session.scalars(statement.order_by(AppointmentChangeAnswer.id)))


def _answer_action(case_id: int, request_id: int) -> str:
    return f"/cases/{case_id}/change-requests/{request_id}/answer"


def _answer(client: TestClient, booked: Booked, request_id: int, outcome: str | None, note: str = "") -> Response:
    """Fill the chart's answer form as a browser does (its own CSRF token) and press its button."""
    changes: dict[str, str | list[str] | None] = {"outcome": outcome, "note": note}
    return submit(client, booked.chart, _answer_action(booked.case_id, request_id), changes)


def _open_warnings(page: str, case_id: int) -> list[str]:
    return re.findall(rf'<div class="flash warn change-request" id="case-{case_id}-change-(\d+)"', page)


def _patient_requests(booked: Booked) -> str:
    page = booked.patient.get("/portal/me").text
    found = re.search(rf'<ul class="change-requests" id="changes-{booked.case_id}".*?</ul>', page, re.S)
    assert found, page
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_the_coordinator_answers_a_request_from_the_chart_and_the_patient_sees_the_answer(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, request_id = asked("reschedule", "my daughter cannot drive me that day")
    received = _patient_requests(booked)
    assert re.search(rf"Received at {ZONED}: you asked us to move your appointment", received), received

    coordinator = signed_in(C)
    chart = coordinator.get(booked.chart).text
    assert _open_warnings(chart, booked.case_id) == [str(request_id)]
    assert "The patient asks to <strong>move</strong> the appointment" in chart
    # the booking is as the patient had it: only "kept" or "could not reach" agree with it
    offered = [v for k, v in form_fields(chart, _answer_action(booked.case_id, request_id)) if k == "outcome"]
    assert offered == [], "no outcome is chosen for the user"
    assert re.findall(r'name="outcome" value="(\w+)"', chart) == ["kept", "unreachable"]

    # a call that does not reach the patient is noted and leaves the request open
    tried = _answer(coordinator, booked, request_id, "unreachable", "No answer on the mobile; voicemail left.")
    assert tried.status_code == 303, tried.text
    assert tried.headers["location"].endswith(
        f"done=change-unreached&case={booked.case_id}#case-{booked.case_id}-changes"
    )
    chart = coordinator.get(tried.headers["location"]).text
    assert "The call is noted; the request stays open" in chart
    assert _open_warnings(chart, booked.case_id) == [str(request_id)]
    assert "Not reached: " in chart
    assert "voicemail left" in chart
    assert re.search(rf"We tried to call you at {ZONED} but could not reach you", _patient_requests(booked))

    # the nurse reaches the patient, who keeps the date: the request closes and folds into the history
    kept = _answer(signed_in(N), booked, request_id, "kept", "Daughter can drive after all.")
    assert kept.status_code == 303, kept.text
    chart = coordinator.get(booked.chart).text
    assert _open_warnings(chart, booked.case_id) == []
    history = re.search(
        rf'<details class="change-history" id="case-{booked.case_id}-changes-history">.*?</details>', chart, re.S
    )
    assert history, chart
    assert "Answered requests (1)" in history.group(0)
    assert "<strong>kept as booked after a call</strong>, recorded by t.nurse" in history.group(0)
    assert "Not reached before: 1 call." in history.group(0)
    answered = _patient_requests(booked)
    assert re.search(rf"Answered at {ZONED}: after talking with you, your appointment stays as it was booked", answered)
    assert "Daughter can drive" not in answered, "the team's note is not shown to the patient"

    assert [(a.outcome, a.answered_by) for a in _answers(session_factory, request_id)] == [
        ("unreachable", "t.coordinator"),
        ("kept", "t.nurse"),
    ]
    with UnitOfWork(session_factory) as uow:
        audited = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "change_request", AuditEntry.entity_id == str(request_id)
            )
        ).all()
        assert [(e.actor, e.action, e.detail["outcome"], e.detail["role"]) for e in audited] == [
            ("t.coordinator", "answer", "unreachable", "coordinator"),
            ("t.nurse", "answer", "kept", "nurse"),
        ]
        assert all(e.patient_id == booked.patient_id and "note" not in e.detail for e in audited)


def test_only_the_coordinator_and_nurse_may_answer_the_others_see_who_can_and_are_refused(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, request_id = asked("cancel")
    action = _answer_action(booked.case_id, request_id)

    for role in (R, L):
        client = signed_in(role)
        chart = client.get(booked.chart).text
        assert _open_warnings(chart, booked.case_id) == [str(request_id)], role
        assert f'action="{action}"' not in chart, role
        assert "The coordinator or nurse calls the patient and records how the request was answered." in chart
        refused = client.post(action, data={"csrf_token": csrf_of(chart), "outcome": "kept"})
        assert refused.status_code == 403, (role, refused.status_code)
    admin = signed_in(A)
    assert admin.get(booked.chart).status_code == 403
    assert admin.post(action, data={"outcome": "kept"}).status_code == 403
    as_patient = booked.patient.post(action, data={"outcome": "kept"})
    assert (as_patient.status_code, as_patient.headers.get("location")) == (303, "/login"), "a patient is no staff"
    # the coordinator's form without its CSRF token is refused like any other form
    coordinator = signed_in(C)
    token = coordinator.headers.pop("X-CSRF-Token")
    try:
        assert coordinator.post(action, data={"outcome": "kept"}).status_code == 403
    finally:
        coordinator.headers["X-CSRF-Token"] = token
    assert _answers(session_factory, request_id) == []

    for role in (C, N):
        chart = signed_in(role).get(booked.chart).text
        assert f'action="{action}"' in chart, role
    assert _answer(signed_in(N), booked, request_id, "unreachable").status_code == 303
    assert _answer(coordinator, booked, request_id, "kept").status_code == 303
    assert [a.outcome for a in _answers(session_factory, request_id)] == ["unreachable", "kept"]


def test_an_answer_must_name_an_outcome_fit_its_note_and_agree_with_the_booking(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, request_id = asked("cancel", "feeling much better")
    coordinator = signed_in(C)

    nothing = _answer(coordinator, booked, request_id, None)
    assert nothing.status_code == 422
    assert 'id="changes-outcome-error">choose how the request was answered' in nothing.text
    too_long = _answer(coordinator, booked, request_id, "kept", "x" * 501)
    assert too_long.status_code == 422
    assert 'id="changes-note-error">at most 500 characters' in too_long.text
    assert 'value="kept" checked' in too_long.text, "the choice is kept on the page"
    # "cancelled" while the booking is still booked would tell the patient something untrue
    token = csrf_of(coordinator.get(booked.chart).text)
    untrue = coordinator.post(
        _answer_action(booked.case_id, request_id),
        data={"csrf_token": token, "request": str(request_id), "outcome": "cancelled"},
    )
    assert untrue.status_code == 409
    assert "the booking is still as the patient had it: move or cancel it first" in untrue.text
    assert _answers(session_factory, request_id) == []
    # another case's request through this case's address names nothing
    assert (
        coordinator.post(
            _answer_action(booked.case_id, request_id + 1000), data={"csrf_token": token, "outcome": "kept"}
        ).status_code
        == 404
    )

    assert _answer(coordinator, booked, request_id, "kept").status_code == 303
    again = coordinator.post(_answer_action(booked.case_id, request_id), data={"csrf_token": token, "outcome": "kept"})
    assert again.status_code == 409
    assert "this request was already answered by t.coordinator: kept as booked after a call" in again.text
    assert len(_answers(session_factory, request_id)) == 1


def test_the_same_request_is_refused_while_open_and_answering_one_never_hides_another(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, move = asked("reschedule")
    twice = _ask(booked, "reschedule", "sent again")
    assert twice.status_code == 409
    assert "you have already asked us to move this appointment and we have not answered yet" in twice.text
    me = booked.patient.get("/portal/me").text
    assert re.findall(r'name="kind" value="(\w+)"', me) == ["cancel"], "the form offers only what is not open"
    assert len(_requests(session_factory, booked.case_id)) == 1

    # a different wish while the first is open is a new request, and both show
    assert _ask(booked, "cancel", "I have decided against it").status_code == 303
    me = booked.patient.get("/portal/me").text
    assert 'name="kind"' not in me, "both changes are asked: nothing left to ask"
    cancel = _requests(session_factory, booked.case_id)[-1].id
    coordinator = signed_in(C)
    assert _open_warnings(coordinator.get(booked.chart).text, booked.case_id) == [str(cancel), str(move)]

    # answering the older request leaves the newer one open on the chart and on the worklist
    assert _answer(coordinator, booked, move, "kept").status_code == 303
    chart = coordinator.get(booked.chart).text
    assert _open_warnings(chart, booked.case_id) == [str(cancel)]
    assert "Answered requests (1)" in chart
    row = _worklist_row(coordinator.get("/?change=open").text, booked.patient_id)
    assert row is not None
    assert "Patient asks to cancel" in row
    # once answered, the patient may ask the same again: it is a new request, open again
    assert _ask(booked, "reschedule", "now my daughter is ill").status_code == 303
    assert len(_open_warnings(coordinator.get(booked.chart).text, booked.case_id)) == 2


def _worklist_row(page: str, patient_id: int) -> str | None:
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        if f'href="/patients/{patient_id}#' in row:
            return str(row)
    return None


def test_the_worklist_marks_and_filters_the_cases_whose_patient_waits_for_an_answer(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
) -> None:
    waiting, request_id = asked("reschedule")
    quiet = signed_in(C).get(f"/api/cases/{stored_case('QUIET-1')}").json()["patient_id"]
    for role in (C, N, R, L):
        client = signed_in(role)
        page = client.get("/").text
        counted = r'class="change-asked"[^>]*>patient asks to change the appointment <span class="count">1</span>'
        assert re.search(counted, page), role
        row = _worklist_row(page, waiting.patient_id)
        assert row is not None
        assert '<strong class="change-asked-marker">Patient asks to move</strong>' in row
        row = _worklist_row(page, quiet)
        assert row is not None
        assert "change-asked-marker" not in row
        filtered = client.get("/?change=open&sort=name&order=asc").text
        assert _worklist_row(filtered, waiting.patient_id) is not None
        assert _worklist_row(filtered, quiet) is None
        assert "whose patient waits for an answer about the appointment" in filtered
        assert 'href="/?change=open&amp;sort=' in filtered, "sorting keeps the filter"
    assert _answer(signed_in(C), waiting, request_id, "unreachable").status_code == 303
    assert _worklist_row(signed_in(C).get("/?change=open").text, waiting.patient_id) is not None, "still waiting"
    assert _answer(signed_in(C), waiting, request_id, "kept").status_code == 303
    assert _worklist_row(signed_in(C).get("/?change=open").text, waiting.patient_id) is None


def test_cancelling_on_the_chart_answers_the_ticked_requests_in_the_same_step(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, request_id = asked("cancel", "admitted elsewhere")
    coordinator = signed_in(C)
    cancel_action = f"/cases/{booked.case_id}/booking/cancel"
    fields = form_fields(coordinator.get(booked.chart).text, cancel_action)
    assert ("answer_request", str(request_id)) in fields, "offered and ticked on the cancel form"

    # a mistake on the form changes nothing: the booking stays, the request stays open, the box stays ticked
    missing = submit(coordinator, booked.chart, cancel_action, {"reason": REASON, "confirm": None})
    assert missing.status_code == 422
    assert ("answer_request", str(request_id)) in form_fields(missing.text, cancel_action)
    assert _answers(session_factory, request_id) == []

    cancelled = submit(coordinator, booked.chart, cancel_action, {"reason": REASON, "confirm": "yes"})
    assert cancelled.status_code == 303, cancelled.text
    assert [(a.outcome, a.answered_by) for a in _answers(session_factory, request_id)] == [
        ("cancelled", "t.coordinator")
    ]
    assert _open_warnings(coordinator.get(booked.chart).text, booked.case_id) == []
    assert re.search(rf"Answered at {ZONED}: your appointment was cancelled\.", _patient_requests(booked))


def test_a_request_left_unticked_stays_open_and_offers_only_what_agrees_with_the_booking(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
) -> None:
    booked, request_id = asked("reschedule")
    coordinator = signed_in(C)
    changes = {"reason": REASON, "confirm": "yes", "answer_request": None}
    cancel_action = f"/cases/{booked.case_id}/booking/cancel"
    assert submit(coordinator, booked.chart, cancel_action, changes).status_code == 303
    chart = coordinator.get(booked.chart).text
    assert _open_warnings(chart, booked.case_id) == [str(request_id)]
    assert "The booking they asked about has since been cancelled: record how the request was answered." in chart
    assert re.findall(r'name="outcome" value="(\w+)"', chart) == ["cancelled", "unreachable"]
    token = csrf_of(chart)
    kept = coordinator.post(_answer_action(booked.case_id, request_id), data={"csrf_token": token, "outcome": "kept"})
    assert kept.status_code == 409
    assert "no longer booked: record it as moved or cancelled" in kept.text
    moved = coordinator.post(_answer_action(booked.case_id, request_id), data={"csrf_token": token, "outcome": "moved"})
    assert moved.status_code == 409
    assert "the appointment was cancelled, not moved" in moved.text
    assert _answer(coordinator, booked, request_id, "cancelled").status_code == 303


def test_moving_with_the_calendars_form_answers_the_ticked_requests_as_moved(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    booked, request_id = asked("reschedule", "a family wedding that day")
    coordinator = signed_in(C)
    page = f"/cases/{booked.case_id}/booking/move"
    action = f"/cases/{booked.case_id}/booking/move"
    assert ("answer_request", str(request_id)) in form_fields(coordinator.get(page).text, action)
    moved = submit(coordinator, page, action, {"room": "Room 2", "time": "13:00"})
    assert moved.status_code == 303, moved.text
    with UnitOfWork(session_factory) as uow:
        active = uow.session.scalars(
            select(Booking).where(Booking.case_id == booked.case_id, Booking.status == "booked")
        ).one()
        assert active.room == "Room 2"
    assert [a.outcome for a in _answers(session_factory, request_id)] == ["moved"]
    answered = _patient_requests(booked)
    assert re.search(rf"Answered at {ZONED}: your appointment was moved; the new time is shown above\.", answered)


def test_the_database_holds_one_closing_answer_per_request(
    asked: Callable[..., tuple[Booked, int]],
    session_factory: sessionmaker[Session],
) -> None:
    """Two desks answering at once: whichever commits second is refused by the index, not by a read first."""
    _, request_id = asked("cancel")
    with UnitOfWork(session_factory) as uow:
        for _ in range(2):  # calls that did not reach the patient may repeat
            uow.session.add(AppointmentChangeAnswer(request_id=request_id, outcome="unreachable", answered_by="a"))
        uow.session.add(AppointmentChangeAnswer(request_id=request_id, outcome="kept", answered_by="a"))
        uow.session.flush()
        second = uow.session.begin_nested()
        uow.session.add(AppointmentChangeAnswer(request_id=request_id, outcome="cancelled", answered_by="b"))
        with pytest.raises(IntegrityError):
            uow.session.flush()
        second.rollback()
        closing = [a.outcome for a in _answers_in(uow, request_id) if a.outcome != "unreachable"]
        assert closing == ["kept"]
        uow.rollback()


def test_a_refused_move_shows_again_only_the_requests_that_were_ticked(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    """The coordinator leaves the patient's request to cancel open and moves the booking for the request to move;
    the first try is refused (a time that does not exist): the form shown again must keep the cancel request
    unticked, or the corrected move would answer it "moved" and the patient's wish to cancel would be closed
    unheard (H127)."""
    booked, move_request = asked("reschedule", "my daughter cannot drive me")
    assert _ask(booked, "cancel", "I may not need it").status_code == 303
    cancel_request = _requests(session_factory, booked.case_id)[-1].id
    coordinator = signed_in(C)
    page = f"/cases/{booked.case_id}/booking/move"
    offered = coordinator.get(page).text
    ticked = [v for k, v in form_fields(offered, page) if k == "answer_request"]
    assert ticked == [str(move_request)], "only the request to move starts ticked: a move does not answer a cancel"
    assert f'name="answer_request" value="{cancel_request}"' in offered, "the request to cancel is offered, unticked"

    refused = submit(coordinator, page, page, {"room": "Room 2", "time": "25:00", "answer_request": str(move_request)})
    assert refused.status_code == 422, refused.text
    shown = form_fields(refused.text, page)
    assert [v for k, v in shown if k == "answer_request"] == [str(move_request)], "only what was ticked"
    assert ("time", "25:00") in shown, "the typed time is kept"

    # the coordinator corrects the time and sends the form as it is shown
    corrected = [(k, "13:00" if k == "time" else v) for k, v in shown]
    moved = coordinator.post(
        page,
        content=urlencode(corrected),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert moved.status_code == 303, moved.text
    assert [a.outcome for a in _answers(session_factory, move_request)] == ["moved"]
    assert _answers(session_factory, cancel_request) == [], "the request to cancel stays open"
    assert _open_warnings(coordinator.get(booked.chart).text, booked.case_id) == [str(cancel_request)]


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_time_on_the_patients_pages_reads_at_a_clock_time_on_a_day(
    asked: Callable[..., tuple[Booked, int]], signed_in: Callable[[Role], TestClient]
) -> None:
    """The portal writes a moment as "9:30 am GMT on Tuesday 8 December 2026": a sentence leads into it with "at"
    ("Received at 9:30 am GMT on ..."), never "on" ("Received on 9:30 am GMT on ..."). Walked over the pages of a
    booked patient who asked to move the appointment, could not be reached, and wrote about the appointment."""
    booked, request_id = asked("reschedule")
    assert _answer(signed_in(C), booked, request_id, "unreachable").status_code == 303
    thread_id = _write(booked.patient, subject="Parking", body="Where do I park?", case_id=str(booked.case_id))
    pages = {
        "my page": booked.patient.get("/portal/me").text,
        "new message": booked.patient.get(f"/portal/messages/new?case_id={booked.case_id}").text,
        "the conversation": booked.patient.get(f"/portal/messages/{thread_id}").text,
    }
    for name, page in pages.items():
        text = _words(page)
        wrong = re.search(r"\bon \d{1,2}:\d\d (am|pm|noon)", text)
        assert wrong is None, f"{name}: ...{text[max(0, wrong.start() - 60) : wrong.end() + 40]}..."
    me = _words(pages["my page"])
    assert re.search(rf"Received at {ZONED}: you asked us to move your appointment", me), me
    assert re.search(rf"We tried to call you at {ZONED} but could not reach you", me), me
    assert re.search(rf"Your appointment at {ZONED}", _words(pages["new message"]))
    assert re.search(rf"About your appointment at {ZONED}\.", _words(pages["the conversation"]))


def test_each_form_starts_with_only_the_requests_it_answers_ticked(
    asked: Callable[..., tuple[Booked, int]],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    """A patient who asked to cancel and whose booking is moved has not been answered, nor one who asked to move
    and whose booking is cancelled: the move form starts with only the requests to move ticked, the chart's cancel
    form with only the requests to cancel; the other kind is offered unticked, for the desk to choose (H127)."""
    booked, move_request = asked("reschedule", "a family wedding that day")
    assert _ask(booked, "cancel", "I may not need it").status_code == 303
    cancel_request = _requests(session_factory, booked.case_id)[-1].id
    coordinator = signed_in(C)
    move_page = f"/cases/{booked.case_id}/booking/move"
    on_move = coordinator.get(move_page).text
    assert [v for k, v in form_fields(on_move, move_page) if k == "answer_request"] == [str(move_request)]
    assert f'name="answer_request" value="{cancel_request}"' in on_move
    cancel_action = f"/cases/{booked.case_id}/booking/cancel"
    chart = coordinator.get(booked.chart).text
    assert [v for k, v in form_fields(chart, cancel_action) if k == "answer_request"] == [str(cancel_request)]
    assert f'name="answer_request" value="{move_request}"' in chart
