"""The chart's procedure, observation and discharge forms posted whole over HTTP, as a browser sends them (the
rendered defaults, the CSRF token and version), with valid and invalid input; then the documents' text."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import submit
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role
from vertebro.store import workflow as svc
from vertebro.store.db import UnitOfWork

N, R = Role.NURSE, Role.RADIOLOGIST


def _local(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")


def in_the_room(session_factory: sessionmaker[Session], case_id: int, booked_on: dt.date) -> int:
    """Book the case for ``booked_on`` (no sedation) and start the procedure; return the patient id."""
    with UnitOfWork(session_factory) as uow:
        actor = svc.Actor("test", R, "test")
        svc.update_facts(
            uow,
            case_id,
            {"procedure_date": booked_on.isoformat(), "sedation_planned": False},
            actor,
            DEFAULT_POLICY,
            expected_version=None,
        )
        workflow = svc.load_workflow(uow, case_id, for_update=True)
        workflow.state = "in_procedure"
        patient_id = workflow.case.patient_id
        uow.commit()
    return patient_id


def state_of(session_factory: sessionmaker[Session], case_id: int) -> str:
    with UnitOfWork(session_factory) as uow:
        return svc.load_workflow(uow, case_id).state


def pdf_text(client: TestClient, patient_id: int, kind: str) -> str:
    response = client.get(f"/patients/{patient_id}/documents/{kind}")
    assert response.status_code == 200, response.text[:300]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_procedure_form_drafts_reopen_and_signing_refuses_then_signs(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("FORM-1")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
    patient_id = in_the_room(session_factory, case_id, started.astimezone().date())
    chart, action = f"/patients/{patient_id}", f"/cases/{case_id}/procedure"
    radiologist = signed_in(R)
    radiologist.headers.pop("X-CSRF-Token", None)  # a browser sends the form's own token

    # Mid-procedure: nothing but the product typed; the draft saves.
    draft = submit(radiologist, chart, action, {"L1.cement_product": "Reference PMMA"}, button=("sign", "0"))
    assert draft.status_code == 303, draft.text[:500]
    page = radiologist.get(chart).text
    assert 'value="Reference PMMA"' in page  # the draft re-opens with its saved values
    assert "Draft, not signed" in page

    # Saving the draft again (this gave a 500) keeps it, now with the times and a leak.
    again = submit(
        radiologist,
        chart,
        action,
        {
            "started_at": _local(started),
            "L1.cement_volume_ml": "4.5",
            "L1.leaks": ["venous", "disc"],
            "technique": "kyphoplasty",
        },
        button=("sign", "0"),
    )
    assert again.status_code == 303, again.text[:500]
    page = radiologist.get(chart).text
    assert f'value="{_local(started)}"' in page
    assert re.search(r'value="venous" checked', page)

    # Signing without the end time and the dose is refused, every reason on the page, the case stays.
    refused = submit(radiologist, chart, action, {}, button=("sign", "1"))
    assert refused.status_code == 422
    for reason in ("record the end time", "record the fluoroscopy time", "dose-area product"):
        assert reason in refused.text
    assert state_of(session_factory, case_id) == "in_procedure"
    assert f'action="{action}"' in refused.text  # the form is still there

    signed = submit(
        radiologist,
        chart,
        action,
        {"ended_at": _local(started + dt.timedelta(minutes=40)), "fluoroscopy_minutes": "3.2", "dap_gy_cm2": "14"},
        button=("sign", "1"),
    )
    assert signed.status_code == 303, signed.text[:800]
    assert state_of(session_factory, case_id) == "monitoring"

    report = pdf_text(radiologist, patient_id, "procedure-report")
    assert "Kyphoplasty, L1" in report  # the record's technique, not the recommendation's
    assert "Fluoroscopy time 3.2 min" in report
    assert "Dose-area product 14 Gy" in report
    assert started.astimezone().date().isoformat() in report


def test_a_changed_date_without_a_reason_is_refused_on_the_page(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("FORM-2")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
    booked = started.astimezone().date() + dt.timedelta(days=10)
    patient_id = in_the_room(session_factory, case_id, booked)
    chart, action = f"/patients/{patient_id}", f"/cases/{case_id}/procedure"
    radiologist = signed_in(R)
    radiologist.headers.pop("X-CSRF-Token", None)
    complete = {
        "L1.cement_product": "Reference PMMA",
        "L1.cement_volume_ml": "4",
        "started_at": _local(started),
        "ended_at": _local(started + dt.timedelta(minutes=40)),
        "fluoroscopy_minutes": "3",
        "air_kerma_mgy": "80",
    }
    refused = submit(radiologist, chart, action, complete, button=("sign", "1"))
    assert refused.status_code == 422
    assert f"differs from the booked date {booked.isoformat()}" in refused.text
    signed = submit(
        radiologist,
        chart,
        action,
        {**complete, "date_change_reason": "earlier slot after a cancellation"},
        button=("sign", "1"),
    )
    assert signed.status_code == 303, signed.text[:800]
    with UnitOfWork(session_factory) as uow:  # the case's date, and so every dated aftercare item, follows
        assert svc.facts_of(svc.load_workflow(uow, case_id).case).procedure_date == started.astimezone().date()
    assert "earlier slot after a cancellation" in radiologist.get(chart).text


def test_observation_and_discharge_forms_guard_the_patient(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("FORM-3")
    ended = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    patient_id = in_the_room(session_factory, case_id, (ended - dt.timedelta(minutes=45)).astimezone().date())
    chart = f"/patients/{patient_id}"
    radiologist, nurse = signed_in(R), signed_in(N)
    radiologist.headers.pop("X-CSRF-Token", None)
    nurse.headers.pop("X-CSRF-Token", None)
    signed = submit(
        radiologist,
        chart,
        f"/cases/{case_id}/procedure",
        {
            "L1.cement_product": "Reference PMMA",
            "L1.cement_volume_ml": "4",
            "started_at": _local(ended - dt.timedelta(minutes=45)),
            "ended_at": _local(ended),
            "fluoroscopy_minutes": "3",
            "dap_gy_cm2": "11",
        },
        button=("sign", "1"),
    )
    assert signed.status_code == 303, signed.text[:800]

    observations = f"/cases/{case_id}/observations"
    vitals = {
        "systolic": "182",
        "diastolic": "95",
        "heart_rate": "118",
        "respiration_rate": "18",
        "spo2": "86",
        "temperature_c": "37.0",
        "oxygen": "air",
        "consciousness": "alert",
        "pain_nrs": "9",
        "neuro": "changed",
    }
    implausible = submit(nurse, chart, observations, {**vitals, "spo2": "186", "heart_rate": "5"})
    assert implausible.status_code == 422
    assert "SpO2 (%) 186 is outside 50-100" in implausible.text
    assert "heart rate (per minute) 5 is outside 20-220" in implausible.text
    no_neuro = submit(nurse, chart, observations, {**vitals, "neuro": None})
    assert no_neuro.status_code == 422  # the neurological check is a choice, never an unticked box
    assert submit(nurse, chart, observations, vitals).status_code == 303
    page = nurse.get(chart).text
    assert 'class="news2 news2-medium"' in page
    assert "medium risk: urgent response" in page
    assert ">CHANGED<" in page
    assert "Not ready for discharge yet" in page

    discharge = f"/cases/{case_id}/discharge"
    ticks = {name: "on" for name in svc.DISCHARGE_CRITERIA}
    early = submit(nurse, chart, discharge, ticks)
    assert early.status_code == 409
    for reason in ("the plan is 120 minutes", "NEWS2 is 5 (medium risk)", "recorded as changed"):
        assert reason in early.text
    assert state_of(session_factory, case_id) == "monitoring"
    assert 'name="override_reason"' not in nurse.get(chart).text  # only the radiologist is offered the override
    short = submit(radiologist, chart, discharge, {**ticks, "override_reason": "ok"})
    assert short.status_code == 422
    reason = "reviewed at the bedside; transferred to the spinal ward for observation"
    overridden = submit(radiologist, chart, discharge, {**ticks, "override_reason": reason})
    assert overridden.status_code == 303, overridden.text[:800]
    assert state_of(session_factory, case_id) == "discharged"
    assert "Discharged by override" in radiologist.get(chart).text

    sheet = pdf_text(radiologist, patient_id, "discharge")
    assert "vertebroplasty" in sheet.lower()
    assert "L1" in sheet
    assert reason in " ".join(sheet.split())
