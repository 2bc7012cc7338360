"""Secure messages over HTTP on SQLite and PostgreSQL (decision 0035): a patient writes to the team, the team's
inbox counts it unread, a nurse assigns and answers it, the patient is told through the outbox that a message
waits (with none of its words), reads it, and the count clears; another patient cannot reach the thread."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of, new_patient
from tests.integration.web.test_portal_path import _send_intake, _staff_books, _staff_treat_and_discharge
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, MessageThread, OutboxMessage, ThreadMessage

SUBJECT = "Question about my warfarin"
QUESTION = "Should I stop the warfarin on Monday? The pain in my back is worse at night."
ANSWER = "Please keep taking warfarin until the day your plan says. We will call you about the night pain."


def _write(client: TestClient, subject: str = SUBJECT, body: str = QUESTION, case_id: str = "") -> int:
    token = csrf_of(client.get("/portal/messages/new").text)
    sent = client.post(
        "/portal/messages", data={"csrf_token": token, "subject": subject, "body": body, "case_id": case_id}
    )
    assert sent.status_code == 303, sent.text
    found = re.match(r"/portal/messages/(\d+)\?sent=1", sent.headers["location"])
    assert found, sent.headers["location"]
    return int(found.group(1))


def _unread_badge(html: str) -> str | None:
    found = re.search(r'href="/inbox"[^>]*>Inbox(?: <span class="badge">(\d+))?', html)
    assert found, html[:2000]
    return found.group(1)


def _notifications(session_factory: sessionmaker[Session], patient_id: int) -> list[OutboxMessage]:
    with UnitOfWork(session_factory) as uow:
        return [m for m in uow.portal.messages_of_patient(patient_id) if m.kind == "secure_message"]


def _patient_id(session_factory: sessionmaker[Session], thread_id: int) -> int:
    with UnitOfWork(session_factory) as uow:
        thread = uow.session.get(MessageThread, thread_id)
        assert thread is not None
        return thread.patient_id


def test_patient_writes_team_answers_patient_is_notified_without_the_words_and_reads_it(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    patient = portal_factory()
    new_patient(patient)
    page = patient.get("/portal/messages/new").text
    assert "Messages are not for emergencies" in page
    assert "01632 960 999" in page  # the out-of-hours number, beside the form
    thread_id = _write(patient)
    patient_id = _patient_id(session_factory, thread_id)

    nurse = signed_in(Role.NURSE)
    assert _unread_badge(nurse.get("/").text) == "1"
    inbox = nurse.get("/inbox").text
    assert SUBJECT in inbox
    assert "Ruth Example" in inbox
    assert 'class="unread"' in inbox
    assert "not assigned" in inbox

    assigned = nurse.post(f"/inbox/{thread_id}/assign", data={"to": "role:coordinator"})
    assert assigned.status_code == 303
    assert "the coordinators" in nurse.get("/inbox").text
    coordinator = signed_in(Role.COORDINATOR)
    assert SUBJECT in coordinator.get("/inbox?show=mine").text  # assigned to their role
    assert SUBJECT not in nurse.get("/inbox?show=mine").text
    assert nurse.post(f"/inbox/{thread_id}/assign", data={"to": "me"}).status_code == 303

    opened = nurse.get(f"/inbox/{thread_id}").text
    assert QUESTION in opened
    assert "Assigned to: <strong>t.nurse</strong>" in opened
    assert _unread_badge(nurse.get("/").text) is None  # opened by the team: no longer unread

    replied = nurse.post(f"/inbox/{thread_id}/reply", data={"body": ANSWER})
    assert replied.status_code == 303, replied.text
    notes = _notifications(session_factory, patient_id)
    assert len(notes) == 1
    note = notes[0]
    assert note.recipient == "ruth@example.org"
    assert "/portal/messages" in note.body
    assert "sign in to read it" in note.body
    for private in ("warfarin", "pain", "night", "worse", SUBJECT):  # nothing of the thread leaves the portal
        assert private.lower() not in (note.subject + note.body).lower()

    me = patient.get("/portal/me").text
    assert re.search(r'href="/portal/messages"[^>]*>Messages <span class="badge">1', me), me
    listed = patient.get("/portal/messages").text
    assert "New reply" in listed
    read = patient.get(f"/portal/messages/{thread_id}").text
    assert ANSWER in read
    assert "nurse" in read  # who answered, with their role
    assert 'class="badge"' not in patient.get("/portal/messages").text  # read: the marker clears

    with UnitOfWork(session_factory) as uow:
        audited = uow.session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_type).where(
                AuditEntry.patient_id == patient_id
            )
        ).all()
    kinds = {(actor.split(":")[0], action, entity) for actor, action, entity in audited}
    assert ("patient", "create", "message_thread") in kinds
    assert ("patient", "read", "message_thread") in kinds
    assert ("t.nurse", "read", "message_thread") in kinds
    assert ("t.nurse", "create", "thread_message") in kinds
    assert ("t.nurse", "assign", "message_thread") in kinds
    assert ("t.nurse", "read", "patient") in kinds  # the inbox list shows the patient's name

    done = nurse.post(f"/inbox/{thread_id}/status", data={"status": "done"})
    assert done.status_code == 303
    assert SUBJECT not in nurse.get("/inbox").text
    assert SUBJECT in nurse.get("/inbox?show=done").text
    token = csrf_of(patient.get(f"/portal/messages/{thread_id}").text)
    again = patient.post(f"/portal/messages/{thread_id}/reply", data={"csrf_token": token, "body": "Thank you."})
    assert again.status_code == 303
    assert SUBJECT in nurse.get("/inbox").text  # the patient's answer opens it again, unread
    assert _unread_badge(nurse.get("/").text) == "1"


def test_another_patient_cannot_read_or_answer_a_thread_or_name_another_patients_case(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    ruth = portal_factory()
    ruth_case = new_patient(ruth)["case_id"]
    thread_id = _write(ruth)
    other = portal_factory()
    new_patient(other, name="Tom Other", email="tom@example.org", birth_date="1950-01-01")

    refused = other.get(f"/portal/messages/{thread_id}")
    assert refused.status_code == 404
    assert SUBJECT not in refused.text
    assert QUESTION not in refused.text
    missing = other.get("/portal/messages/999999")
    assert missing.status_code == 404  # the same answer as a thread that does not exist
    token = csrf_of(other.get("/portal/messages/new").text)
    answer = other.post(f"/portal/messages/{thread_id}/reply", data={"csrf_token": token, "body": "hello"})
    assert answer.status_code == 404
    assert SUBJECT not in other.get("/portal/messages").text
    about_ruth = other.post(
        "/portal/messages",
        data={"csrf_token": token, "subject": "Hi", "body": "About her case", "case_id": str(ruth_case)},
    )
    assert about_ruth.status_code == 422
    assert "Choose one of your appointments" in about_ruth.text
    with UnitOfWork(session_factory) as uow:
        assert uow.session.execute(select(func.count()).select_from(ThreadMessage)).scalar_one() == 1


def test_staff_roles_and_patients_are_kept_out_of_each_others_side(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    patient = portal_factory()
    new_patient(patient)
    thread_id = _write(patient)
    admin = signed_in(Role.ADMIN)
    assert admin.get("/inbox").status_code == 403
    assert admin.get(f"/inbox/{thread_id}").status_code == 403
    assert admin.post(f"/inbox/{thread_id}/reply", data={"body": "x"}).status_code == 403
    assert admin.get("/api/inbox/threads").status_code == 403
    assert 'href="/inbox"' not in admin.get("/admin/audit").text
    assert patient.get("/inbox").status_code in (303, 401)  # a patient's session is no staff session
    assert patient.get("/api/inbox/threads").status_code == 401
    anonymous = portal_factory()
    assert anonymous.get("/portal/messages").status_code == 303
    assert anonymous.get(f"/portal/messages/{thread_id}").status_code == 303


def test_bounded_lengths_are_refused_field_by_field_with_what_was_typed_kept_and_nothing_stored(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    patient = portal_factory()
    new_patient(patient)
    token = csrf_of(patient.get("/portal/messages/new").text)
    long_subject = "s" * 121
    refused = patient.post("/portal/messages", data={"csrf_token": token, "subject": long_subject, "body": "  "})
    assert refused.status_code == 422
    assert "The subject can be at most 120 characters (it has 121)" in refused.text
    assert "Write your message" in refused.text
    assert long_subject in refused.text  # what was typed is kept
    assert 'class="error-summary"' in refused.text
    too_long = patient.post("/portal/messages", data={"csrf_token": token, "subject": "ok", "body": "b" * 4001})
    assert too_long.status_code == 422
    assert "at most 4000 characters (it has 4001)" in too_long.text
    control = patient.post("/portal/messages", data={"csrf_token": token, "subject": "a\x00b", "body": "text"})
    assert control.status_code == 422
    assert "control characters" in control.text
    with UnitOfWork(session_factory) as uow:
        assert uow.session.execute(select(func.count()).select_from(MessageThread)).scalar_one() == 0

    thread_id = _write(patient)
    nurse = signed_in(Role.NURSE)
    empty = nurse.post(f"/inbox/{thread_id}/reply", data={"body": "   "})
    assert empty.status_code == 422
    assert "Write your message" in empty.text
    api = nurse.post(f"/api/inbox/threads/{thread_id}/replies", json={"body": "x" * 4001})
    assert api.status_code == 422
    assert api.json()["field"] == "body"
    bad_assignee = nurse.post(f"/inbox/{thread_id}/assign", data={"to": "user:nobody"})
    assert bad_assignee.status_code == 422
    assert "choose a colleague from the list" in bad_assignee.text
    with UnitOfWork(session_factory) as uow:
        assert uow.session.execute(select(func.count()).select_from(ThreadMessage)).scalar_one() == 1
        assert _notifications(session_factory, _patient_id(session_factory, thread_id)) == []


def test_the_json_api_lists_reads_and_answers_a_thread(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    patient = portal_factory()
    new_patient(patient)
    thread_id = _write(patient)
    coordinator = signed_in(Role.COORDINATOR)
    listed = coordinator.get("/api/inbox/threads")
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["id"] == thread_id
    assert row["unread"] is True
    assert row["subject"] == SUBJECT
    assert row["messages"] == 1
    answered = coordinator.post(f"/api/inbox/threads/{thread_id}/replies", json={"body": ANSWER})
    assert answered.status_code == 201, answered.text
    assert [m["author_kind"] for m in answered.json()["messages"]] == ["patient", "staff"]
    assert answered.json()["assignee_user"] == "t.coordinator"  # who answers first holds it
    assert coordinator.get("/api/inbox/threads").json()[0]["unread"] is False
    assert coordinator.get("/api/inbox/threads/999999").status_code == 404
    assert len(_notifications(session_factory, _patient_id(session_factory, thread_id))) == 1


def test_the_appointment_card_links_a_message_and_after_discharge_no_longer_asks_to_arrive(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
) -> None:
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    _send_intake(patient, case_id)
    _staff_books(signed_in, case_id)
    me = patient.get("/portal/me").text
    assert "Please arrive by" in me
    assert f'href="/portal/cases/{case_id}/appointment.ics"' in me
    assert f'action="/portal/cases/{case_id}/appointment/change"' in me
    assert f'href="/portal/messages/new?case_id={case_id}"' in me
    form = patient.get(f"/portal/messages/new?case_id={case_id}").text
    assert re.search(rf'<option value="{case_id}" selected>Your appointment at ', form)
    thread_id = _write(patient, subject="Parking", body="Where do I park?", case_id=str(case_id))
    assert "About your appointment at" in patient.get(f"/portal/messages/{thread_id}").text
    assert f"#case-{case_id}" in signed_in(Role.NURSE).get(f"/inbox/{thread_id}").text

    _staff_treat_and_discharge(signed_in, case_id)
    after = patient.get("/portal/me").text
    assert "Please arrive by" not in after
    assert "You had your procedure at" in after
    assert "/appointment/change" not in after
