"""A patient's message is seen (decision 0038, hazard H123), over HTTP on SQLite and PostgreSQL.

* every staff page shows the unread count on the "Inbox" link to every role that may read the inbox (and the
  admin, who may not, has no such link);
* the team's address from the clinic settings (the admin page, or ``VERTEBRO_CLINIC_TEAM_EMAIL``) is e-mailed
  through the outbox that a message waits: the inbox's address and the conversation's reference, never the
  patient's name or any of their words; once per conversation until someone in the team opens it;
* with no team address nothing is queued and the admin's settings page says so;
* the patient's message page says, beside the form, when the team reads messages and whom to call when it cannot
  wait (the clinic's phone and out-of-hours number from the settings).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of, new_patient
from tests.integration.web.test_clinic_settings import SETTINGS
from vertebro.config import Settings
from vertebro.jobs.queue import DELIVER_TASK
from vertebro.messaging.service import INBOX_ROLES
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import ClinicSettingsRow, MessageThread, OutboxMessage
from vertebro.web import deps
from vertebro.web.app import create_app

TEAM = "spinal.team@hospital.example"
SUBJECT = "Question about my warfarin"
QUESTION = "Should I stop the warfarin on Monday? The pain in my back is worse at night."
PRIVATE = ("Ruth", "Example", "ruth@example.org", "1946", "warfarin", "pain", "night", "Question")
NOTICE = "team_message_waiting"
PARAMETERS = {"case_id", "patient_id", "thread_id"}


def _write(client: TestClient, subject: str = SUBJECT, body: str = QUESTION) -> int:
    token = csrf_of(client.get("/portal/messages/new").text)
    sent = client.post("/portal/messages", data={"csrf_token": token, "subject": subject, "body": body})
    assert sent.status_code == 303, sent.text
    found = re.match(r"/portal/messages/(\d+)\?sent=1", sent.headers["location"])
    assert found, sent.headers["location"]
    return int(found.group(1))


def _answer(client: TestClient, thread_id: int, body: str) -> None:
    token = csrf_of(client.get(f"/portal/messages/{thread_id}").text)
    sent = client.post(f"/portal/messages/{thread_id}/reply", data={"csrf_token": token, "body": body})
    assert sent.status_code == 303, sent.text


def _notices(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with UnitOfWork(session_factory) as uow:
        return list(
            uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == NOTICE).order_by(OutboxMessage.id))
        )


def _badge(html: str) -> str | None:
    found = re.search(r'href="/inbox"[^>]*>Inbox(?: <span class="badge">(\d+))?', html)
    assert found, html[:1500]
    return found.group(1)


def _staff_pages(client: TestClient, ids: dict[str, int]) -> list[str]:
    """Every staff page this client may open: the HTML pages of the schema, with the case's ids filled in."""
    schema = client.get("/openapi.json").json()
    pages = []
    for path, operations in schema["paths"].items():
        if "get" not in operations or path.startswith(("/api", "/fhir", "/portal", "/cds-services", "/smart")):
            continue
        names = set(re.findall(r"{(\w+)}", path))
        if names <= PARAMETERS:
            pages.append(path.format(**ids))
    return sorted(pages)


def _admin_form(admin: TestClient, **changes: str) -> dict[str, str]:
    page = admin.get("/admin/clinic")
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text), **SETTINGS, **changes}


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app re-reads the stored clinic settings on each request (as another server process would, later)."""
    monkeypatch.setattr(deps, "CLINIC_REFRESH_SECONDS", 0.0)


def test_every_staff_page_shows_the_unread_count_to_every_role_that_reads_the_inbox(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    thread_id = _write(patient)
    _write(patient, subject="Parking", body="Where do I park?")
    with UnitOfWork(session_factory) as uow:
        thread = uow.session.get(MessageThread, thread_id)
        assert thread is not None
        ids = {"case_id": case_id, "patient_id": thread.patient_id, "thread_id": thread_id}
    for role in INBOX_ROLES:
        client = signed_in(role)
        shown = []
        for path in _staff_pages(client, ids):
            if path.startswith("/inbox/"):
                continue  # opening the conversation reads it: below
            response = client.get(path)
            if response.status_code == 200 and '<nav aria-label="Main">' in response.text:
                assert _badge(response.text) == "2", f"{role.value} {path}"
                assert '2<span class="visually-hidden"> unread</span>' in response.text  # said to screen readers
                shown.append(path)
        assert {"/", "/calendar", "/inbox", f"/patients/{ids['patient_id']}"} <= set(shown), (role, shown)
    admin = signed_in(Role.ADMIN)
    for path in ("/admin/audit", "/admin/clinic", "/registry"):
        page = admin.get(path)
        assert page.status_code == 200
        assert '<nav aria-label="Main">' in page.text
        assert 'href="/inbox"' not in page.text  # the admin reads no patient messages

    assert signed_in(Role.RADIOLOGIST).get(f"/inbox/{thread_id}").status_code == 200  # one of the team opens it
    for role in INBOX_ROLES:
        assert _badge(signed_in(role).get("/calendar").text) == "1", role.value  # read for the whole team


def test_a_patients_message_tells_the_team_address_with_no_name_and_no_words_once_until_opened(
    db_url: str,
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    fresh_settings: None,
) -> None:
    admin = signed_in(Role.ADMIN)
    saved = admin.post("/admin/clinic", data=_admin_form(admin, team_email=TEAM))
    assert saved.status_code == 303, saved.text
    page = admin.get("/admin/clinic").text
    assert f'value="{TEAM}"' in page
    assert 'type="email"' in page
    assert "No team e-mail is set" not in page
    assert f"{TEAM} is told that one is waiting" in page

    patient = portal_factory()
    new_patient(patient)
    thread_id = _write(patient)
    (notice,) = _notices(session_factory)
    assert (notice.channel, notice.recipient, notice.patient_id) == ("email", TEAM, None)
    assert "/inbox" in notice.body
    assert f"Reference: conversation {thread_id}" in notice.body
    for private in PRIVATE:  # neither who nor what: the e-mail leaves the hospital's systems
        assert private.lower() not in (notice.subject + notice.body).lower(), private
    assert notice.attachment is None
    if db_url.startswith("sqlite"):
        assert notice.sent_at is not None  # delivered at once (the demo outbox), not at the next reminders run
    else:  # where a worker runs jobs: the delivery job, committed with the message
        with UnitOfWork(session_factory) as uow:
            jobs = uow.session.execute(text("SELECT task_name FROM procrastinate_jobs")).scalars().all()
        assert DELIVER_TASK in jobs

    _answer(patient, thread_id, "And may I drive there myself?")  # still unread by the team: no second e-mail
    assert len(_notices(session_factory)) == 1
    nurse = signed_in(Role.NURSE)
    assert nurse.get(f"/inbox/{thread_id}").status_code == 200
    _answer(patient, thread_id, "Thank you, one more question.")  # opened since: the team is told again
    notices = _notices(session_factory)
    assert len(notices) == 2
    assert f"Reference: conversation {thread_id}" in notices[1].body
    other = _write(patient, subject="Parking", body="Where do I park?")  # a new conversation: its own e-mail
    assert [f"conversation {other}" in n.body for n in _notices(session_factory)] == [False, False, True]

    demo = portal_factory()  # the demo outbox page shows it, as any other message
    demo.cookies.update(nurse.cookies)
    outbox = demo.get("/outbox").text
    assert TEAM in outbox
    assert "team message waiting" in outbox
    with UnitOfWork(session_factory) as uow:
        patient_id = uow.session.get(MessageThread, thread_id).patient_id  # type: ignore[union-attr]
        assert NOTICE not in {m.kind for m in uow.portal.messages_of_patient(patient_id)}


def test_without_a_team_address_nothing_is_queued_and_the_admin_page_says_so(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    fresh_settings: None,
) -> None:
    admin = signed_in(Role.ADMIN)
    page = admin.get("/admin/clinic").text
    assert "No team e-mail is set: nobody is e-mailed when a patient sends a message." in page
    patient = portal_factory()
    new_patient(patient)
    thread_id = _write(patient)
    _answer(patient, thread_id, "Another question.")
    assert _notices(session_factory) == []
    assert _badge(signed_in(Role.COORDINATOR).get("/").text) == "1"  # the count is there all the same

    refused = admin.post("/admin/clinic", data=_admin_form(admin, team_email="the team, please"))
    assert refused.status_code == 422
    assert "Team e-mail: one address such as" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "the team, please" in refused.text  # what was typed is kept
    with UnitOfWork(session_factory) as uow:
        assert uow.session.get(ClinicSettingsRow, 1) is None  # nothing saved
    saved = admin.post("/admin/clinic", data=_admin_form(admin, team_email=""))
    assert saved.status_code == 303
    assert "No team e-mail is set" in admin.get("/admin/clinic").text
    _write(patient, subject="Parking", body="Where do I park?")
    assert _notices(session_factory) == []


def test_the_environment_gives_the_team_address_until_the_admin_saves_one(
    db_url: str, session_factory: sessionmaker[Session], signed_in: Callable[[Role], TestClient]
) -> None:
    with pytest.raises(ValidationError, match="is not an e-mail address"):
        Settings(database_url=db_url, clinic_team_email="not an address")
    app = create_app(Settings(database_url=db_url, secure_cookies=False, demo_mode=True, clinic_team_email=TEAM))
    app.state.session_factory = session_factory
    with TestClient(app, follow_redirects=False) as patient:
        new_patient(patient)
        thread_id = _write(patient)
    (notice,) = _notices(session_factory)
    assert notice.recipient == TEAM
    assert f"conversation {thread_id}" in notice.body


def test_the_message_pages_say_when_the_team_reads_and_whom_to_call_beside_the_form(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient], fresh_settings: None
) -> None:
    admin = signed_in(Role.ADMIN)
    assert admin.post("/admin/clinic", data=_admin_form(admin)).status_code == 303
    patient = portal_factory()
    new_patient(patient)
    form = patient.get("/portal/messages/new").text
    notice = form.index('id="not-for-emergencies"')
    assert notice < form.index('action="/portal/messages"')  # read before the form is filled in
    beside = form[notice : form.index("</div>", notice)]
    assert "not for emergencies or anything urgent" in beside
    assert f"opening hours ({SETTINGS['opening_hours']})" in beside
    assert SETTINGS["phone"] in beside
    assert SETTINGS["out_of_hours"] in beside
    assert "999" in beside
    thread_id = _write(patient)
    sent = patient.get(f"/portal/messages/{thread_id}?sent=1").text
    assert f"They read messages in opening hours ({SETTINGS['opening_hours']}), not at once" in sent
    assert f"If it cannot wait, call {SETTINGS['name']} on {SETTINGS['phone']}." in sent
    thread = patient.get(f"/portal/messages/{thread_id}").text
    assert thread.index('id="not-for-emergencies"') < thread.index(f'action="/portal/messages/{thread_id}/reply"')
