"""The patient portal on SQLite and PostgreSQL: request, activation, sign-in, intake, plan, follow-ups, outbox."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import PATIENT_PASSWORD, csrf_of, new_patient, request_form
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AppointmentRequest


def test_request_opens_a_requested_case_in_the_staff_worklist(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    patient = new_patient(portal_factory())
    worklist = signed_in(Role.COORDINATOR).get("/?state=requested")
    assert patient["reference"] in worklist.text
    assert "Ruth Example" in worklist.text


def _requests(session_factory: sessionmaker[Session]) -> int:
    with UnitOfWork(session_factory) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(AppointmentRequest)) or 0)


def test_the_same_request_form_sent_twice_opens_one_request(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    client = portal_factory()
    page = client.get("/portal/request")
    form_id = re.search(r'name="form_id" value="([^"]+)"', page.text)
    assert form_id, page.text[:400]
    before = _requests(session_factory)

    first = client.post("/portal/request", data=request_form(form_id=form_id.group(1)))
    assert first.status_code == 200, first.text
    reference = re.search(r'id="reference">([A-Z0-9-]+)<', first.text)
    assert reference
    again = client.post("/portal/request", data=request_form(form_id=form_id.group(1)))  # a reload
    assert again.status_code == 200
    assert f'id="reference">{reference.group(1)}<' in again.text
    assert "We have not opened a second request" in again.text
    assert "activation-link" not in again.text  # the one-time link is never shown twice
    assert _requests(session_factory) == before + 1

    other = client.post("/portal/request", data=request_form())
    assert other.status_code == 200  # without a form id (an old page) a request is still opened
    assert _requests(session_factory) == before + 2


def test_a_mistake_keeps_the_form_id_so_the_corrected_form_is_still_one_request(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    response = client.post("/portal/request", data=request_form(pain_now="11", form_id="f" * 43))
    assert response.status_code == 422
    assert f'name="form_id" value="{"f" * 43}"' in response.text


def test_request_mistakes_are_named_by_the_field_and_nothing_typed_is_lost(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    client = portal_factory()
    form = request_form(levels="the lower one", pain_now="11", email="", phone="", birth_date="2090-01-01")
    response = client.post("/portal/request", data=form)
    assert response.status_code == 422
    text = response.text
    assert 'id="levels-error"' in text
    assert "for example L1 or T12" in text
    assert 'id="pain_now-error"' in text
    assert "between 0 and 10" in text
    assert 'id="email-error"' in text
    assert "e-mail address or a phone number" in text
    assert 'id="birth_date-error"' in text
    assert 'value="the lower one"' in text
    assert 'value="Dr Grey, Elm Street Practice"' in text
    with UnitOfWork(session_factory) as uow:
        assert uow.portal.messages(10) == []
        assert uow.patients.get_by_identifier("VB-") is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "ruth at example.org"}, "email", "does not look like an e-mail address"),
        ({"email": "ruth@example"}, "email", "does not look like an e-mail address"),
        ({"email": "", "phone": "01632"}, "phone", "write the whole phone number, with the area code"),
    ],
)
def test_a_contact_the_team_could_not_use_is_named_and_nothing_is_opened(
    portal_factory: Callable[..., TestClient],
    session_factory: sessionmaker[Session],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    """The same e-mail and phone shapes as the staff referral form (web/forms.py), in the patient's words."""
    response = portal_factory().post("/portal/request", data=request_form(**changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert _requests(session_factory) == 0
    accepted = portal_factory().post("/portal/request", data=request_form(email="", phone="01632 960 123"))
    assert accepted.status_code == 200, accepted.text
    assert _requests(session_factory) == 1


def test_activation_link_works_once_and_the_password_is_checked(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    patient = new_patient(client)
    again = portal_factory().post(patient["activation"], data={"password": "x" * 14, "repeated": "x" * 14})
    assert again.status_code == 410
    fresh = portal_factory()
    response = fresh.post("/portal/request", data=request_form(email="other@example.org"))
    link = re.search(r'href="[^"]*(/portal/activate/[^"]+)"', response.text)
    assert link
    short = fresh.post(link.group(1), data={"password": "short", "repeated": "short"})
    assert short.status_code == 422
    assert "at least 12 characters" in short.text


def test_patient_signs_in_with_reference_number_and_is_rate_limited(portal_factory: Callable[..., TestClient]) -> None:
    patient = new_patient(portal_factory())
    client = portal_factory()
    ok = client.post("/portal/login", data={"login": patient["reference"].lower(), "password": PATIENT_PASSWORD})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/portal/me"
    other = portal_factory()
    codes = [
        other.post("/portal/login", data={"login": patient["reference"], "password": "wrong password!"}).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429


def test_forms_without_the_csrf_token_are_refused(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    patient = new_patient(client)
    response = client.post(f"/portal/cases/{patient['case_id']}/intake", data={"pain_now": "5", "save": "1"})
    assert response.status_code == 403


def _intake(client: TestClient, case_id: int, **answers: str | list[str]) -> object:
    token = csrf_of(client.get(f"/portal/cases/{case_id}/intake").text)
    return client.post(f"/portal/cases/{case_id}/intake", data={"csrf_token": token, **answers})


def test_intake_draft_resumes_on_another_device_and_keeps_invalid_text(
    portal_factory: Callable[..., TestClient],
) -> None:
    phone = portal_factory()
    patient = new_patient(phone)
    response = _intake(phone, patient["case_id"], pain_now="7", tried_weeks="six", save="1")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "whole number" in response.text  # type: ignore[attr-defined]
    laptop = portal_factory()
    laptop.post("/portal/login", data={"login": patient["reference"], "password": PATIENT_PASSWORD})
    page = laptop.get(f"/portal/cases/{patient['case_id']}/intake").text  # resumes at the first step not done
    assert "Step 1 of" in page
    assert re.search(r'value="7" checked', page)
    page = laptop.get(f"/portal/cases/{patient['case_id']}/intake/treatment").text
    assert 'value="six"' in page


def test_sent_intake_feeds_the_case_facts(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    started = (dt.date.today() - dt.timedelta(weeks=4)).isoformat()
    response = _intake(
        client,
        patient["case_id"],
        pain_now="8",
        pain_started=started,
        pain_course="stable",
        tried=["painkillers", "brace"],
        tried_weeks="4",
        walk_with_painkillers="no",
        blood_thinners_none="some",
        blood_thinners=["warfarin"],
        allergy_cement="no",
        allergy_contrast="yes",
        allergy_latex="no",
        pregnant="not_applicable",
        send="1",
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(patient["case_id"])
        assert workflow is not None
        facts = workflow.case.facts
        audit = uow.audit.entries(patient_id=workflow.case.patient_id, action="submit")
    assert [(a.actor, a.entity_type) for a in audit] == [(f"patient:{patient['reference']}", "questionnaire")]
    case = signed_in(Role.NURSE).get(f"/api/cases/{patient['case_id']}").json()
    holds = case["assessment"]["preparation"]["medication_holds"]
    assert [h["drug"] for h in holds] == ["warfarin"]
    assert facts["pain"] == {"nrs": 8, "trend": "stable", "concordant_with_fracture": None}
    assert facts["conservative_care"]["weeks"] == 4.0
    assert facts["conservative_care"]["non_ambulatory_despite_analgesia"] is True
    assert [m["name"] for m in facts["medications"]] == ["warfarin"]
    assert facts["allergies"] == ["contrast dye (x-ray contrast)"]
    assert facts["fractures"][0]["onset_weeks"] == 4.0


def test_intake_cannot_be_sent_with_unanswered_required_questions(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    patient = new_patient(client)
    response = _intake(client, patient["case_id"], pain_now="6", send="1")
    assert response.status_code == 422  # type: ignore[attr-defined]
    for field in ("pain_course", "blood_thinners_none", "allergy_cement", "allergy_contrast", "allergy_latex"):
        assert f'id="{field}-error"' in response.text  # type: ignore[attr-defined]


def test_staff_chart_shows_what_the_patient_told_the_portal(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    _intake(
        client,
        patient["case_id"],
        pain_now="8",
        pain_course="stable",
        blood_thinners_none="none",
        allergy_cement="not_sure",
        allergy_contrast="no",
        allergy_latex="no",
        illnesses=["cancer"],
        sedation_wish="yes",
        send="1",
    )
    nurse = signed_in(Role.NURSE)
    case = nurse.get(f"/api/cases/{patient['case_id']}").json()
    chart = nurse.get(f"/patients/{case['patient_id']}").text
    assert "From the patient portal" in chart
    assert "referred by Dr Grey, Elm Street Practice" in chart
    assert "Lower back" in chart
    assert "Yes, I would like medicine to help me relax" in chart
    assert "Unsure about cement allergy" in chart
    assert "Cancer, now or in the past" in chart


def test_an_idle_patient_session_ends_after_an_hour(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import update

    from vertebro.store.base import utc_now
    from vertebro.store.models import PatientSession

    client = portal_factory()
    patient = new_patient(client)
    assert client.get("/portal/me").status_code == 200
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(update(PatientSession).values(last_seen_at=utc_now() - dt.timedelta(minutes=50)))
        uow.commit()
    assert client.get("/portal/me").status_code == 200  # a slow questionnaire is not cut off
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(update(PatientSession).values(last_seen_at=utc_now() - dt.timedelta(minutes=61)))
        uow.commit()
    response = client.get("/portal/me")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login"
    with UnitOfWork(session_factory) as uow:
        timeouts = uow.audit.entries(action="logout_timeout", actor=f"patient:{patient['reference']}")
    assert len(timeouts) == 1


def test_dates_are_explained_in_plain_words(portal_factory: Callable[..., TestClient]) -> None:
    """The hint names no order of day and month (the browser's control shows the patient's own); a date typed
    without the control is read day first, as the hint's "day, month and year" says; an impossible one is named."""
    from vertebro.intake.answers import DATE_HINT, DATE_PROBLEM

    response = portal_factory().post("/portal/request", data=request_form(birth_date="31/02/1948"))
    assert response.status_code == 422
    assert f"Date of birth: {DATE_PROBLEM}" in response.text
    assert 'value="31/02/1948"' in response.text
    assert DATE_HINT in response.text
    assert "year-month-day" not in response.text
    accepted = portal_factory().post("/portal/request", data=request_form(birth_date="14/03/1948"))
    assert accepted.status_code == 200, accepted.text
