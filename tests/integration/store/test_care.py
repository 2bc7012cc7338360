"""The procedure record, monitoring and discharge services (SQLite and PostgreSQL): signing refuses with every
reason, a case never reaches monitoring unsigned, drafts keep their values, a changed date moves the aftercare,
observations are typed and scored, discharge waits for the plan or a radiologist's written override."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.news2 import Consciousness
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.errors import InvalidInput
from vertebro.pathway.machine import Action, Role
from vertebro.pathway.monitoring import NeuroCheck, ObservationSet
from vertebro.store import workflow as svc
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment
from vertebro.store.workflow.base import facts_of

RADIOLOGIST = svc.Actor("dr.rad", Role.RADIOLOGIST, "pytest")
NURSE = svc.Actor("n.nurse", Role.NURSE, "pytest")
NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
DOSE = svc.RadiationDose(fluoroscopy_minutes=3.5, dap_gy_cm2=12.0)
CRITERIA = {name: True for name in svc.DISCHARGE_CRITERIA}
CALM = ObservationSet(
    systolic=128,
    diastolic=78,
    heart_rate=72,
    respiration_rate=16,
    spo2=97,
    on_oxygen=False,
    temperature_c=36.8,
    consciousness=Consciousness.ALERT,
    pain_nrs=3,
    neuro=NeuroCheck.UNCHANGED,
)


def level(code: str = "L1", **changes: Any) -> svc.LevelRecord:
    values: dict[str, Any] = {
        "level": code,
        "approach": "bipedicular",
        "guidance": "fluoroscopy",
        "contrast": True,
        "cement_product": "Reference PMMA",
        "cement_volume_ml": 4.0,
        "leakage": "none",
        "leakage_symptomatic": False,
    }
    return svc.LevelRecord(**{**values, **changes})


def in_procedure(session_factory: sessionmaker[Session], identifier: str, booked_on: dt.date) -> int:
    """Store an assessed case booked for ``booked_on`` and put it in the room (the state a booking leads to)."""
    data = case_data({"patient": {"identifier": identifier, "name": f"Patient {identifier}"}})
    data["procedure_date"] = booked_on.isoformat()
    data["sedation_planned"] = False
    case = Case.model_validate_json(json.dumps(data))
    assessment = assess(case)
    with UnitOfWork(session_factory) as uow:
        recorded = record_assessment(uow, case, assessment, assessment_json(assessment), actor="test", source="test")
        workflow = svc.load_workflow(uow, recorded.case_id, for_update=True)
        workflow.state = "in_procedure"
        uow.commit()
    return recorded.case_id


def sign(uow: UnitOfWork, case_id: int, **changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "levels": [level()],
        "sedation": False,
        "started_at": NOW - dt.timedelta(hours=4),
        "ended_at": NOW - dt.timedelta(hours=3, minutes=20),
        "complications": [],
        "notes": None,
        "sign": True,
        "actor": RADIOLOGIST,
        "policy": DEFAULT_POLICY,
        "expected_version": None,
        "dose": DOSE,
        "date_change_reason": None,
    }
    return svc.record_procedure(uow, case_id, **{**arguments, **changes})


def today_local() -> dt.date:
    """The day the test's procedure started, in the clinic's zone (never the server's)."""
    return (NOW - dt.timedelta(hours=4)).astimezone(ZoneInfo(DEFAULT_POLICY.time_zone)).date()


def test_signing_refuses_with_every_reason_and_the_case_stays_in_the_room(
    session_factory: sessionmaker[Session],
) -> None:
    case_id = in_procedure(session_factory, "CARE-1", today_local())
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput) as refused:
        sign(
            uow,
            case_id,
            levels=[level(cement_product=None, cement_volume_ml=None), level("L2", guidance="ct")],
            started_at=None,
            ended_at=None,
            dose=svc.RadiationDose(),
        )
    message = refused.value.message
    for reason in (
        "record the start time",
        "record the end time",
        "L1: record the cement product",
        "L1: record the cement volume",
        "record the fluoroscopy time",
        "dose-area product",
        "CTDIvol",
    ):
        assert reason in message
    with UnitOfWork(session_factory) as uow:
        assert uow.workflows.get(case_id).state == "in_procedure"  # type: ignore[union-attr]
        assert uow.records.procedure(case_id) is None


def test_the_sign_action_alone_never_reaches_monitoring(session_factory: sessionmaker[Session]) -> None:
    case_id = in_procedure(session_factory, "CARE-2", today_local())
    with UnitOfWork(session_factory) as uow:
        sign(uow, case_id, sign=False)  # a draft
        uow.commit()
    with UnitOfWork(session_factory) as uow, pytest.raises(svc.TransitionRefused, match="not signed"):
        svc.take_action(uow, case_id, Action.SIGN_PROCEDURE, RADIOLOGIST, DEFAULT_POLICY, expected_version=None)
    with UnitOfWork(session_factory) as uow:
        assert uow.workflows.get(case_id).state == "in_procedure"  # type: ignore[union-attr]


def test_a_draft_saves_mid_procedure_and_re_saves_with_its_values(session_factory: sessionmaker[Session]) -> None:
    case_id = in_procedure(session_factory, "CARE-3", today_local())
    with UnitOfWork(session_factory) as uow:
        sign(
            uow,
            case_id,
            sign=False,
            started_at=None,
            ended_at=None,
            levels=[level(cement_product=None, cement_volume_ml=None)],
            dose=svc.RadiationDose(),
        )
        uow.commit()
    with UnitOfWork(session_factory) as uow:  # the second save used to break the unique (procedure, level) key
        sign(uow, case_id, sign=False, levels=[level(leaks=("venous", "disc")), level("L2")], ended_at=None)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        record = uow.records.procedure(case_id)
        assert record is not None
        assert record.signed_at is None
        assert record.start_recorded is True
        assert [(lv.level, lv.cement_product, lv.leaks) for lv in record.levels] == [
            ("L1", "Reference PMMA", ["venous", "disc"]),
            ("L2", "Reference PMMA", []),
        ]
        assert record.levels[0].leakage == "venous"
        assert uow.workflows.get(case_id).state == "in_procedure"  # type: ignore[union-attr]


def test_a_changed_date_needs_a_reason_and_moves_the_aftercare_and_the_escort(
    session_factory: sessionmaker[Session],
) -> None:
    booked = today_local() + dt.timedelta(days=10)
    case_id = in_procedure(session_factory, "CARE-4", booked)
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match="differs from the booked date"):
        sign(uow, case_id)
    with UnitOfWork(session_factory) as uow:
        sign(uow, case_id, date_change_reason="a cancellation freed an earlier slot", sedation=True)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        workflow = svc.load_workflow(uow, case_id)
        assert workflow.state == "monitoring"
        facts = facts_of(workflow.case)
        assert facts.procedure_date == today_local()
        assert facts.sedation_planned is True  # sedation was given although not planned: the escort follows
        aftercare = assess(facts).recovery.aftercare
        assert {step.start for step in aftercare} == {today_local()}
        record = uow.records.procedure(case_id)
        assert record is not None
        assert record.date_change_reason == "a cancellation freed an earlier slot"


def test_observations_outside_plausible_ranges_are_refused_naming_each_field(
    session_factory: sessionmaker[Session],
) -> None:
    case_id = in_procedure(session_factory, "CARE-5", today_local())
    with UnitOfWork(session_factory) as uow:
        sign(uow, case_id)
        uow.commit()
    wrong = ObservationSet(**_fields(CALM, spo2=186, heart_rate=5))
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput) as refused:
        svc.record_observation(uow, case_id, observation=wrong, actor=NURSE)
    assert "SpO2 (%) 186" in refused.value.message
    assert "heart rate (per minute) 5" in refused.value.message
    assert refused.value.field == "heart_rate"


def _fields(observation: ObservationSet, **changes: Any) -> dict[str, Any]:
    names = ObservationSet.__dataclass_fields__
    return {**{name: getattr(observation, name) for name in names}, **changes}


def test_discharge_waits_for_the_plan_the_scores_and_the_neuro_check_unless_overridden(
    session_factory: sessionmaker[Session],
) -> None:
    case_id = in_procedure(session_factory, "CARE-6", (NOW - dt.timedelta(minutes=50)).astimezone().date())
    with UnitOfWork(session_factory) as uow:  # one level, no sedation: 120 minutes from the end
        sign(uow, case_id, started_at=NOW - dt.timedelta(minutes=50), ended_at=NOW - dt.timedelta(minutes=1))
        uow.commit()
    alarming = ObservationSet(
        **_fields(CALM, systolic=182, diastolic=95, heart_rate=118, spo2=86, pain_nrs=9, neuro=NeuroCheck.CHANGED)
    )
    with UnitOfWork(session_factory) as uow:
        stored = svc.record_observation(uow, case_id, observation=alarming, actor=NURSE)
        assert (stored.value["news2"], stored.value["news2_risk"], stored.value["neuro"]) == (5, "medium", "changed")
        uow.commit()
    with UnitOfWork(session_factory) as uow, pytest.raises(svc.TransitionRefused) as refused:
        svc.discharge(
            uow,
            case_id,
            criteria=CRITERIA,
            aldrete=None,
            driver_name=None,
            companion_name=None,
            actor=NURSE,
            policy=DEFAULT_POLICY,
            expected_version=None,
        )
    reasons = " | ".join(refused.value.verdict.refusals)
    assert "the plan is 120 minutes" in reasons
    assert "NEWS2 is 5 (medium risk)" in reasons
    assert "neurological check was recorded as changed" in reasons
    with UnitOfWork(session_factory) as uow, pytest.raises(InvalidInput, match="only a radiologist"):
        svc.discharge(
            uow,
            case_id,
            criteria=CRITERIA,
            aldrete=None,
            driver_name=None,
            companion_name=None,
            actor=NURSE,
            policy=DEFAULT_POLICY,
            expected_version=None,
            override_reason="the nurse would like the bed",
        )
    with UnitOfWork(session_factory) as uow:
        record = svc.discharge(
            uow,
            case_id,
            criteria=CRITERIA,
            aldrete=None,
            driver_name=None,
            companion_name=None,
            actor=RADIOLOGIST,
            policy=DEFAULT_POLICY,
            expected_version=None,
            override_reason="reviewed: transfer to the spinal unit by ambulance now",
        )
        uow.commit()
        assert record.override_by == "dr.rad"
        assert record.overridden is not None
        assert len(record.overridden) == 3
    with UnitOfWork(session_factory) as uow:
        workflow = svc.load_workflow(uow, case_id)
        assert workflow.state == "discharged"
        entries = uow.audit.entries(patient_id=workflow.case.patient_id)
        overrides = [e for e in entries if e.action == "override"]
        assert len(overrides) == 1
        assert overrides[0].detail["reason"] == "reviewed: transfer to the spinal unit by ambulance now"


def test_discharge_after_the_planned_time_with_calm_observations(session_factory: sessionmaker[Session]) -> None:
    case_id = in_procedure(session_factory, "CARE-7", today_local())
    with UnitOfWork(session_factory) as uow:
        sign(uow, case_id)  # ended 3 h 20 min ago; the plan is 120 minutes
        svc.record_observation(uow, case_id, observation=CALM, actor=NURSE)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        record = svc.discharge(
            uow,
            case_id,
            criteria=CRITERIA,
            aldrete=None,
            driver_name=None,
            companion_name=None,
            actor=NURSE,
            policy=DEFAULT_POLICY,
            expected_version=None,
        )
        uow.commit()
        assert record.override_reason is None
