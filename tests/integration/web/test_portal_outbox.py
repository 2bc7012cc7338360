"""Messages to patients: the activation link is queued (not shown) outside demo mode and delivered through the
SMTP outbox; without a server it waits with the reason; in demo mode staff see the outbox page."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import request_form
from vertebro.messaging.outbox import QueueOnlyOutbox, SmtpOutbox, deliver_pending
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork


class _SmtpHandler(socketserver.StreamRequestHandler):
    """A minimal SMTP server (RFC 5321 subset: EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives."""

    received: list[str] = []  # noqa: RUF012

    def _reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        while True:
            line = self.rfile.readline().decode().strip()
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 test")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 go ahead")
                lines = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    lines.append(data)
                _SmtpHandler.received.append("".join(lines))
                self._reply("250 queued")
            elif verb == "QUIT" or not line:
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    _SmtpHandler.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _SmtpHandler.received
    finally:
        server.shutdown()
        server.server_close()


def test_activation_is_queued_not_shown_and_sent_by_smtp(
    portal_factory: Callable[..., TestClient],
    session_factory: sessionmaker[Session],
    smtp_server: tuple[int, list[str]],
) -> None:
    response = portal_factory(demo=False).post("/portal/request", data=request_form(email="queued@example.org"))
    assert response.status_code == 200
    assert "/portal/activate/" not in response.text
    assert "We have sent a link to queued@example.org" in response.text
    with UnitOfWork(session_factory) as uow:
        waiting = uow.portal.pending(10)
        assert [(m.kind, m.recipient) for m in waiting] == [
            ("request_received", "queued@example.org"),
            ("activation", "queued@example.org"),
        ]
        assert waiting[1].last_error is not None  # tried at once: no SMTP server configured in this app
        assert "no SMTP server configured" in waiting[1].last_error
        none = deliver_pending(uow, QueueOnlyOutbox())
        port, received = smtp_server
        smtp = SmtpOutbox("127.0.0.1", port, "clinic@example.org", user=None, password=None, starttls=False)
        sent = deliver_pending(uow, smtp)
        uow.commit()
        assert uow.portal.pending(10) == []
    assert (none.sent, none.failed) == (0, 2)
    assert (sent.sent, sent.failed) == (2, 0)
    assert len(received) == 2
    assert "To: queued@example.org" in received[1]
    assert "/portal/activate/" in received[1]


def test_sms_only_patients_wait_for_an_sms_outbox(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    portal_factory(demo=False).post("/portal/request", data=request_form(email="", phone="+44 20 7946 0000"))
    with UnitOfWork(session_factory) as uow:
        smtp = SmtpOutbox("127.0.0.1", _closed_port(), "c@example.org", user=None, password=None, starttls=False)
        result = deliver_pending(uow, smtp)
        uow.commit()
        assert result.failed == 2  # the receipt and the activation link
        assert "cannot send sms" in (uow.portal.pending(1)[0].last_error or "")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_outbox_page_is_for_clinical_staff_in_demo_mode_only(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    portal_factory(demo=False).post("/portal/request", data=request_form(email="page@example.org"))
    nurse = signed_in(Role.NURSE)
    assert nurse.get("/outbox").status_code == 404  # this app is not in demo mode
    demo = portal_factory(demo=True)
    demo.cookies.update(nurse.cookies)
    page = demo.get("/outbox")
    assert page.status_code == 200
    assert "page@example.org" in page.text
    assert signed_in(Role.ADMIN).get("/outbox").status_code == 403


def test_staff_send_a_new_link_and_the_old_one_stops_working(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    patient_client = portal_factory(demo=False)
    patient_client.post("/portal/request", data=request_form(email="lost@example.org"))
    with UnitOfWork(session_factory) as uow:
        first = next(m for m in uow.portal.pending(10) if m.kind == "activation")
        account = uow.portal.account_by_login("lost@example.org")
        assert account is not None
        case_id = uow.workflows.cases_of_patient(account.patient_id)[0].case_id
    old_path = first.body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    coordinator = signed_in(Role.COORDINATOR)
    assert coordinator.post(f"/cases/{case_id}/portal-link").status_code == 303
    with UnitOfWork(session_factory) as uow:
        links = [m.body for m in uow.portal.messages_of_patient(account.patient_id) if m.kind == "activation"]
        entries = uow.audit.entries(patient_id=account.patient_id, action="reissue")
    assert len(links) == 2
    assert [e.actor for e in entries] == ["t.coordinator"]
    new_path = links[1].split("http://127.0.0.1:8000", 1)[1].split()[0]
    assert portal_factory(demo=False).get(old_path).status_code == 410
    assert portal_factory(demo=False).get(new_path).status_code == 200
