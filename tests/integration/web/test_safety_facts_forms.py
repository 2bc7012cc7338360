"""Unknown is a value, through the staff forms over HTTP (SQLite and PostgreSQL): a safety fact left
"Not recorded" on the referral is listed missing on the chart, holds every profile at uncertain, and the
booking is refused naming it until it is recorded on the chart's safety-facts form."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.conftest import csrf
from tests.integration.web.test_workflow import CHECKLIST, act, next_slot_start
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST

RECORDED = {
    "pregnant": "",  # a 77-year-old woman: no pregnancy status is needed
    "hospitalized": "no",
    "fever": "no",
    "active_infection": "no",
    "cancer_history": "no",
    "neurological_deficit": "no",
    "coagulopathy_uncorrectable": "no",
    "allergy_status": "none",
    "medication_status": "none",
}
REFERRAL = {
    "identifier": "SAFE-1",
    "name": "Sam Safety",
    "birth_date": "1949-04-02",
    "phone": "+49 30 1234 5678",
    "email": "",
    "referrer_name": "Dr Ada Grey",
    "referrer_organisation": "Elm Street Practice",
    "referrer_contact": "ada.grey@example.org",
    "sex": "female",
    "levels": "L1",
    "cause": "osteoporotic",
    "onset_weeks": "3",
    "nrs": "8",
    "concordant": "yes",
}


def _refer(client: TestClient, **changes: str) -> tuple[int, int]:
    data = {**REFERRAL, **RECORDED, **changes, "csrf_token": csrf(client, "/referrals/new")}
    response = client.post("/referrals", data=data)
    assert response.status_code == 303, response.text[:1000]
    location = response.headers["location"]
    match = re.match(r"/patients/(\d+)#case-(\d+)", location)
    assert match, location
    return int(match.group(1)), int(match.group(2))


def _safety_section(html: str, case_id: int) -> str:
    start = html.index(f'id="case-{case_id}-safety"')
    return html[start : html.index("</section>", start)]


def test_a_fact_left_not_recorded_is_listed_missing_and_refuses_booking_until_recorded(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    coordinator, nurse, radiologist = signed_in(C), signed_in(N), signed_in(R)
    patient_id, case_id = _refer(coordinator, fever="")

    chart = coordinator.get(f"/patients/{patient_id}")
    assert chart.status_code == 200
    section = _safety_section(chart.text, case_id)
    assert "fever (yes or no)" in section
    assert "cannot be booked" in section
    case = coordinator.get(f"/api/cases/{case_id}").json()
    assert [g["path"] for g in case["assessment"]["unrecorded"]] == ["red_flags.fever", "fractures.L1.imaging"]
    assert case["assessment"]["recommendation"]["treatment"] == "record_safety_facts"
    for profile in ("acr", "nice-ta279", "medicare-lcd", "nass-auc"):
        assert case["assessment"]["profiles"][profile]["category"] != "appropriate", profile
        assert "fever (yes or no)" in case["assessment"]["profiles"][profile]["missing"], profile

    # The radiologist records the imaging; the case is accepted (with a reason: it is not recommended yet)
    facts = radiologist.post(
        f"/cases/{case_id}/facts",
        data={"level": "L1", "mri_edema": "yes", "csrf_token": csrf(radiologist, f"/patients/{patient_id}")},
    )
    assert facts.status_code == 303, facts.text[:800]
    assert act(coordinator, case_id, "POST", "/actions/start_screening").status_code == 200
    accepted = act(radiologist, case_id, "POST", "/actions/accept", {"reason": "Fever to be checked at the call."})
    assert accepted.status_code == 200, accepted.text
    assert act(nurse, case_id, "PUT", "/checklist", {**CHECKLIST, "fasting_explained": False}).status_code == 200
    assert act(coordinator, case_id, "PUT", "/insurance", {"status": "self_pay"}).status_code == 200
    refused = act(coordinator, case_id, "POST", "/actions/complete_preparation")
    assert refused.status_code == 409
    assert "safety facts not recorded: fever (yes or no)" in refused.json()["detail"]

    # Booking through the chart's form is refused too, naming the fact
    starts_at = dt.datetime.fromisoformat(next_slot_start(coordinator)).strftime("%Y-%m-%dT%H:%M")
    page = coordinator.get(f"/patients/{patient_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    booking = coordinator.post(
        f"/cases/{case_id}/booking",
        data={"room": "Room 1", "starts_at": starts_at, "version": version.group(1), "csrf_token": csrf(coordinator)},
    )
    assert booking.status_code in (409, 422), booking.text[:500]
    assert "fever (yes or no)" in booking.text

    # The nurse records "no fever" on the chart's safety-facts form; nothing is missing any more
    page = nurse.get(f"/patients/{patient_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    saved = nurse.post(
        f"/cases/{case_id}/safety-facts",
        data={
            **RECORDED,
            "fever": "no",
            "version": version.group(1),
            "csrf_token": csrf(nurse, f"/patients/{patient_id}"),
        },
    )
    assert saved.status_code == 303, saved.text[:1500]
    case = coordinator.get(f"/api/cases/{case_id}").json()
    assert case["assessment"]["unrecorded"] == []
    assert not any("safety facts" in m for m in case["checklist_missing"])
    assert "Every safety fact is recorded." in _safety_section(nurse.get(f"/patients/{patient_id}").text, case_id)
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        assert workflow.case.facts["red_flags"]["fever"] is False
        assert workflow.case.facts["medications"] == []
        assert workflow.case.facts["patient"]["hospitalized"] is False


def test_the_referral_form_offers_yes_no_and_not_recorded_never_a_checkbox(
    signed_in: Callable[[Role], TestClient],
) -> None:
    form = signed_in(C).get("/referrals/new").text
    for field in ("hospitalized", "fever", "active_infection", "cancer_history", "neurological_deficit", "pregnant"):
        select = re.search(rf'<select id="ref-{field}" name="{field}"[^>]*>(.*?)</select>', form, re.S)
        assert select, field
        assert "Not recorded" in select.group(1)
        assert 'value="yes"' in select.group(1)
        assert 'value="no"' in select.group(1)
    assert 'type="checkbox" name="hospitalized"' not in form


def test_a_referral_with_nothing_chosen_records_nothing_as_no(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(N)
    blank = dict.fromkeys(RECORDED, "")
    _, case_id = _refer(client, identifier="SAFE-2", **blank)
    case = client.get(f"/api/cases/{case_id}").json()
    paths = {g["path"] for g in case["assessment"]["unrecorded"]}
    assert {
        "patient.hospitalized",
        "red_flags.fever",
        "red_flags.active_infection",
        "red_flags.cancer_history",
        "neurological_deficit",
        "coagulopathy_uncorrectable",
        "allergies",
        "medications",
    } <= paths
    assert "patient.pregnant" not in paths  # 77 years old


def test_lists_are_recorded_as_typed_and_a_contradiction_is_shown_on_the_form(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(C)
    _, case_id = _refer(
        client,
        identifier="SAFE-3",
        allergy_status="listed",
        allergies_add="X-ray dye, latex",
        medication_status="listed",
        medications_add="apixaban",
    )
    case = client.get(f"/api/cases/{case_id}").json()
    items = [i["instruction"] for i in case["assessment"]["preparation"]["items"] if i["kind"] == "allergy"]
    assert any(i.startswith("X-ray dye: contrast premedication") for i in items)
    assert any(i.startswith("latex") for i in items)
    assert [h["drug"] for h in case["assessment"]["preparation"]["medication_holds"]] == ["apixaban"]

    data = {**REFERRAL, **RECORDED, "identifier": "SAFE-4", "allergies_add": "latex"}
    response = client.post("/referrals", data={**data, "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 422
    assert "was chosen but allergies were written" in response.text
    assert 'value="latex"' in response.text
