"""Procedure mode, the cement timer, every mistake of the procedure form at once, several leak sites, the observation
schedule and the checklist's hold dates, all through the routes as a browser posts them (decision 0034)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import submit
from tests.integration.web.test_care_forms import _local, in_the_room
from tests.integration.web.test_workflow import act
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.pathway.machine import Role
from vertebro.store import workflow as svc
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, ProcedureLevel, ProcedureRecord

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST
JSON = {"Accept": "application/json"}


def _browser(client: TestClient) -> TestClient:
    client.headers.pop("X-CSRF-Token", None)  # a browser sends the form's own token
    return client


def _level(session_factory: sessionmaker[Session], case_id: int, level: str = "L1") -> ProcedureLevel:
    with UnitOfWork(session_factory) as uow:
        record = uow.session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)).one()
        row = uow.session.scalars(
            select(ProcedureLevel).where(ProcedureLevel.procedure_id == record.id, ProcedureLevel.level == level)
        ).one()
        uow.session.expunge(row)
        return row


def _timer(client: TestClient, case_id: int, action: str, token: str, *, json: bool = True) -> Response:
    return client.post(
        f"/cases/{case_id}/procedure/levels/L1/timer",
        data={"csrf_token": token, "action": action},
        headers=JSON if json else {},
        follow_redirects=False,
    )


def _token(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


def test_a_draft_saves_at_any_point_and_every_mistake_and_missing_item_is_listed_at_once(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("MODE-1")
    in_the_room(session_factory, case_id, dt.date.today())
    mode, action = f"/cases/{case_id}/procedure-mode", f"/cases/{case_id}/procedure"
    radiologist = _browser(signed_in(R))
    page = radiologist.get(mode)
    assert page.status_code == 200
    assert "Cement timer per level" in page.text
    assert "Start at mixing" in page.text

    # Mid-procedure, nothing typed: no start time, no product, no volume; the draft saves and comes back here.
    draft = submit(radiologist, mode, action, {}, button=("sign", "0"))
    assert draft.status_code == 303, draft.text[:600]
    assert draft.headers["location"].startswith(mode)
    with UnitOfWork(session_factory) as uow:
        record = uow.session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)).one()
        assert record.start_recorded is False
        assert record.signed_at is None

    # Four mistakes at once: each named beside its field and in the summary; nothing stored changes.
    wrong = submit(
        radiologist,
        mode,
        action,
        {
            "L1.cement_volume_ml": "lots",
            "L1.approach": "sideways",
            "fluoroscopy_minutes": "-3",
            "started_at": "yesterday",
        },
        button=("sign", "0"),
    )
    assert wrong.status_code == 422
    for field, message in (
        ("L1-cement_volume_ml", "is not a number"),
        ("fluoroscopy_minutes", "must be between 0 and 600"),
        ("started_at", "write the time as YYYY-MM-DD HH:MM"),
    ):
        assert re.search(rf'id="procedure-{field}-error">[^<]*{re.escape(message)}', wrong.text), field
    assert wrong.text.count('aria-invalid="true"') >= 3
    assert re.search(r'<a href="#ap-\d+-L1">L1 approach: choose one of: unipedicular, bipedicular</a>', wrong.text)
    assert 'class="error-summary"' in wrong.text
    assert '<a href="#fluoroscopy_minutes-' in wrong.text  # the summary links to each field, named
    assert "Fluoroscopy time (min): must be between 0 and 600" in wrong.text

    # Signing an empty record lists everything still missing at once, each beside its field.
    refused = submit(radiologist, mode, action, {}, button=("sign", "1"))
    assert refused.status_code == 422
    for field, message in (
        ("started_at", "record the start time"),
        ("ended_at", "record the end time"),
        ("L1-cement_product", "L1: record the cement product"),
        ("L1-cement_volume_ml", "L1: record the cement volume"),
        ("fluoroscopy_minutes", "record the fluoroscopy time"),
        ("dap_gy_cm2", "record the dose"),
    ):
        assert re.search(rf'id="procedure-{field}-error">{re.escape(message)}', refused.text), field
    assert "Not signed yet: everything still missing" in refused.text
    # The API answers the same refusal with every problem listed, each with its field.
    level = {"level": "L1", "approach": "unipedicular", "guidance": "fluoroscopy", "contrast": False}
    radiologist.headers["X-CSRF-Token"] = _token(radiologist, mode)
    api = act(radiologist, case_id, "POST", "/procedure", {"levels": [level], "sedation": False, "sign": True})
    assert api.status_code == 422, api.text
    fields = {p["field"] for p in api.json()["problems"]}
    assert {"started_at", "ended_at", "L1.cement_product", "L1.cement_volume_ml", "fluoroscopy_minutes"} <= fields


def test_the_cement_timer_is_stored_on_the_level_and_never_restarts(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("MODE-2")
    patient_id = in_the_room(session_factory, case_id, dt.date.today())
    with UnitOfWork(session_factory) as uow:  # sedation is planned for this one
        actor = svc.Actor("test", R, "test")
        svc.update_facts(uow, case_id, {"sedation_planned": True}, actor, DEFAULT_POLICY, expected_version=None)
        uow.commit()
    mode = f"/cases/{case_id}/procedure-mode"
    radiologist = _browser(signed_in(R))
    token = _token(radiologist, mode)

    refused = _timer(radiologist, case_id, "pause", token)
    assert refused.status_code == 422
    assert "start the cement timer at mixing first" in refused.json()["detail"]

    started = _timer(radiologist, case_id, "start", token)
    assert started.status_code == 200, started.text
    state = started.json()
    assert state["started"]
    assert state["phase"] == "mixing"
    assert not state["paused"]
    mixed = _level(session_factory, case_id).cement_mixed_at
    assert mixed is not None  # the first timer action saved a draft with the planned level
    with UnitOfWork(session_factory) as uow:  # ... and the plan's sedation and technique, as the form shows them
        record = uow.session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)).one()
        facts = svc.facts_of(svc.load_workflow(uow, case_id).case)
        view = svc.case_view(uow, case_id, svc.Actor("test", R, "test"), DEFAULT_POLICY, audit=False)
        assert facts.sedation_planned is True
        assert record.sedation is True
        assert record.technique == view.assessment.recommendation.treatment.value

    again = _timer(radiologist, case_id, "start", token).json()
    assert _level(session_factory, case_id).cement_mixed_at == mixed  # a second click does not restart
    assert again["times"]["mixed_at"] == state["times"]["mixed_at"]

    assert _timer(radiologist, case_id, "pause", token).json()["paused"]
    assert _level(session_factory, case_id).timer_paused_at is not None
    page = radiologist.get(mode).text  # a reload shows the pause
    assert re.search(r'id="timer-L1"[^>]*data-paused="1"', page)
    resumed = _timer(radiologist, case_id, "resume", token).json()
    assert not resumed["paused"]
    assert _level(session_factory, case_id).timer_paused_at is None

    early = _timer(radiologist, case_id, "injection_end", token)
    assert early.status_code == 422
    injected = _timer(radiologist, case_id, "injection_start", token).json()
    assert injected["times"]["injection_started_at"] is not None
    assert injected["times_text"]["injection_started_at"]
    # Without JavaScript the button posts and comes back to procedure mode.
    plain = _timer(radiologist, case_id, "injection_end", token, json=False)
    assert plain.status_code == 303
    assert plain.headers["location"] == f"{mode}#timer-L1"
    row = _level(session_factory, case_id)
    assert row.injection_started_at is not None
    assert row.injection_ended_at is not None
    assert row.injection_ended_at >= row.injection_started_at >= mixed

    # Saving the record's draft keeps the timer's times; the chart shows them on the level.
    assert submit(radiologist, mode, f"/cases/{case_id}/procedure", {}, button=("sign", "0")).status_code == 303
    assert _level(session_factory, case_id).cement_mixed_at == mixed
    chart = radiologist.get(f"/patients/{patient_id}").text
    assert "Open procedure mode" in chart
    assert re.search(r"mixed \d{4}-\d\d-\d\d \d\d:\d\d \w+; injected", chart)

    # The nurse in the room may run the timer; a coordinator may not; every step is audited.
    nurse = _browser(signed_in(N))
    assert nurse.get(mode).status_code == 200
    coordinator = _browser(signed_in(C))
    assert coordinator.get(mode).status_code == 403
    with UnitOfWork(session_factory) as uow:
        steps = [
            e.detail.get("cement_timer")
            for e in uow.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "procedure"))
            if e.detail.get("cement_timer")
        ]
    assert steps.count("start") == 2
    assert "injection_end" in steps


def test_several_leak_sites_are_stored_shown_again_and_exported(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("MODE-3")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    patient_id = in_the_room(session_factory, case_id, started.astimezone().date())
    mode, action = f"/cases/{case_id}/procedure-mode", f"/cases/{case_id}/procedure"
    radiologist = _browser(signed_in(R))
    leaks = ["venous", "epidural", "disc"]
    complete = {
        "L1.cement_product": "Reference PMMA",
        "L1.cement_volume_ml": "4",
        "L1.leaks": leaks,
        "L1.leakage_symptomatic": "on",
        "started_at": _local(started),
        "ended_at": _local(started + dt.timedelta(minutes=40)),
        "fluoroscopy_minutes": "3",
        "dap_gy_cm2": "12",
    }
    # A mistake elsewhere: every ticked site is still ticked on the page shown again.
    wrong = submit(radiologist, mode, action, {**complete, "notes": "x" * 4001}, button=("sign", "1"))
    assert wrong.status_code == 422
    for site in leaks:
        assert re.search(rf'name="L1.leaks" value="{site}" checked', wrong.text), site
    signed = submit(radiologist, mode, action, complete, button=("sign", "1"))
    assert signed.status_code == 303, signed.text[:800]
    assert sorted(_level(session_factory, case_id).leaks or []) == sorted(leaks)
    signed_mode = radiologist.get(mode).text  # a signed record: no timer button, no form
    assert 'class="timer-actions"' not in signed_mode
    assert f'action="{action}"' not in signed_mode

    chart = radiologist.get(f"/patients/{patient_id}").text
    assert "venous, epidural, disc (symptomatic)" in chart
    bundle = radiologist.get(f"/fhir/Patient/{patient_id}/$everything").json()
    resources = [e["resource"] for e in bundle["entry"]]
    cement = next(r for r in resources if r["resourceType"] == "Observation" and r["id"].endswith("-cement"))
    exported = [c["valueCodeableConcept"]["coding"][0]["code"] for c in cement["component"]]
    assert sorted(exported) == sorted(leaks)
    event = next(r for r in resources if r["resourceType"] == "AdverseEvent" and r["id"].endswith("-leak"))
    assert sorted(c["code"] for c in event["event"]["coding"]) == sorted(leaks)


def test_the_chart_shows_the_next_observation_check_and_the_overdue_ones(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    case_id = stored_case("MODE-4")
    ended = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=40)
    patient_id = in_the_room(session_factory, case_id, (ended - dt.timedelta(minutes=45)).astimezone().date())
    chart = f"/patients/{patient_id}"
    radiologist, nurse = _browser(signed_in(R)), _browser(signed_in(N))
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
    page = nurse.get(chart).text
    # Checks at 0, 15 and 30 minutes after the end have passed without a set: three overdue; the next at 45.
    assert "3 checks overdue" in page
    assert "Next observation check due" in page
    assert "3 observation checks overdue" in nurse.get("/?state=monitoring").text  # and on the worklist
    calm = {
        "systolic": "128",
        "diastolic": "78",
        "heart_rate": "72",
        "respiration_rate": "14",
        "spo2": "97",
        "temperature_c": "36.8",
        "oxygen": "air",
        "consciousness": "alert",
        "pain_nrs": "3",
        "neuro": "unchanged",
    }
    recorded = submit(nurse, chart, f"/cases/{case_id}/observations", calm)
    assert recorded.status_code == 303, recorded.text[:500]
    page = nurse.get(chart).text
    assert "3 checks overdue" in page  # a missed check stays listed; the set now counts for the 45-minute check
    assert re.search(r"done \d{4}-\d\d-\d\d \d\d:\d\d", page)


def test_holds_explained_cannot_be_ticked_before_the_hold_has_dates(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
) -> None:
    # Apixaban without a creatinine clearance: the hold cannot be dated (asra.doac needs the kidney function).
    case_id = stored_case("MODE-5", medications=[{"name": "apixaban"}])
    with UnitOfWork(session_factory) as uow:  # accepted: preparation is the chart's current stage (decision 0033)
        svc.load_workflow(uow, case_id, for_update=True).state = "eligible"
        uow.commit()
    nurse = _browser(signed_in(N))
    api_case = signed_in(C).get(f"/api/cases/{case_id}")
    patient_id = api_case.json()["patient_id"]
    chart = nurse.get(f"/patients/{patient_id}").text
    assert re.search(r'<input type="checkbox" name="holds_explained" disabled aria-describedby="holds-why-', chart)
    assert "Cannot be ticked yet" in chart
    assert "apixaban" in chart.split("Cannot be ticked yet", 1)[1][:400]
    refused = submit(nurse, f"/patients/{patient_id}", f"/cases/{case_id}/checklist", {"holds_explained": "on"})
    assert refused.status_code == 422
    assert "the hold and restart dates cannot be explained yet" in refused.text
    # Labels sit in the two-column form (one row each on a wide screen).
    assert f'action="/cases/{case_id}/checklist" class="form-rows"' in chart


def test_the_timer_route_documents_its_json_answer(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    timer = paths["/cases/{case_id}/procedure/levels/{level}/timer"]["post"]["responses"]
    assert "application/json" in timer["200"]["content"]
    assert "phase" in timer["200"]["content"]["application/json"]["schema"]["properties"]
    assert {"303", "403", "409", "422"} <= set(timer)
    assert "text/html" in paths["/cases/{case_id}/procedure-mode"]["get"]["responses"]["200"]["content"]
