"""One patient from referral to the 2-week follow-up through the JSON API, each step by the right role,
plus the refusals: wrong role, incomplete checklist, double booking, conflicting edit, missing If-Match."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST
CHECKLIST = {
    "medications_reviewed": True,
    "holds_explained": True,
    "allergies_reviewed": True,
    "fasting_explained": True,
    "driver_name": "Sam Driver",
    "companion_name": "Kim Companion",
    "arrival_time_told": True,
}


def etag(client: TestClient, case_id: int) -> str:
    response = client.get(f"/api/cases/{case_id}")
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def act(client: TestClient, case_id: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.request(
        method, f"/api/cases/{case_id}{path}", json=body or {}, headers={"If-Match": etag(client, case_id)}
    )
    return response


def next_slot_start(client: TestClient) -> str:
    monday = dt.date.today() + dt.timedelta(days=14)
    while monday.weekday() != 0:
        monday += dt.timedelta(days=1)
    return dt.datetime.combine(monday, dt.time(9, 0)).astimezone().isoformat()


def test_referral_to_two_week_follow_up(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = stored_case(
        "FLOW-1",
        sedation_planned=True,
        medications=[{"name": "warfarin", "purpose": "therapeutic", "thrombotic_risk": "low"}],
    )
    coordinator, nurse, radiologist = signed_in(C), signed_in(N), signed_in(R)

    assert act(coordinator, case_id, "POST", "/actions/start_screening").json()["state"] == "screening"
    accepted = act(radiologist, case_id, "POST", "/actions/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "eligible"

    refused = act(coordinator, case_id, "POST", "/actions/complete_preparation")
    assert refused.status_code == 409
    assert "checklist" in refused.json()["detail"]

    assert act(nurse, case_id, "PUT", "/checklist", CHECKLIST).status_code == 200
    assert act(coordinator, case_id, "POST", "/actions/complete_preparation").json()["state"] == "prepared"

    starts_at = next_slot_start(coordinator)
    no_insurance = act(coordinator, case_id, "POST", "/booking", {"room": "Room 1", "starts_at": starts_at})
    assert no_insurance.status_code == 409
    assert "insurance" in no_insurance.json()["detail"]
    assert (
        act(coordinator, case_id, "PUT", "/insurance", {"payer": "Medicare", "status": "approved"}).status_code == 200
    )
    booked = act(coordinator, case_id, "POST", "/booking", {"room": "Room 1", "starts_at": starts_at})
    assert booked.status_code == 200, booked.text
    case = booked.json()
    assert case["state"] == "scheduled"
    warfarin = next(h for h in case["assessment"]["preparation"]["medication_holds"] if h["drug"] == "warfarin")
    procedure_day = dt.date.fromisoformat(starts_at[:10])
    assert warfarin["stop"] == (procedure_day - dt.timedelta(days=6)).isoformat()

    assert act(nurse, case_id, "POST", "/actions/start_procedure").json()["state"] == "in_procedure"
    # Done earlier than booked and long enough ago that the planned monitoring (180 min after sedation) is over.
    started = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=5)
    level = {
        "level": "L1",
        "approach": "bipedicular",
        "guidance": "fluoroscopy",
        "contrast": True,
        "cement_product": "Reference PMMA",
        "cement_volume_ml": 4.5,
        "leakage": "disc",
        "leakage_symptomatic": False,
    }
    procedure = {
        "levels": [level],
        "sedation": True,
        "started_at": started.isoformat(),
        "ended_at": (started + dt.timedelta(minutes=50)).isoformat(),
        "dose": {"fluoroscopy_minutes": 4.2, "dap_gy_cm2": 18.5},
        "date_change_reason": "an earlier slot became free and the patient agreed",
        "sign": True,
    }
    signed = act(radiologist, case_id, "POST", "/procedure", procedure)
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "monitoring"

    report = radiologist.get(f"/patients/{signed.json()['patient_id']}/documents/procedure-report")
    assert report.status_code == 200, report.text[:300]
    assert report.headers["content-type"] == "application/pdf"
    text_of_report = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.content)).pages)
    assert "Reference PMMA" in text_of_report
    assert "L1" in text_of_report

    vitals = {
        "systolic": 130,
        "diastolic": 80,
        "heart_rate": 72,
        "respiration_rate": 16,
        "spo2": 97,
        "on_oxygen": False,
        "temperature_c": 36.8,
        "consciousness": "alert",
        "pain_nrs": 3,
        "neuro": "unchanged",
    }
    assert nurse.post(f"/api/cases/{case_id}/observations", json=vitals).status_code == 200
    criteria = {
        "neuro_baseline": True,
        "walking": True,
        "pain_not_above_baseline": True,
        "tolerating_oral_intake": True,
    }
    no_escort = act(nurse, case_id, "POST", "/discharge", {**criteria, "aldrete": 10})
    assert no_escort.status_code == 409
    assert "driver" in no_escort.json()["detail"]
    assert "companion" in no_escort.json()["detail"]
    discharged = act(
        nurse, case_id, "POST", "/discharge", {**criteria, "aldrete": 10, "driver_name": "Sam", "companion_name": "Kim"}
    )
    assert discharged.status_code == 200, discharged.text
    assert discharged.json()["state"] == "discharged"

    assert act(nurse, case_id, "POST", "/actions/start_follow_up").json()["state"] == "follow_up"
    done = nurse.post(f"/api/cases/{case_id}/follow-ups/2w", json={"nrs": 3, "odi_percent": 30.0, "rdq": 9})
    assert done.status_code == 200, done.text

    with UnitOfWork(session_factory) as uow:
        patient_id = uow.workflows.get(case_id).case.patient_id  # type: ignore[union-attr]
        entries = uow.audit.entries(patient_id=patient_id)
    transitions = [(e.detail.get("from"), e.detail.get("to")) for e in entries if e.action == "transition"]
    assert transitions == [
        ("requested", "screening"),
        ("screening", "eligible"),
        ("eligible", "prepared"),
        ("scheduled", "in_procedure"),
        ("in_procedure", "monitoring"),
        ("monitoring", "discharged"),
        ("discharged", "follow_up"),
    ]
    actors = {e.actor for e in entries if e.action in ("transition", "book", "decide")}
    assert actors == {"t.coordinator", "t.nurse", "t.radiologist"}
    assert sum(e.action == "read" for e in entries) >= 10


def test_wrong_role_is_refused_with_the_reason(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("FLOW-2")
    coordinator = signed_in(C)
    act(coordinator, case_id, "POST", "/actions/start_screening")
    refused = act(coordinator, case_id, "POST", "/actions/accept")
    assert refused.status_code == 409
    assert "coordinator role cannot accept" in refused.json()["detail"]


def test_deciding_against_the_recommendation_needs_a_written_reason(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = stored_case("FLOW-3")
    act(signed_in(C), case_id, "POST", "/actions/start_screening")
    radiologist = signed_in(R)
    refused = act(radiologist, case_id, "POST", "/actions/decline")
    assert refused.status_code == 409
    assert "written reason" in refused.json()["detail"]
    declined = act(radiologist, case_id, "POST", "/actions/decline", {"reason": "Patient prefers to wait four weeks."})
    assert declined.json()["state"] == "declined"
    with UnitOfWork(session_factory) as uow:
        decision = next(e for e in uow.audit.entries(action="decide"))
        assert decision.detail["against_recommendation"] is True


def _prepared_case(signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], identifier: str) -> int:
    case_id = stored_case(identifier, sedation_planned=False)
    coordinator = signed_in(C)
    act(coordinator, case_id, "POST", "/actions/start_screening")
    act(signed_in(R), case_id, "POST", "/actions/accept")
    act(coordinator, case_id, "PUT", "/checklist", {**CHECKLIST, "fasting_explained": False})
    act(coordinator, case_id, "PUT", "/insurance", {"status": "self_pay"})
    prepared = act(coordinator, case_id, "POST", "/actions/complete_preparation")
    assert prepared.json()["state"] == "prepared", prepared.text
    return case_id


def test_a_slot_can_never_be_double_booked(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    first = _prepared_case(signed_in, stored_case, "BOOK-1")
    second = _prepared_case(signed_in, stored_case, "BOOK-2")
    coordinator = signed_in(C)
    starts_at = next_slot_start(coordinator)
    assert act(coordinator, first, "POST", "/booking", {"room": "Room 2", "starts_at": starts_at}).status_code == 200
    clash = act(coordinator, second, "POST", "/booking", {"room": "Room 2", "starts_at": starts_at})
    assert clash.status_code == 409
    assert "just booked" in clash.json()["detail"]
    with UnitOfWork(session_factory) as uow:
        duplicates = uow.session.execute(
            text("SELECT slot_id, count(*) FROM slot_reservations GROUP BY slot_id HAVING count(*) > 1")
        ).all()
        assert duplicates == []


def test_the_database_itself_refuses_a_second_reservation(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy.exc import IntegrityError

    with UnitOfWork(session_factory) as uow:
        uow.session.execute(
            text(
                "INSERT INTO slots (id, room, starts_at, ends_at) VALUES (990001, 'X', '2030-01-01 08:00:00+00', '2030-01-01 08:30:00+00')"
            )
        )
        uow.session.execute(
            text(
                "INSERT INTO patients (id, identifier, sex, created_at, version) VALUES (990001, 'DB-1', 'female', '2030-01-01 00:00:00+00', 1)"
            )
        )
        for case_id in (990001, 990002):  # one active booking per case (decision 0019): two cases
            uow.session.execute(
                text(
                    "INSERT INTO cases (id, patient_id, facts, created_at, version) "
                    f"VALUES ({case_id}, 990001, '{{}}', '2030-01-01 00:00:00+00', 1)"
                )
            )
        for booking_id in (990001, 990002):
            uow.session.execute(
                text(
                    "INSERT INTO bookings (id, case_id, room, starts_at, ends_at, status, booked_by, created_at) "
                    f"VALUES ({booking_id}, {booking_id}, 'X', '2030-01-01 08:00:00+00', '2030-01-01 08:30:00+00', 'booked', 't', '2030-01-01 00:00:00+00')"
                )
            )
        uow.session.execute(text("INSERT INTO slot_reservations (slot_id, booking_id) VALUES (990001, 990001)"))
        try:
            uow.session.execute(text("INSERT INTO slot_reservations (slot_id, booking_id) VALUES (990001, 990002)"))
        except IntegrityError:
            return
    raise AssertionError("the database accepted two reservations of one slot")


def test_conflicting_edits_get_412_and_a_missing_if_match_428(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("EDIT-1")
    coordinator, nurse = signed_in(C), signed_in(N)
    stale = etag(coordinator, case_id)
    ok = nurse.put(
        f"/api/cases/{case_id}/insurance", json={"status": "pending"}, headers={"If-Match": etag(nurse, case_id)}
    )
    assert ok.status_code == 200
    conflict = coordinator.put(
        f"/api/cases/{case_id}/insurance", json={"status": "approved"}, headers={"If-Match": stale}
    )
    assert conflict.status_code == 412
    assert "changed by someone else" in conflict.json()["detail"]
    assert coordinator.get(f"/api/cases/{case_id}").json()["insurance_status"] == "pending"
    missing = coordinator.put(f"/api/cases/{case_id}/insurance", json={"status": "approved"})
    assert missing.status_code == 428


def test_strict_api_input_false_is_not_a_pain_score(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("STRICT-1")
    radiologist = signed_in(R)
    before = radiologist.get(f"/api/cases/{case_id}").json()["assessment"]["outcome_targets"]["nrs_baseline"]
    bad = act(radiologist, case_id, "PATCH", "/facts", {"pain": {"nrs": False}})
    assert bad.status_code == 422
    assert "pain.nrs" in bad.json()["detail"]
    after = radiologist.get(f"/api/cases/{case_id}").json()["assessment"]["outcome_targets"]["nrs_baseline"]
    assert after == before
    vitals = {
        "systolic": "130",
        "diastolic": 80,
        "heart_rate": 72,
        "respiration_rate": 16,
        "spo2": 97,
        "on_oxygen": False,
        "temperature_c": 36.8,
        "consciousness": "alert",
        "pain_nrs": 3,
        "neuro": "unchanged",
    }
    assert signed_in(N).post(f"/api/cases/{case_id}/observations", json=vitals).status_code in (409, 422)
