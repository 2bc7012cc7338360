"""A model of booking, cancelling and re-booking driven through the HTTP routes (forms and API), on SQLite and
PostgreSQL: after every step no 5xx, and a case is 'scheduled' exactly when it has one active booking, which is
its only booked FHIR Appointment. Also: the Appointment is fulfilled once the procedure is signed."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import signed_procedure
from tests.integration.web.test_booking_safety import (
    REASON,
    active_bookings,
    appointments,
    book_api,
    book_form,
    browser_post,
    cancel_form,
    prepared,
    version_of,
    weekday_start,
)
from tests.integration.web.test_workflow import act
from vertebro.pathway.machine import Role

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST
_numbers = itertools.count(1)


def test_scheduled_exactly_when_one_booking_is_active(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    class Booking(RuleBasedStateMachine):
        """Book, cancel (with or without reason and confirmation) and re-book one case, by every route."""

        case_id = 0
        patient_id = 0

        @initialize()
        def new_case(self) -> None:
            self.client = signed_in(C)
            self.case_id = prepared(signed_in, stored_case, f"MODEL-{next(_numbers)}")
            self.patient_id = self.client.get(f"/api/cases/{self.case_id}").json()["patient_id"]

        def _ok(self, response: Any) -> None:
            assert response.status_code < 500, response.text[:1000]

        @rule(
            days=st.integers(min_value=1, max_value=18),
            hour=st.sampled_from([8, 10, 13, 15]),
            room=st.sampled_from(["Room 1", "Room 2"]),
            via=st.sampled_from(["form", "api"]),
        )
        def book(self, days: int, hour: int, room: str, via: str) -> None:
            start = weekday_start(dt.date.today() + dt.timedelta(days=days), dt.time(hour, 0))
            response = (book_form if via == "form" else book_api)(self.client, self.case_id, start, room)
            self._ok(response)

        @rule(
            via=st.sampled_from(["form", "api action", "api cancel"]),
            reason=st.sampled_from([REASON, "", "too short"]),
            confirm=st.booleans(),
        )
        def cancel(self, via: str, reason: str, confirm: bool) -> None:
            if via == "form":
                response = cancel_form(self.client, self.case_id, reason=reason, confirm=confirm)
            elif via == "api action":
                response = act(self.client, self.case_id, "POST", "/actions/cancel_booking", {"reason": reason})
            else:
                body = {"reason": reason, "confirm": confirm}
                response = act(self.client, self.case_id, "POST", "/booking/cancel", body)
            self._ok(response)

        @rule(action=st.sampled_from(["book", "cancel_booking"]))
        def bare_step(self, action: str) -> None:
            fields = {"version": version_of(self.client, self.case_id)}
            self._ok(browser_post(self.client, f"/cases/{self.case_id}/actions/{action}", fields))
            self._ok(act(self.client, self.case_id, "POST", f"/actions/{action}"))

        @invariant()
        def scheduled_exactly_when_one_booking_is_active(self) -> None:
            if not self.case_id:
                return
            case = self.client.get(f"/api/cases/{self.case_id}")
            assert case.status_code == 200, case.text
            active = active_bookings(session_factory, self.case_id)
            assert len(active) <= 1
            assert (case.json()["state"] == "scheduled") == (len(active) == 1)
            chart = self.client.get(f"/patients/{self.patient_id}")
            assert chart.status_code == 200
            booked = [a for a in appointments(self.client, self.patient_id) if a["status"] == "booked"]
            assert [a["id"] for a in booked] == [f"b{b.id}" for b in active]

    run_state_machine_as_test(
        Booking,
        settings=settings(
            max_examples=6,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_the_appointment_is_fulfilled_once_the_procedure_is_signed(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = prepared(signed_in, stored_case, "FULFIL-1")
    coordinator, nurse, radiologist = signed_in(C), signed_in(N), signed_in(R)
    start = weekday_start(dt.date.today() + dt.timedelta(days=8))
    assert book_api(coordinator, case_id, start).status_code == 200
    patient_id = coordinator.get(f"/api/cases/{case_id}").json()["patient_id"]
    assert [a["status"] for a in appointments(coordinator, patient_id)] == ["booked"]
    assert act(nurse, case_id, "POST", "/actions/start_procedure").status_code == 200
    assert [a["status"] for a in appointments(coordinator, patient_id)] == ["booked"]
    began = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    body = signed_procedure(
        began,
        began + dt.timedelta(minutes=45),
        technique=None,
        dose={"fluoroscopy_minutes": 4.2, "dap_gy_cm2": 18.5},
        date_change_reason="Brought forward: a slot fell free and the patient could come at once.",
    )
    signed = act(radiologist, case_id, "POST", "/procedure", body)
    assert signed.status_code == 200, signed.text
    assert [a["status"] for a in appointments(coordinator, patient_id)] == ["fulfilled"]
