"""Taking a case along the pathway over HTTP, as staff do, for the model-based and every-form tests: the chart's
forms as a browser posts them (the form's own CSRF token, no header) and the JSON API; and reading the record
back (state, bookings, the signed procedure, the discharge) to check what the pages did."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import submit
from tests.integration.web.test_booking_safety import book_api, prepared, weekday_start
from tests.integration.web.test_workflow import act
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, Discharge, Observation, ProcedureLevel, ProcedureRecord

C, N, R, L = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD
CALM = {
    "systolic": "128",
    "diastolic": "78",
    "heart_rate": "72",
    "respiration_rate": "16",
    "spo2": "97",
    "temperature_c": "36.8",
    "oxygen": "air",
    "consciousness": "alert",
    "pain_nrs": "3",
    "neuro": "unchanged",
}
ABNORMAL = {**CALM, "systolic": "182", "diastolic": "95", "heart_rate": "118", "spo2": "86", "pain_nrs": "9"}
OVERRIDE = "Reviewed at the bedside by the radiologist; observed on the ward overnight instead."
CHANGE_REASON = "Done on another day than booked: a slot fell free and the patient could come at once."


def local(moment: dt.datetime) -> str:
    """A moment as a datetime-local field holds it."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")


def form(client: TestClient, case_id: int, action: str, changes: dict[str, Any], **kw: Any) -> Response:
    """Post the chart form of ``action`` as a browser does: its rendered fields with ``changes``, the form's own
    CSRF token (the client's header is taken away for the request)."""
    patient_id = patient_of(client, case_id)
    token = client.headers.pop("X-CSRF-Token", None)
    try:
        return submit(client, f"/patients/{patient_id}", action, changes, **kw)
    finally:
        if token is not None:
            client.headers["X-CSRF-Token"] = token


_patients: dict[int, int] = {}


def patient_of(client: TestClient, case_id: int) -> int:
    if case_id not in _patients:
        response = client.get(f"/api/cases/{case_id}")
        assert response.status_code == 200, response.text[:300]
        _patients[case_id] = response.json()["patient_id"]
    return _patients[case_id]


def state_of(client: TestClient, case_id: int) -> str:
    response = client.get(f"/api/cases/{case_id}")
    assert response.status_code == 200, response.text[:300]
    return str(response.json()["state"])


def signed_fields(
    *, technique: str, ended_ago: dt.timedelta, sedation: bool = False, level: str = "L1"
) -> dict[str, Any]:
    """The procedure form filled completely (one level), ended ``ended_ago`` before now, 40 minutes long."""
    ended = dt.datetime.now(dt.UTC) - ended_ago
    fields: dict[str, Any] = {
        "technique": technique,
        f"{level}.cement_product": "Reference PMMA",
        f"{level}.cement_volume_ml": "4",
        "started_at": local(ended - dt.timedelta(minutes=40)),
        "ended_at": local(ended),
        "fluoroscopy_minutes": "3.5",
        "dap_gy_cm2": "12",
        "date_change_reason": CHANGE_REASON,
    }
    if sedation:
        fields["sedation"] = "on"
    return fields


def signed_procedure(
    started: dt.datetime, ended: dt.datetime, *, technique: str | None = "vertebroplasty", **changes: Any
) -> dict[str, Any]:
    """The API body of a one-level (L1) procedure record signed as done from ``started`` to ``ended``."""
    level = {
        "level": "L1",
        "approach": "bipedicular",
        "guidance": "fluoroscopy",
        "contrast": True,
        "cement_product": "Reference PMMA",
        "cement_volume_ml": 4.0,
        "leakage": "none",
    }
    body: dict[str, Any] = {
        "levels": [level],
        **({"technique": technique} if technique is not None else {}),
        "sedation": False,
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "dose": {"fluoroscopy_minutes": 3.5, "dap_gy_cm2": 12.0},
        "sign": True,
    }
    return {**body, **changes}


def sign_api(client: TestClient, case_id: int, *, technique: str, ended_ago: dt.timedelta) -> Response:
    ended = dt.datetime.now(dt.UTC).replace(microsecond=0) - ended_ago
    body = signed_procedure(
        ended - dt.timedelta(minutes=40), ended, technique=technique, date_change_reason=CHANGE_REASON
    )
    return act(client, case_id, "POST", "/procedure", body)  # type: ignore[no-any-return]


def discharge_ticks() -> dict[str, str]:
    from vertebro.store import workflow as svc

    return {name: "on" for name in svc.DISCHARGE_CRITERIA}


@dataclass(frozen=True)
class Record:
    """What the database holds about one case's procedure, monitoring and discharge."""

    active_bookings: int
    signed: bool
    technique: str | None
    levels: tuple[str, ...]
    sedation: bool
    ended_at: dt.datetime | None
    observations: tuple[dict[str, Any], ...]
    discharged_at: dt.datetime | None
    override_reason: str | None


def record_of(session_factory: sessionmaker[Session], case_id: int) -> Record:
    with UnitOfWork(session_factory) as uow:
        s = uow.session
        bookings = s.scalars(select(Booking).where(Booking.case_id == case_id, Booking.status == "booked")).all()
        procedure = s.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == case_id)).one_or_none()
        levels: tuple[str, ...] = ()
        if procedure is not None:
            levels = tuple(
                s.scalars(select(ProcedureLevel.level).where(ProcedureLevel.procedure_id == procedure.id)).all()
            )
        observations = s.scalars(
            select(Observation)
            .where(Observation.case_id == case_id, Observation.kind == "vitals")
            .order_by(Observation.taken_at, Observation.id)
        ).all()
        discharge = s.get(Discharge, case_id)
        return Record(
            active_bookings=len(bookings),
            signed=procedure is not None and procedure.signed_at is not None,
            technique=procedure.technique if procedure else None,
            levels=levels,
            sedation=bool(procedure and procedure.sedation),
            ended_at=procedure.ended_at if procedure else None,
            observations=tuple(dict(o.value) for o in observations),
            discharged_at=discharge.discharged_at if discharge else None,
            override_reason=discharge.override_reason if discharge else None,
        )


def pdf_text(client: TestClient, patient_id: int, kind: str) -> str:
    response = client.get(f"/patients/{patient_id}/documents/{kind}")
    assert response.status_code == 200, (kind, response.text[:300])
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(response.content)).pages
    )


def book_free_slot(client: TestClient, case_id: int) -> Response:
    """Book the first free slot from a week ahead (another case may hold the earlier ones)."""
    response: Response | None = None
    for day in range(7, 20):
        for hour in (8, 10, 13, 15):
            for room in ("Room 1", "Room 2"):
                response = book_api(
                    client, case_id, weekday_start(dt.date.today() + dt.timedelta(days=day), dt.time(hour)), room
                )
                if not (response.status_code == 409 and "someone else" in response.text):
                    return response
    assert response is not None
    return response


STATES = (
    "requested",
    "screening",
    "declined",
    "eligible",
    "prepared",
    "scheduled",
    "in_procedure",
    "monitoring",
    "discharged",
    "follow_up",
    "closed",
)


def case_in(
    state: str,
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    identifier: str,
) -> int:
    """Store a case and take it to ``state`` through the JSON API, each step by the role that takes it."""

    def ok(response: Any) -> None:
        assert response.status_code == 200, (state, response.text[:500])

    coordinator, nurse, radiologist = signed_in(C), signed_in(N), signed_in(R)
    if state in ("requested", "screening", "declined", "eligible"):
        case_id = stored_case(identifier, sedation_planned=False)
        if state != "requested":
            ok(act(coordinator, case_id, "POST", "/actions/start_screening"))
        if state == "declined":
            ok(act(radiologist, case_id, "POST", "/actions/decline", {"reason": "The patient prefers to wait."}))
        if state == "eligible":
            ok(act(radiologist, case_id, "POST", "/actions/accept"))
        return case_id
    case_id = prepared(signed_in, stored_case, identifier)
    if state == "prepared":
        return case_id
    ok(book_free_slot(coordinator, case_id))
    if state == "scheduled":
        return case_id
    ok(act(nurse, case_id, "POST", "/actions/start_procedure"))
    if state == "in_procedure":
        return case_id
    ok(sign_api(radiologist, case_id, technique="vertebroplasty", ended_ago=dt.timedelta(hours=4)))
    if state == "monitoring":
        return case_id
    vitals = {k: v for k, v in CALM.items() if k != "oxygen"}
    body = {**{k: (v if k in ("consciousness", "neuro") else float(v)) for k, v in vitals.items()}, "on_oxygen": False}
    for name in ("systolic", "diastolic", "heart_rate", "respiration_rate", "spo2", "pain_nrs"):
        body[name] = int(body[name])
    ok(nurse.post(f"/api/cases/{case_id}/observations", json=body))
    criteria = {
        "neuro_baseline": True,
        "walking": True,
        "pain_not_above_baseline": True,
        "tolerating_oral_intake": True,
    }
    ok(act(nurse, case_id, "POST", "/discharge", {**criteria, "aldrete": 10}))
    if state == "discharged":
        return case_id
    ok(act(nurse, case_id, "POST", "/actions/start_follow_up"))
    if state == "follow_up":
        return case_id
    ok(act(radiologist, case_id, "POST", "/actions/close", {"reason": "Completed at 12 months with no concerns."}))
    return case_id
