"""Referral, bookings, aftercare, follow-ups, documents, provenance and audit as FHIR: every resource validates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.unit.fhir.test_case_mapping import DEMO
from tests.unit.fhir.validation import problems
from vertebro.fhir.audit_event import audit_event
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import PatientRecord
from vertebro.intake.case_file import read_case
from vertebro.store.models import (
    AuditEntry,
    Booking,
    Case,
    CaseWorkflow,
    FollowUp,
    Patient,
    ProcedureLevel,
    ProcedureRecord,
)

AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _record(path: Path) -> PatientRecord:
    facts = read_case(path).model_dump(mode="json")
    patient = Patient(id=7, identifier="WF-1", name="Wanda Flow", sex="female", version=1)
    case = Case(id=3, patient_id=7, facts=facts, created_at=AT, version=1, fractures=[])
    level = facts["fractures"][0]["level"]
    procedure = ProcedureRecord(
        id=5, case_id=3, operator="dr.ops", started_at=AT, ended_at=AT, signed_by="dr.ops", signed_at=AT, version=1
    )
    procedure.levels = [
        ProcedureLevel(
            id=1,
            level=level,
            approach="bipedicular",
            guidance="fluoroscopy",
            contrast=False,
            cement_product="PMMA",
            cement_volume_ml=3.5,
            leakage="none",
            leakage_symptomatic=False,
        )
    ]
    record = PatientRecord(patient, cases=[case], procedures=[procedure])
    record.workflows[3] = CaseWorkflow(case_id=3, state="follow_up", decided_by="dr.lead", decided_at=AT)
    record.bookings = [
        Booking(
            id=9,
            case_id=3,
            room="Room 1",
            starts_at=AT,
            ends_at=AT + dt.timedelta(hours=1),
            status="booked",
            created_at=AT,
        ),
        Booking(
            id=8,
            case_id=3,
            room="Room 2",
            starts_at=AT,
            ends_at=AT + dt.timedelta(hours=1),
            status="cancelled",
            created_at=AT,
            cancel_reason="patient unwell",
        ),
    ]
    record.follow_ups = [
        FollowUp(
            id=21,
            case_id=3,
            visit="2w",
            due_from=AT.date(),
            due_until=AT.date(),
            completed_at=AT,
            nrs=3,
            odi_percent=22.0,
            rdq=8,
            recorded_by="n.nurse",
        ),
        FollowUp(id=22, case_id=3, visit="3m", due_from=AT.date(), due_until=AT.date()),
    ]
    return record


def test_every_workflow_resource_validates() -> None:
    resources = record_resources(_record(DEMO[0]))
    kinds = {r["resourceType"] for r in resources}
    assert kinds >= {
        "ServiceRequest",
        "Appointment",
        "CarePlan",
        "QuestionnaireResponse",
        "DocumentReference",
        "Provenance",
    }
    for resource in resources:
        assert problems(resource) == [], (resource["id"], problems(resource))
    ids = [r["id"] for r in resources]
    assert len(ids) == len(set(ids))


def test_follow_up_scores_are_observations_derived_from_the_response() -> None:
    resources = record_resources(_record(DEMO[0]))
    scores = {r["code"]["coding"][0]["code"]: r for r in resources if r.get("derivedFrom")}
    assert set(scores) == {"72514-3", "97909-6", "rdq"}
    assert scores["72514-3"]["valueInteger"] == 3
    assert scores["97909-6"]["valueQuantity"]["value"] == 22.0
    assert all(r["derivedFrom"] == [{"reference": "QuestionnaireResponse/f21"}] for r in scores.values())
    plan = next(r for r in resources if r["resourceType"] == "CarePlan")
    assert plan["status"] == "active"  # the 3-month follow-up is still due
    assert [a["detail"]["status"] for a in plan["activity"]] == ["completed", "scheduled"]
    statuses = {r["id"]: r["status"] for r in resources if r["resourceType"] == "Appointment"}
    assert statuses == {"b9": "fulfilled", "b8": "cancelled"}  # the procedure is signed: the appointment took place
    referral = next(r for r in resources if r["resourceType"] == "ServiceRequest")
    assert referral["status"] == "completed"


def test_an_audit_entry_is_a_valid_audit_event() -> None:
    entry = AuditEntry(
        id=4,
        occurred_at=AT,
        actor="t.nurse",
        action="read",
        entity_type="case",
        entity_id="3",
        patient_id=7,
        detail={},
        source="127.0.0.1",
    )
    resource = audit_event(entry)
    assert problems(resource) == []
    assert resource["action"] == "R"
    entry.action = "booking_cancelled"
    assert audit_event(entry)["action"] == "E"
