"""A model of the whole pathway driven through the HTTP routes, on SQLite and PostgreSQL (issue 12 item 8).

Hypothesis chooses the steps staff take on one case: screening, accepting or declining, recording a safety fact or
setting it to not recorded, the checklist, insurance, preparing, booking from the calendar or the API, cancelling
(with and without a reason and a confirmation), starting the procedure, saving a draft, signing (complete and
incomplete, by the chart's form and the API, finished long ago or a minute ago), observations (calm and abnormal),
discharge (by the nurse, early, and by the radiologist's override), the follow-up and closing. Each step is the
chart's form as a browser posts it (its CSRF token and version) or the JSON API. The procedure's times are recorded
in the past rather than waited for.

After every step: no 5xx; every read of the case answers; monitoring or later only with a signed procedure record;
never more than one active booking, "scheduled" exactly when one is active, none before; booking refused while a
safety fact is not recorded; a discharge only after the planned monitoring time with acceptable observations, or
by a radiologist's written override; and the signed record's technique and level in the procedure report and the
discharge sheet (rendered through the document routes and read as text).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import (
    ABNORMAL,
    CALM,
    OVERRIDE,
    book_free_slot,
    discharge_ticks,
    form,
    patient_of,
    pdf_text,
    record_of,
    sign_api,
    signed_fields,
    state_of,
)
from tests.integration.web.test_booking_safety import REASON, browser_post
from tests.integration.web.test_every_form import forms_of, post
from tests.integration.web.test_workflow import CHECKLIST, act
from vertebro.clinical.news2 import Risk
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.clinical.recovery import monitoring_minutes
from vertebro.pathway.machine import Role
from vertebro.pathway.monitoring import NeuroCheck, neuro_of

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST
_numbers = itertools.count(1)
BEFORE_BOOKING = ("requested", "screening", "declined", "eligible", "prepared")
AFTER_SIGNING = ("monitoring", "discharged", "follow_up")
LONG_AGO, JUST_NOW = dt.timedelta(hours=4), dt.timedelta(minutes=2)


@pytest.mark.rule("recovery.monitoring_length")
@pytest.mark.rule("monitoring.news2_risk")
def test_the_pathway_keeps_its_invariants_after_every_step(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    """recovery.monitoring_length: "Monitoring lasts 2 h for one level, 30 min more for each further level and
    60 min more after sedation"; discharge waits for it, for a NEWS2 outside the escalation bands
    (monitoring.news2_risk) and an unchanged neurological check, unless a radiologist overrides in writing."""

    class Pathway(RuleBasedStateMachine):
        case_id = 0
        state = "requested"

        @initialize(sedation=st.booleans())
        def new_case(self, sedation: bool) -> None:
            labs = {"inr": 1.0, "platelets": 220.0, "creatinine_clearance_ml_min": 80.0}
            self.case_id = stored_case(f"PATH-{next(_numbers)}", sedation_planned=sedation, labs=labs)
            self.coordinator, self.nurse, self.radiologist = signed_in(C), signed_in(N), signed_in(R)
            self.patient_id = patient_of(self.coordinator, self.case_id)
            self.unrecorded = False  # a safety fact set to "not recorded" on the chart
            self.out_of_turn_steps = 0
            self.two_weeks_recorded = False  # the chart offers a visit's form until it is recorded
            self.checked: tuple[Any, ...] = ()
            self.state = state_of(self.coordinator, self.case_id)

        def _ok(self, response: Response) -> Response:
            assert response.status_code < 500, response.text[:1000]
            if response.status_code >= 400 and "text/html" in response.headers.get("content-type", ""):
                assert 'role="alert"' in response.text, response.text[:1000]  # a refusal names the problem
            self.state = state_of(self.coordinator, self.case_id)
            return response

        def _action(self, client: TestClient, action: str, via: str, reason: str | None = None) -> Response:
            if via == "api":
                return self._ok(act(client, self.case_id, "POST", f"/actions/{action}", {"reason": reason}))
            changes = {"reason": reason} if reason else {}
            return self._ok(form(client, self.case_id, f"/cases/{self.case_id}/actions/{action}", changes))

        # --- screening and the decision ----------------------------------------------------------------
        @precondition(lambda self: self.state == "requested")
        @rule(via=st.sampled_from(["form", "api"]))
        def screen(self, via: str) -> None:
            self._action(self.coordinator, "start_screening", via)

        @precondition(lambda self: self.state == "screening")
        @rule(
            decision=st.sampled_from(["accept", "accept", "decline"]),
            reason=st.sampled_from([None, "The patient prefers to wait four weeks and see."]),
            via=st.sampled_from(["form", "api"]),
        )
        def decide(self, decision: str, reason: str | None, via: str) -> None:
            self._action(self.radiologist, decision, via, reason)

        # --- preparation --------------------------------------------------------------------------------
        @precondition(lambda self: self.state in ("eligible", "prepared"))
        @rule(fever=st.sampled_from(["no", "no", ""]))
        def safety_fact(self, fever: str) -> None:
            response = self._ok(form(self.nurse, self.case_id, f"/cases/{self.case_id}/safety-facts", {"fever": fever}))
            if response.status_code == 303:
                self.unrecorded = fever == ""

        @precondition(lambda self: self.state == "eligible")
        @rule(
            complete=st.sampled_from([True, True, False]),
            status=st.sampled_from(["self_pay", "approved", "pending"]),
            via=st.sampled_from(["form", "api"]),
        )
        def prepare(self, complete: bool, status: str, via: str) -> None:
            """The pre-procedure call's checklist (API), the insurance (the chart's form), then 'prepared'."""
            body = dict(CHECKLIST) if complete else {"medications_reviewed": True}
            self._ok(act(self.coordinator, self.case_id, "PUT", "/checklist", body))
            changes = {"status": status, "payer": "Medicare"}
            self._ok(form(self.coordinator, self.case_id, f"/cases/{self.case_id}/insurance", changes))
            response = self._action(self.nurse, "complete_preparation", via)
            if not complete:
                assert response.status_code == 409, response.text[:500]
                assert self.state == "eligible"

        # --- booking ------------------------------------------------------------------------------------
        @precondition(lambda self: self.state == "prepared")
        @rule(via=st.sampled_from(["calendar", "api"]))
        def book(self, via: str) -> None:
            response: Response | None = None
            if via == "calendar":
                page = self.coordinator.get(f"/calendar?case_id={self.case_id}")
                assert page.status_code == 200, page.text[:500]
                offered = [f for f in forms_of(page.text, self.case_id) if f.action.endswith("/booking")]
                if offered:
                    response = self._ok(post(self.coordinator, offered[0].action, offered[0].fields, {}))
            if response is None:
                response = self._ok(book_free_slot(self.coordinator, self.case_id))
            if self.unrecorded:  # booking is refused until every safety fact is recorded
                assert response.status_code in (409, 422), response.text[:500]
                assert "fever" in response.text

        @precondition(lambda self: self.state == "scheduled")
        @rule(
            reason=st.sampled_from([REASON, REASON, "", "too short"]),
            confirm=st.sampled_from([True, True, False]),
            via=st.sampled_from(["form", "api"]),
        )
        def cancel(self, reason: str, confirm: bool, via: str) -> None:
            if via == "api":
                response = act(
                    self.coordinator, self.case_id, "POST", "/booking/cancel", {"reason": reason, "confirm": confirm}
                )
            else:
                changes: dict[str, Any] = {"reason": reason, "confirm": "yes" if confirm else None}
                response = form(self.coordinator, self.case_id, f"/cases/{self.case_id}/booking/cancel", changes)
            self._ok(response)
            if reason != REASON or not confirm:
                assert self.state == "scheduled"

        # --- the procedure ------------------------------------------------------------------------------
        @precondition(lambda self: self.state == "scheduled")
        @rule(via=st.sampled_from(["form", "api"]))
        def start_procedure(self, via: str) -> None:
            self._action(self.nurse, "start_procedure", via)

        @precondition(lambda self: self.state == "in_procedure")
        @rule(technique=st.sampled_from(["vertebroplasty", "kyphoplasty"]))
        def save_draft(self, technique: str) -> None:
            changes = {"technique": technique, "L1.cement_product": "Reference PMMA"}
            response = form(
                self.radiologist, self.case_id, f"/cases/{self.case_id}/procedure", changes, button=("sign", "0")
            )
            assert self._ok(response).status_code == 303, response.text[:800]
            assert self.state == "in_procedure"

        @precondition(lambda self: self.state == "in_procedure")
        @rule(
            technique=st.sampled_from(["vertebroplasty", "kyphoplasty"]),
            ended=st.sampled_from([LONG_AGO, JUST_NOW]),
            via=st.sampled_from(["form", "api"]),
            complete=st.sampled_from([True, True, False]),
        )
        def sign(self, technique: str, ended: dt.timedelta, via: str, complete: bool) -> None:
            action = f"/cases/{self.case_id}/procedure"
            if not complete:  # no end time and no dose: refused with the reasons, the case stays
                fields = {**signed_fields(technique=technique, ended_ago=ended), "ended_at": "", "dap_gy_cm2": ""}
                fields["fluoroscopy_minutes"] = ""
                response = self._ok(form(self.radiologist, self.case_id, action, fields, button=("sign", "1")))
                assert response.status_code == 422, response.text[:800]
                assert "record the end time" in response.text
                assert self.state == "in_procedure"
                return
            if via == "api":
                response = self._ok(sign_api(self.radiologist, self.case_id, technique=technique, ended_ago=ended))
            else:
                fields = signed_fields(technique=technique, ended_ago=ended)
                response = self._ok(form(self.radiologist, self.case_id, action, fields, button=("sign", "1")))
            assert response.status_code in (200, 303), response.text[:800]
            assert self.state == "monitoring"

        # --- monitoring and discharge -------------------------------------------------------------------
        @precondition(lambda self: self.state == "monitoring")
        @rule(calm=st.sampled_from([True, True, False]))
        def observe(self, calm: bool) -> None:
            vitals = CALM if calm else {**ABNORMAL, "neuro": "changed"}
            response = form(self.nurse, self.case_id, f"/cases/{self.case_id}/observations", dict(vitals))
            assert self._ok(response).status_code == 303, response.text[:800]

        @precondition(lambda self: self.state == "monitoring")
        @rule(by=st.sampled_from(["nurse", "nurse", "radiologist"]), via=st.sampled_from(["form", "form", "api"]))
        def discharge(self, by: str, via: str) -> None:
            escort = {"driver_name": "Sam Driver", "companion_name": "Kim Companion"}
            if by == "nurse":
                if via == "api":
                    criteria = {name: True for name in discharge_ticks()}
                    self._ok(act(self.nurse, self.case_id, "POST", "/discharge", {**criteria, "aldrete": 10, **escort}))
                else:
                    changes = {**discharge_ticks(), "aldrete": "10", **escort}
                    self._ok(form(self.nurse, self.case_id, f"/cases/{self.case_id}/discharge", changes))
            else:
                changes = {**discharge_ticks(), "aldrete": "10", **escort, "override_reason": OVERRIDE}
                self._ok(form(self.radiologist, self.case_id, f"/cases/{self.case_id}/discharge", changes))

        @precondition(lambda self: self.state == "discharged")
        @rule(via=st.sampled_from(["form", "api"]))
        def start_follow_up(self, via: str) -> None:
            self._action(self.nurse, "start_follow_up", via)

        @precondition(lambda self: self.state == "follow_up" and not self.two_weeks_recorded)
        @rule(nrs=st.integers(min_value=0, max_value=10))
        def follow_up(self, nrs: int) -> None:
            response = form(self.nurse, self.case_id, f"/cases/{self.case_id}/follow-ups/2w", {"nrs": str(nrs)})
            self._ok(response)
            self.two_weeks_recorded = response.status_code in (200, 303)

        @precondition(lambda self: self.state in ("follow_up", "declined"))
        @rule()
        def close(self) -> None:
            self._action(self.radiologist, "close", "form", "Completed; no further follow-up is needed.")

        # --- any step, any time: refused or done, never a 5xx ------------------------------------------
        @precondition(lambda self: self.out_of_turn_steps < 3)
        @rule(
            action=st.sampled_from(
                ["start_screening", "accept", "complete_preparation", "start_procedure", "sign_procedure", "discharge"]
            ),
            role=st.sampled_from([C, N, R]),
        )
        def out_of_turn(self, action: str, role: Role) -> None:
            self.out_of_turn_steps += 1
            client = signed_in(role)
            version = client.get(f"/api/cases/{self.case_id}").headers["etag"].removeprefix("W/").strip('"')
            self._ok(browser_post(client, f"/cases/{self.case_id}/actions/{action}", {"version": version}))

        @rule(who=st.sampled_from([C, N, R, Role.SERVICE_LEAD]))
        def look(self, who: Role) -> None:
            """Any role opens the chart and the assessment's reasons (a read, possible in every state)."""
            client = signed_in(who)
            for path in (f"/patients/{self.patient_id}", f"/cases/{self.case_id}/reasons"):
                response = client.get(path)
                assert response.status_code == 200, (path, response.text[:500])

        # --- invariants ---------------------------------------------------------------------------------
        @invariant()
        def reads_answer(self) -> None:
            if not self.case_id:
                return
            for path in (f"/patients/{self.patient_id}", f"/api/cases/{self.case_id}"):
                response = self.coordinator.get(path)
                assert response.status_code == 200, (path, response.text[:500])

        @invariant()
        def monitoring_or_later_only_when_signed(self) -> None:
            if not self.case_id:
                return
            record = record_of(session_factory, self.case_id)
            if self.state in AFTER_SIGNING or record.discharged_at is not None:
                assert record.signed, f"{self.state} with an unsigned procedure record"

        @invariant()
        def scheduled_exactly_when_one_booking_is_active(self) -> None:
            if not self.case_id:
                return
            active = record_of(session_factory, self.case_id).active_bookings
            assert active <= 1
            if self.state in BEFORE_BOOKING:
                assert active == 0, f"{self.state} with an active booking"
            if self.state == "scheduled":
                assert active == 1

        @invariant()
        def discharged_only_when_safe_or_overridden(self) -> None:
            if not self.case_id:
                return
            record = record_of(session_factory, self.case_id)
            if record.discharged_at is None or record.override_reason:
                return
            assert record.ended_at is not None
            planned = monitoring_minutes(max(len(record.levels), 1), record.sedation, DEFAULT_POLICY)
            assert record.discharged_at >= record.ended_at + dt.timedelta(minutes=planned)
            assert record.observations, "discharged with no observations"
            last = record.observations[-1]
            assert not Risk(last["news2_risk"]).escalates, last
            checks = [neuro_of(o) for o in record.observations]
            assert NeuroCheck.CHANGED not in checks
            assert NeuroCheck.UNCHANGED in checks

        @invariant()
        def documents_follow_the_signed_record(self) -> None:
            if not self.case_id:
                return
            record = record_of(session_factory, self.case_id)
            key = (record.signed, record.technique, record.levels, record.discharged_at)
            if not record.signed or key == self.checked:
                return
            self.checked = key
            other = "kyphoplasty" if record.technique == "vertebroplasty" else "vertebroplasty"
            report = pdf_text(self.radiologist, self.patient_id, "procedure-report")
            assert f"{str(record.technique).capitalize()}, {', '.join(record.levels)}" in report, report[:1500]
            assert f"{other.capitalize()}, " not in report
            if record.discharged_at is not None:
                sheet = pdf_text(self.radiologist, self.patient_id, "discharge")
                assert f"your {record.technique}:" in sheet.lower(), sheet[:1500]  # "Your kyphoplasty: <date>"
                assert f"your {other}" not in sheet.lower(), sheet[:1500]
                for level in record.levels:
                    assert level in sheet
                if record.override_reason:
                    assert record.override_reason in sheet

    run_state_machine_as_test(
        Pathway,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is reported unshrunk: bounded time
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
