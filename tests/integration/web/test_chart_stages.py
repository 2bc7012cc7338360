"""Each role's day on the chart (issue 15 item 4, decision 0033): the evidence before the decision, a confirmation
before accepting, a success message with an undo that reverses the step through the pathway and is audited (and
is refused after its window or by anyone else), the steps a role may not take named with who can, the hand-over
that puts a case on the role's worklist, and every problem of a form listed at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.chart_forms import form_fields, submit
from tests.integration.web.journey import case_in, patient_of, state_of
from tests.integration.web.test_workflow import act
from tests.unit.clinical.builders import case_data
from vertebro.pathway.machine import UNDO_WINDOW, Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, CaseWorkflow

C, N, R = Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST
REASON = "Discussed with the patient; the imaging was reviewed again."


def _audit(session_factory: sessionmaker[Session], case_id: int, action: str) -> list[AuditEntry]:
    with UnitOfWork(session_factory) as uow:
        statement = select(AuditEntry).where(
            AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case_id), AuditEntry.action == action
        )
        return list(uow.session.scalars(statement))


def test_the_radiologist_sees_the_evidence_then_accepts_with_a_confirmation_and_can_undo(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = case_in("screening", signed_in, stored_case, "STAGE-1")
    radiologist = signed_in(R)
    chart = f"/patients/{patient_of(radiologist, case_id)}"
    page = radiologist.get(chart).text
    evidence, accept = page.index('class="evidence"'), page.index(f'action="/cases/{case_id}/actions/accept"')
    assert evidence < accept  # the evidence comes before the decision
    assert 'aria-current="page">Assessment' in page  # the current stage is open
    decline = page.index(f'action="/cases/{case_id}/actions/decline"')
    assert 'class="secondary"' in page[decline : decline + 1500]  # decline is the secondary button
    assert "https://doi.org/" in page  # cited sources are links

    asked = submit(radiologist, chart, f"/cases/{case_id}/actions/accept", {"reason": REASON}, confirm=False)
    assert asked.status_code == 200
    assert f"Yes, accept case {case_id}" in asked.text
    assert state_of(radiologist, case_id) == "screening"  # nothing happens before the confirmation

    done = submit(radiologist, chart, f"/cases/{case_id}/actions/accept", {"reason": REASON})
    assert done.status_code == 303
    assert "done=accept" in done.headers["location"]
    assert state_of(radiologist, case_id) == "eligible"
    after = radiologist.get(done.headers["location"].split("#")[0]).text
    assert "Accepted: the case is eligible" in after
    assert "Undo the accept" in after

    undone = submit(radiologist, chart, f"/cases/{case_id}/actions/undo_decision", {})
    assert undone.status_code == 303, undone.text[:800]
    assert state_of(radiologist, case_id) == "screening"
    assert "Decision undone" in radiologist.get(undone.headers["location"].split("#")[0]).text
    [undo] = _audit(session_factory, case_id, "undo")
    assert undo.detail["decision"] == "accept"
    assert undo.detail["reason"] == REASON
    assert len(_audit(session_factory, case_id, "decide")) == 1  # the decision stays in the log
    with UnitOfWork(session_factory) as uow:
        workflow = uow.session.get(CaseWorkflow, case_id)
        assert workflow is not None
        assert (workflow.decision, workflow.decided_by, workflow.decision_reason) == (None, None, None)


def test_an_undo_after_its_window_or_by_someone_else_is_refused(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = case_in("eligible", signed_in, stored_case, "STAGE-2")
    coordinator = signed_in(C)
    refused = act(coordinator, case_id, "POST", "/actions/undo_decision")
    assert refused.status_code in (403, 409)
    assert state_of(coordinator, case_id) == "eligible"

    with UnitOfWork(session_factory) as uow:
        workflow = uow.session.get(CaseWorkflow, case_id)
        assert workflow is not None
        workflow.decided_at = dt.datetime.now(dt.UTC) - UNDO_WINDOW - dt.timedelta(minutes=1)
        uow.commit()
    radiologist = signed_in(R)
    chart = radiologist.get(f"/patients/{patient_of(radiologist, case_id)}").text
    assert f'action="/cases/{case_id}/actions/undo_decision"' not in chart  # not offered any more
    late = act(radiologist, case_id, "POST", "/actions/undo_decision")
    assert late.status_code == 409
    assert "within 10 minutes" in late.text
    assert state_of(radiologist, case_id) == "eligible"
    assert _audit(session_factory, case_id, "undo") == []


def test_each_role_sees_its_steps_live_and_the_others_named_with_who_can(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = case_in("screening", signed_in, stored_case, "STAGE-3")
    for role in (C, N, Role.SERVICE_LEAD):
        page = signed_in(role).get(f"/patients/{patient_of(signed_in(role), case_id)}").text
        assert f'action="/cases/{case_id}/actions/accept"' not in page
        assert "Accept: the radiologist takes this step." in page
        assert f'action="/cases/{case_id}/facts"' not in page
    page = signed_in(R).get(f"/patients/{patient_of(signed_in(R), case_id)}").text
    assert f'action="/cases/{case_id}/actions/accept"' in page
    assert f'action="/cases/{case_id}/facts"' in page


def test_a_missing_mri_date_hands_the_case_to_the_radiologist_and_onto_their_worklist(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    fracture = {**case_data()["fractures"][0], "imaging_date": None}
    case_id = stored_case("STAGE-4", fractures=[fracture], sedation_planned=False)
    coordinator, radiologist = signed_in(C), signed_in(R)
    assert act(coordinator, case_id, "POST", "/actions/start_screening").status_code == 200
    assert act(radiologist, case_id, "POST", "/actions/accept").status_code == 200
    chart = f"/patients/{patient_of(coordinator, case_id)}"
    page = coordinator.get(chart).text
    assert "Needs the radiologist: imaging: L1: date of the MRI or bone scan" in page
    assert f'action="/cases/{case_id}/facts"' not in page
    assert "The radiologist records the imaging" in page

    def listed(client: TestClient) -> bool:
        return f"#case-{case_id}" in client.get("/?for=you").text

    assert listed(radiologist)  # the hand-over puts it on the radiologist's list
    assert listed(coordinator)  # and the preparation is still the desk's
    assert not listed(signed_in(Role.SERVICE_LEAD))

    saved = submit(radiologist, chart, f"/cases/{case_id}/facts", {"imaging_date": dt.date.today().isoformat()})
    assert saved.status_code == 303, saved.text[:800]
    assert not listed(radiologist)  # recorded: off the radiologist's list
    assert "Needs the radiologist" not in coordinator.get(chart).text


def test_every_problem_of_a_form_is_listed_at_once(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = case_in("eligible", signed_in, stored_case, "STAGE-5")
    nurse = signed_in(N)
    chart = f"/patients/{patient_of(nurse, case_id)}"
    action = f"/cases/{case_id}/checklist"
    assert form_fields(nurse.get(chart).text, action)
    response = submit(nurse, chart, action, {"inr": "abc", "platelets": "-5", "labs_taken_on": "31/02/2026"})
    assert response.status_code == 422
    assert 'class="error-summary"' in response.text
    assert "There are 3 problems" in response.text
    for key in ("checklist-inr-error", "checklist-platelets-error", "checklist-labs_taken_on-error"):
        assert f'href="#{key}"' in response.text
        assert f'id="{key}"' in response.text
    assert 'value="abc"' in response.text  # what was typed is kept


def test_a_stage_not_reached_yet_says_what_comes_first(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = case_in("screening", signed_in, stored_case, "STAGE-6")
    nurse = signed_in(N)
    page = nurse.get(f"/patients/{patient_of(nurse, case_id)}?case={case_id}&stage=procedure").text
    assert "This stage opens when the steps before it are done" in page
    assert "review the evidence and decide (accept or decline) (the radiologist)" in page
    assert "book a slot in the calendar (the coordinator or nurse)" in page
    assert f'action="/cases/{case_id}/procedure"' not in page
