"""vertebro launched from an EHR (SMART App Launch 2.x, EHR launch with PKCE), against a fake EHR on a thread:
the clinician lands on the chart of the patient the EHR launched with, matched by the MRN and its system only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.e2e.ehr_double import MRN, FakeEhr, serve_ehr
from tests.integration.web.conftest import PASSWORD, Account, sign_in
from vertebro.config import Settings, SmartEhr
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Case, Patient

VERTEBRO = "http://testserver"


@pytest.fixture
def ehr() -> Iterator[FakeEhr]:
    with serve_ehr(VERTEBRO) as fake:
        yield fake


@pytest.fixture
def launched(app_factory: Callable[[], TestClient], db_url: str, ehr: FakeEhr) -> Callable[[], TestClient]:
    """A maker of clients on a vertebro that the fake EHR may launch."""

    def make() -> TestClient:
        client = app_factory().__enter__()
        configured = SmartEhr(iss=ehr.iss, client_id=ehr.client_id, identifier_system=MRN)
        settings = Settings(database_url=db_url, secure_cookies=False, jobs="in-process", smart_ehrs=(configured,))
        client.app.state.settings = settings  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def mrn_patient(stored_case: Callable[..., int], session_factory: sessionmaker[Session]) -> Callable[[str], int]:
    """A maker of stored patients whose identifier is a hospital MRN (system :data:`MRN`); returns the patient id."""

    def make(mrn: str) -> int:
        case_id = stored_case(mrn)
        with UnitOfWork(session_factory) as uow:
            case = uow.session.get(Case, case_id)
            assert case is not None
            uow.session.execute(update(Patient).where(Patient.id == case.patient_id).values(identifier_system=MRN))
            uow.commit()
            return case.patient_id

    return make


def _through_ehr(client: TestClient, ehr: FakeEhr, patient_id: str) -> str:
    """Launch from the EHR, follow its authorization back to the callback; return the link the page offers."""
    launch = client.get(ehr.launch_url(VERTEBRO, patient_id).removeprefix(VERTEBRO))
    assert launch.status_code == 302, launch.text
    authorize = launch.headers["location"]
    assert authorize.startswith(f"{ehr.base}/authorize?")
    back = httpx.get(authorize)  # the browser at the EHR: it approves and redirects to vertebro
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert callback.startswith(f"{VERTEBRO}/smart/callback?code=")
    page = client.get(callback.removeprefix(VERTEBRO))
    assert page.status_code == 200, page.text
    link = page.text.split('href="/smart/open/', 1)[1].split('"', 1)[0]
    assert f'content="0;url=/smart/open/{link}"' in page.text
    return f"/smart/open/{link}"


def _audit(session_factory: sessionmaker[Session], action: str) -> list[Any]:
    with UnitOfWork(session_factory) as uow:
        return uow.audit.entries(action=action)


def test_a_clinician_launched_from_the_ehr_lands_on_that_patients_chart(
    launched: Callable[[], TestClient],
    accounts: dict[Role, Account],
    ehr: FakeEhr,
    mrn_patient: Callable[[str], int],
    session_factory: sessionmaker[Session],
) -> None:
    other = mrn_patient("MRN-100")
    wanted = mrn_patient("MRN-200")
    ehr.add_patient("ehr-a", "MRN-100")
    ehr.add_patient("ehr-b", "MRN-200")
    nurse = sign_in(launched(), accounts[Role.NURSE])
    link = _through_ehr(nurse, ehr, "ehr-b")

    sent = ehr.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert sent["aud"] == ehr.iss
    assert sent["client_id"] == "vertebro-app"
    assert len(sent["state"]) >= 32
    assert ehr.token_requests[-1]["grant_type"] == "authorization_code"

    opened = nurse.get(link)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == f"/patients/{wanted}"
    assert opened.headers["location"] != f"/patients/{other}"
    chart = nurse.get(opened.headers["location"])
    assert chart.status_code == 200
    assert "MRN-200" in chart.text
    entries = _audit(session_factory, "smart_launch_opened")
    assert [(e.actor, e.patient_id) for e in entries] == [("t.nurse", wanted)]
    assert entries[0].detail["ehr_patient"] == "ehr-b"
    assert entries[0].detail["identifier"] == f"{MRN}|MRN-200"

    again = nurse.get(link)  # the link is good once
    assert again.status_code == 410
    assert "used or has expired" in again.text


def test_a_clinician_not_signed_in_signs_in_and_is_brought_to_the_chart(
    launched: Callable[[], TestClient],
    accounts: dict[Role, Account],
    ehr: FakeEhr,
    mrn_patient: Callable[[str], int],
) -> None:
    wanted = mrn_patient("MRN-300")
    ehr.add_patient("ehr-c", "MRN-300")
    browser = launched()
    link = _through_ehr(browser, ehr, "ehr-c")
    to_login = browser.get(link)
    assert to_login.status_code == 303
    assert to_login.headers["location"] == "/login"
    account = accounts[Role.COORDINATOR]
    assert browser.post("/login", data={"username": account.username, "password": PASSWORD}).status_code == 303
    signed = browser.post("/login/totp", data={"code": pyotp.TOTP(account.secret).now()})
    assert signed.status_code == 303
    assert signed.headers["location"] == link
    opened = browser.get(link)
    assert opened.headers["location"] == f"/patients/{wanted}"


def test_an_admin_cannot_open_a_chart_from_the_ehr(
    launched: Callable[[], TestClient], accounts: dict[Role, Account], ehr: FakeEhr, mrn_patient: Callable[[str], int]
) -> None:
    mrn_patient("MRN-400")
    ehr.add_patient("ehr-d", "MRN-400")
    admin = sign_in(launched(), accounts[Role.ADMIN])
    response = admin.get(_through_ehr(admin, ehr, "ehr-d"))
    assert response.status_code == 403


def test_a_patient_vertebro_does_not_know_is_named_not_guessed(
    launched: Callable[[], TestClient],
    accounts: dict[Role, Account],
    ehr: FakeEhr,
    mrn_patient: Callable[[str], int],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    stored_case("MRN-500")  # the same value under vertebro's own identifier system: not the EHR's MRN
    ehr.add_patient("ehr-e", "MRN-500")
    nurse = sign_in(launched(), accounts[Role.NURSE])
    response = nurse.get(_through_ehr(nurse, ehr, "ehr-e"))
    assert response.status_code == 404
    assert f"no patient in vertebro has the identifier MRN-500 ({MRN})" in response.text
    assert [e.detail["matches"] for e in _audit(session_factory, "smart_launch_unmatched")] == [0]


def test_a_patient_without_an_mrn_in_the_ehr_is_refused(
    launched: Callable[[], TestClient], accounts: dict[Role, Account], ehr: FakeEhr
) -> None:
    ehr.add_patient("ehr-f", None)
    nurse = sign_in(launched(), accounts[Role.NURSE])
    launch = nurse.get(ehr.launch_url(VERTEBRO, "ehr-f").removeprefix(VERTEBRO))
    back = httpx.get(launch.headers["location"])
    page = nurse.get(back.headers["location"].removeprefix(VERTEBRO))
    assert page.status_code == 400
    assert f"has none identifier of system {MRN}" in page.text


def test_launches_from_unknown_ehrs_forged_states_and_replayed_callbacks_are_refused(
    launched: Callable[[], TestClient],
    accounts: dict[Role, Account],
    ehr: FakeEhr,
    mrn_patient: Callable[[str], int],
) -> None:
    mrn_patient("MRN-600")
    ehr.add_patient("ehr-g", "MRN-600")
    nurse = sign_in(launched(), accounts[Role.NURSE])
    unknown = nurse.get("/smart/launch", params={"iss": "https://evil.example/fhir", "launch": "x"})
    assert unknown.status_code == 400
    assert "is not an EHR vertebro may be launched from" in unknown.text

    launch = nurse.get(ehr.launch_url(VERTEBRO, "ehr-g").removeprefix(VERTEBRO))
    callback = httpx.get(launch.headers["location"]).headers["location"].removeprefix(VERTEBRO)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = nurse.get("/smart/callback", params={"code": code, "state": "not-the-state-we-sent"})
    assert forged.status_code == 400
    assert "expired or was already completed" in forged.text
    assert nurse.get(callback).status_code == 200
    replayed = nurse.get(callback)
    assert replayed.status_code == 400
    assert "expired or was already completed" in replayed.text

    refused = nurse.get("/smart/callback", params={"error": "access_denied", "state": "s"})
    assert refused.status_code == 400
    assert "access_denied" in refused.text
