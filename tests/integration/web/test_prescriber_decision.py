"""Recording the prescriber's decision on the chart: the form, the route, the audit, and the dates that follow."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment

PROCEDURE = dt.date.today() + dt.timedelta(days=30)
STENT = {"name": "clopidogrel", "purpose": "secondary_prevention"}


def store(session_factory: sessionmaker[Session], identifier: str, *medications: dict[str, Any]) -> int:
    data = case_data(
        {
            "patient": {"identifier": identifier, "name": f"Patient {identifier}"},
            "medications": list(medications),
            "procedure_date": PROCEDURE.isoformat(),
            "labs": {"inr": 1.0, "platelets": 220.0},
        }
    )
    case = Case.model_validate_json(json.dumps(data))
    assessment = assess(case)
    with UnitOfWork(session_factory) as uow:
        recorded = record_assessment(uow, case, assessment, assessment_json(assessment), actor="test", source="test")
        uow.commit()
    return recorded.case_id


def holds(client: TestClient, case_id: int) -> list[dict[str, Any]]:
    case = client.get(f"/api/cases/{case_id}").json()
    return list(case["assessment"]["preparation"]["medication_holds"])


def chart_of(client: TestClient, case_id: int) -> tuple[str, int]:
    patient_id = client.get(f"/api/cases/{case_id}").json()["patient_id"]
    page = client.get(f"/patients/{patient_id}")
    assert page.status_code == 200
    return page.text, patient_id


def version_in(page: str, case_id: int) -> str:
    form = page[page.index(f'action="/cases/{case_id}/medications/decision"') :]
    match = re.search(r'name="version" value="(\d+)"', form)
    assert match
    return match.group(1)


@pytest.mark.rule("medications.prescriber_decision_recorded")
@pytest.mark.parametrize("role", [Role.NURSE, Role.RADIOLOGIST])
def test_a_clinician_records_the_decision_and_the_hold_dates_follow(
    role: Role, signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    """ASRA 2018: secondary prophylaxis is held after "shared assessment & risk stratification"; rule statement:
    the plan "shows the date the prescriber agreed and who recorded it"."""
    case_id = store(session_factory, f"RX-{role.value}", STENT)
    client = signed_in(role)
    [before] = holds(client, case_id)
    assert (before["action"], before["stop"]) == ("shared_decision", None)
    page, patient_id = chart_of(client, case_id)
    assert "Decisions with the prescriber" in page
    assert "prescriber&#39;s decision on clopidogrel" in page or "prescriber's decision on clopidogrel" in page

    agreed = dt.date.today() - dt.timedelta(days=1)
    response = client.post(
        f"/cases/{case_id}/medications/decision",
        data={
            "version": version_in(page, case_id),
            "medication": "0",
            "drug": "clopidogrel",
            "decision": "hold",
            "agreed_on": agreed.isoformat(),
            "note": "cardiology agreed by phone",
        },
    )
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"].startswith(f"/patients/{patient_id}")

    [after] = holds(client, case_id)
    assert after["action"] == "hold"
    assert after["stop"] == (PROCEDURE - dt.timedelta(days=8)).isoformat()
    with UnitOfWork(session_factory) as uow:
        stored = uow.workflows.get(case_id)
        assert stored is not None
        decision = stored.case.facts["medications"][0]["prescriber_decision"]
        assert decision["recorded_by"] == f"t.{role.value}"
        assert decision["agreed_on"] == agreed.isoformat()
        updates = [e for e in uow.audit.entries(entity_type="case", action="update") if e.entity_id == str(case_id)]
    assert updates[-1].detail["prescriber_decision"] == "hold"
    assert updates[-1].actor == f"t.{role.value}"
    page, _ = chart_of(client, case_id)
    assert f"hold, agreed {agreed.isoformat()}, recorded by t.{role.value}" in page


def test_the_coordinator_cannot_record_a_prescriber_decision(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    case_id = store(session_factory, "RX-COORD", STENT)
    response = signed_in(Role.COORDINATOR).post(
        f"/cases/{case_id}/medications/decision",
        data={"medication": "0", "drug": "clopidogrel", "decision": "hold", "agreed_on": dt.date.today().isoformat()},
    )
    assert response.status_code == 403


def test_a_decision_agreed_in_the_future_is_refused_on_the_page(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    case_id = store(session_factory, "RX-FUTURE", STENT)
    nurse = signed_in(Role.NURSE)
    page, _ = chart_of(nurse, case_id)
    response = nurse.post(
        f"/cases/{case_id}/medications/decision",
        data={
            "version": version_in(page, case_id),
            "medication": "0",
            "drug": "clopidogrel",
            "decision": "hold",
            "agreed_on": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.text
    [still] = holds(nurse, case_id)
    assert (still["action"], still["stop"]) == ("shared_decision", None)


@pytest.mark.rule("asra.doac")
def test_the_creatinine_clearance_form_dates_a_doac(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    """ASRA 2018 "five half-lives": no DOAC date without the kidney function; once recorded, 3 days."""
    case_id = store(session_factory, "RX-CRCL", {"name": "apixaban"})
    nurse = signed_in(Role.NURSE)
    [before] = holds(nurse, case_id)
    assert before["stop"] is None
    assert before["missing"] == ["creatinine clearance"]
    page, _ = chart_of(nurse, case_id)
    assert f'action="/cases/{case_id}/labs/creatinine-clearance"' in page
    version = version_in(page, case_id)
    response = nurse.post(
        f"/cases/{case_id}/labs/creatinine-clearance", data={"version": version, "creatinine_clearance": "72"}
    )
    assert response.status_code == 303, response.text[:2000]
    [after] = holds(nurse, case_id)
    assert after["stop"] == (PROCEDURE - dt.timedelta(days=4)).isoformat()
