"""A portal patient's whole path on SQLite and PostgreSQL: staff (JSON API) assess and book the request, the
patient sees the plan with the dates of their own medicines, then answers the 2-week questionnaire into the
follow-up record staff use and sees it on the progress page. Reminders are queued once, whatever the runs."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import csrf_of, new_patient
from tests.integration.web.test_workflow import CHECKLIST, act, next_slot_start
from vertebro.clinical import ClinicPolicy
from vertebro.education.dates import long_date
from vertebro.messaging.outbox import DemoOutbox, deliver_pending
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import FollowUp
from vertebro.store.portal.reminders import queue_due_reminders

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST


def _send_intake(client: TestClient, case_id: int) -> None:
    token = csrf_of(client.get(f"/portal/cases/{case_id}/intake").text)
    response = client.post(
        f"/portal/cases/{case_id}/intake",
        data={
            "csrf_token": token,
            "pain_now": "8",
            "pain_course": "stable",
            "tried": ["painkillers"],
            "tried_weeks": "5",
            "blood_thinners_none": "some",
            "blood_thinners": ["warfarin"],
            "allergy_cement": "no",
            "allergy_contrast": "no",
            "allergy_latex": "no",
            "pregnant": "not_applicable",
            "odi-1": "3",
            "odi-2": "3",
            "odi-3": "2",
            "odi-4": "3",
            "odi-5": "2",
            "odi-6": "3",
            "odi-7": "2",
            "odi-8": "3",
            "odi-9": "2",
            "odi-10": "2",
            "send": "1",
        },
    )
    assert response.status_code == 303, response.text


def _staff_books(signed_in: Callable[[Role], TestClient], case_id: int) -> dt.date:
    coordinator, nurse, radiologist = signed_in(C), signed_in(N), signed_in(R)
    assert act(coordinator, case_id, "POST", "/actions/start_screening").status_code == 200
    labs = {"inr": 1.0, "platelets": 240.0, "taken_on": dt.date.today().isoformat()}
    fracture = {"level": "L1", "cause": "osteoporotic", "mri_edema": True, "imaging_date": dt.date.today().isoformat()}
    # The safety facts the portal cannot settle are recorded by staff (an unticked illness is not a "no")
    safety = {
        "patient": {"hospitalized": False},
        "red_flags": {"fever": False, "active_infection": False, "cancer_history": False},
        "neurological_deficit": False,
        "coagulopathy_uncorrectable": False,
        "allergies": [],
    }
    facts = {"fractures": [fracture], "sedation_planned": False, "labs": labs, **safety}
    assert act(radiologist, case_id, "PATCH", "/facts", facts).status_code == 200
    # warfarin from the portal: a clinician records the thrombotic risk before the hold can be dated
    risk = {"medication": "0", "drug": "warfarin", "thrombotic_risk": "low"}
    assert nurse.post(f"/cases/{case_id}/medications/decision", data=risk).status_code == 303
    accepted = act(radiologist, case_id, "POST", "/actions/accept", {"reason": "Acute L1 fracture on MRI, MDT agreed"})
    assert accepted.status_code == 200, accepted.text
    assert act(nurse, case_id, "PUT", "/checklist", CHECKLIST).status_code == 200
    prepared = act(coordinator, case_id, "POST", "/actions/complete_preparation")
    assert prepared.status_code == 200, prepared.text
    assert act(coordinator, case_id, "PUT", "/insurance", {"status": "self_pay"}).status_code == 200
    starts_at = next_slot_start(coordinator)
    booked = act(coordinator, case_id, "POST", "/booking", {"room": "Room 1", "starts_at": starts_at})
    assert booked.status_code == 200, booked.text
    return dt.date.fromisoformat(starts_at[:10])


def _staff_treat_and_discharge(signed_in: Callable[[Role], TestClient], case_id: int) -> None:
    nurse, radiologist = signed_in(N), signed_in(R)
    assert act(nurse, case_id, "POST", "/actions/start_procedure").status_code == 200
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    level = {
        "level": "L1",
        "approach": "bipedicular",
        "guidance": "fluoroscopy",
        "contrast": True,
        "cement_product": "Reference PMMA",
        "cement_volume_ml": 4.0,
        "leakage": "none",
        "leakage_symptomatic": False,
    }
    procedure = {
        "levels": [level],
        "sedation": False,
        "started_at": started.isoformat(),
        "ended_at": (started + dt.timedelta(minutes=45)).isoformat(),
        "dose": {"fluoroscopy_minutes": 3.0, "air_kerma_mgy": 95.0},
        "date_change_reason": "done on the day of the portal test, before the booked slot",
        "sign": True,
    }
    signed = act(radiologist, case_id, "POST", "/procedure", procedure)
    assert signed.status_code == 200, signed.text
    criteria = {
        "neuro_baseline": True,
        "walking": True,
        "pain_not_above_baseline": True,
        "tolerating_oral_intake": True,
    }
    # The planned monitoring has not passed: the nurse is refused, the radiologist overrides with a reason.
    early = act(nurse, case_id, "POST", "/discharge", criteria)
    assert early.status_code == 409
    assert "monitoring" in early.json()["detail"]
    override = {**criteria, "override_reason": "observed at the bedside for the whole time; transport leaves now"}
    assert act(radiologist, case_id, "POST", "/discharge", override).status_code == 200
    assert act(nurse, case_id, "POST", "/actions/start_follow_up").status_code == 200


def test_portal_patient_from_request_to_the_two_week_questionnaire(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    case_id = patient["case_id"]
    _send_intake(client, case_id)
    assert "not ready" not in client.get("/portal/me").text
    waiting = client.get(f"/portal/cases/{case_id}/plan")
    assert "appears here once your procedure has a date" in waiting.text

    procedure_day = _staff_books(signed_in, case_id)
    me = client.get("/portal/me").text
    assert "15 minutes early" in me
    arrival = re.search(r"Please arrive by <strong>([^<]+)</strong>", me)
    assert arrival, me
    assert re.match(r"8:45 am (GMT|BST) on ", arrival.group(1))  # one format everywhere, the zone named
    plan = client.get(f"/portal/cases/{case_id}/plan").text
    last_dose = procedure_day - dt.timedelta(days=6)  # ASRA 2018: warfarin stopped 5 days before (test_workflow)
    assert re.search(rf"Warfarin</strong>:\s*take your last dose on <strong>{long_date(last_dose)}</strong>", plan), (
        plan
    )
    pdf = client.get(f"/portal/cases/{case_id}/documents/preparation.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "warfarin" in text.lower()
    assert patient["reference"] in text

    two_days_before = dt.datetime.combine(procedure_day, dt.time(9, 0)).astimezone() - dt.timedelta(days=2)
    with UnitOfWork(session_factory) as uow:
        runs = [
            queue_due_reminders(uow, today=two_days_before.date(), policy=ClinicPolicy(), now=two_days_before)
            for _ in range(2)
        ]
        uow.commit()
        account = uow.portal.account_by_login(patient["reference"])
        assert account is not None
        reminder = next(m for m in uow.portal.messages_of_patient(account.patient_id) if m.kind == "appointment")
    assert [r.appointments for r in runs] == [1, 0]
    assert re.search(r"Please arrive by 8:45 am (GMT|BST) on ", reminder.body)
    assert "(15 minutes early)" in reminder.body
    assert "does not replace advice from your own doctor" in reminder.body

    _staff_treat_and_discharge(signed_in, case_id)
    done = client.get(f"/portal/cases/{case_id}/plan").text  # the signed record, not the recommendation
    assert "Your vertebroplasty was done on" in done
    assert "Bone treated: L1" in done
    closed = client.get(f"/portal/cases/{case_id}/follow-ups/2w")
    assert "This questionnaire opens on" in closed.text
    with UnitOfWork(session_factory) as uow:  # two weeks pass
        uow.session.execute(
            update(FollowUp).where(FollowUp.case_id == case_id, FollowUp.visit == "2w").values(due_from=dt.date.today())
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        first = queue_due_reminders(uow, today=dt.date.today(), policy=ClinicPolicy())
        second = queue_due_reminders(uow, today=dt.date.today(), policy=ClinicPolicy())
        delivered = deliver_pending(uow, DemoOutbox())
        uow.commit()
        messages = uow.portal.messages_of_patient(uow.portal.account_by_login(patient["reference"]).patient_id)  # type: ignore[union-attr]
    assert first.follow_ups == 1
    assert second.follow_ups == 0
    assert second.already_queued >= 1
    assert delivered.sent >= 1
    assert [m.kind for m in messages].count("follow_up_due") == 1
    assert "2 weeks questionnaire" in next(m.subject for m in messages if m.kind == "follow_up_due")

    assert "Answer your 2-week questionnaire" in client.get("/portal/me").text
    token = csrf_of(client.get(f"/portal/cases/{case_id}/follow-ups/2w").text)
    odi = {f"odi-{i}": "1" for i in range(1, 11)}
    sent = client.post(
        f"/portal/cases/{case_id}/follow-ups/2w", data={"csrf_token": token, "pain_now": "3", **odi, "send": "1"}
    )
    assert sent.status_code == 303, sent.text
    progress = client.get(sent.headers["location"]).text
    assert "Pain (0 to 10), lower is better. Before: 8; After 2 weeks: 3." in progress
    assert "<svg" in progress
    assert "<table>" in progress
    with UnitOfWork(session_factory) as uow:
        follow_up = uow.records.follow_up(case_id, "2w")
        assert follow_up is not None
        assert (follow_up.nrs, follow_up.odi_percent, follow_up.recorded_by) == (
            3,
            20.0,
            f"patient:{patient['reference']}",
        )
    chart = signed_in(N).get(f"/api/cases/{case_id}").json()
    assert chart["state"] == "follow_up"


def test_the_chart_gives_the_portal_patients_contact_without_empty_parts(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    nurse = signed_in(Role.NURSE)
    for changes, shown in (
        ({"email": "ruth@example.org", "phone": ""}, "contact ruth@example.org."),
        ({"email": "", "phone": "01632 960 123"}, "contact 01632 960 123."),
        ({"email": "both@example.org", "phone": "01632 960 124"}, "contact both@example.org, 01632 960 124."),
    ):
        case_id = new_patient(portal_factory(), **changes)["case_id"]
        patient_id = nurse.get(f"/api/cases/{case_id}").json()["patient_id"]
        chart = " ".join(nurse.get(f"/patients/{patient_id}").text.split())
        assert shown in chart, changes
