"""Staff register a new referral; mistakes come back next to the field with what was typed."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.conftest import csrf
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

GOOD = {
    "identifier": "REF-1",
    "name": "Robin Referral",
    "birth_date": "1949-04-02",
    "phone": "+49 30 1234 5678",
    "email": "",
    "referrer_name": "Dr Ada Grey",
    "referrer_organisation": "Elm Street Practice",
    "referrer_contact": "ada.grey@example.org",
    "sex": "female",
    "levels": "t12, L1",
    "cause": "osteoporotic",
    "onset_weeks": "3",
    "nrs": "8",
    "concordant": "yes",
}


def test_a_referral_creates_an_assessed_case_in_requested(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    response = client.post("/referrals", data={**GOOD, "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 303, response.text[:500]
    chart = client.get(response.headers["location"].split("#")[0])
    assert "Robin Referral" in chart.text
    assert "requested" in chart.text
    assert "T12, L1" in chart.text


def test_a_mistake_is_shown_next_to_the_field_and_nothing_typed_is_lost(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(Role.NURSE)
    bad = {**GOOD, "identifier": "REF-2", "levels": "L6", "csrf_token": csrf(client, "/referrals/new")}
    response = client.post("/referrals", data=bad)
    assert response.status_code == 422
    assert "lumbar spine has 5 vertebrae" in response.text
    assert 'value="Robin Referral"' in response.text
    assert 'value="L6"' in response.text


def test_false_is_not_a_pain_score(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.NURSE)
    response = client.post("/referrals", data={**GOOD, "nrs": "false", "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 422
    assert "not a whole number" in response.text


def test_a_known_identifier_is_refused(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("REF-3")
    client = signed_in(Role.COORDINATOR)
    response = client.post(
        "/referrals", data={**GOOD, "identifier": "REF-3", "csrf_token": csrf(client, "/referrals/new")}
    )
    assert response.status_code == 422
    assert "open the chart instead" in response.text


def test_the_referral_keeps_date_of_birth_referrer_and_contact_audited(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    client = signed_in(Role.COORDINATOR)
    data = {**GOOD, "identifier": "REF-DOB", "email": "Robin@Example.org", "csrf_token": csrf(client, "/referrals/new")}
    response = client.post("/referrals", data=data)
    assert response.status_code == 303, response.text[:1000]
    case_id = int(response.headers["location"].split("#case-")[1])
    chart = client.get(response.headers["location"].split("#")[0]).text
    assert "Referred by <strong>Dr Ada Grey</strong>, Elm Street Practice (ada.grey@example.org)" in chart
    assert "+49 30 1234 5678" in chart
    assert "robin@example.org" in chart
    assert "born 1949-04-02" in chart
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        case = workflow.case
        patient = uow.patients.get(case.patient_id)
        assert patient is not None
        age = _age(dt.date(1949, 4, 2), dt.date.today())
        assert case.facts["patient"]["age"] == age
        assert case.facts["patient"]["birth_date"] == "1949-04-02"
        assert (case.referrer_name, case.referrer_organisation, case.referrer_contact) == (
            "Dr Ada Grey",
            "Elm Street Practice",
            "ada.grey@example.org",
        )
        assert (patient.birth_date, patient.phone, patient.email) == (
            dt.date(1949, 4, 2),
            "+49 30 1234 5678",
            "robin@example.org",
        )
        audit = uow.audit.entries(patient_id=case.patient_id, action="update")
    referral = [a for a in audit if a.entity_type == "referral"]
    assert len(referral) == 1
    assert referral[0].detail["fields"] == [
        "email",
        "phone",
        "referrer_contact",
        "referrer_name",
        "referrer_organisation",
    ]
    assert "ada.grey" not in str(referral[0].detail)  # the audit names the fields, not the contact details


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "birth_date", "in the future"),
        ({"birth_date": "1950-02-30"}, "birth_date", "not a real date"),
        ({"birth_date": "1890-01-01"}, "birth_date", "more than 120 years ago"),
        ({"birth_date": ""}, "birth_date", "this field is required"),
        ({"referrer_name": ""}, "referrer_name", "this field is required"),
        ({"referrer_contact": "ask the ward"}, "referrer_contact", "phone number or e-mail"),
        ({"phone": "", "email": ""}, "phone", "so that the team can reach them"),
        ({"email": "robin at example"}, "email", "not an e-mail address"),
        ({"phone": "call me"}, "phone", "not a phone number"),
    ],
)
def test_a_bad_referral_names_the_field_and_stores_nothing(
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client = signed_in(Role.NURSE)
    data = {**GOOD, "identifier": "REF-BAD", **changes, "csrf_token": csrf(client, "/referrals/new")}
    response = client.post("/referrals", data=data)
    assert response.status_code == 422
    problem = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.text)
    assert problem, response.text[:3000]
    assert message in html.unescape(problem.group(1))
    assert f'href="#{field}"' in response.text  # the error summary links to the field
    assert 'value="Robin Referral"' in response.text
    with UnitOfWork(session_factory) as uow:
        assert uow.patients.get_by_identifier("REF-BAD") is None


def test_every_problem_of_a_referral_comes_at_once(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    data = {**GOOD, "identifier": "", "birth_date": "2999-01-01", "referrer_organisation": "", "phone": "x"}
    response = client.post("/referrals", data={**data, "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 422
    for field in ("identifier", "birth_date", "referrer_organisation", "phone"):
        assert f'id="{field}-error"' in response.text, field
    assert "these 4 answers" in response.text


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
