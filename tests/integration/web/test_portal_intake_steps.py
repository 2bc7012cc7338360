"""The intake in short steps, through the portal's routes (decision 0036), on SQLite and PostgreSQL.

Progress, every problem of a step at once with what was typed kept, questions shown only when they apply,
resume at the right step on another device, back without losing answers, the review with "change" links,
and sending; the request without a known level and the date hint that matches the browser's control.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.portal_helpers import PATIENT_PASSWORD, csrf_of, new_patient, request_form
from vertebro.intake.answers import DATE_HINT, DATE_PROBLEM
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork

MEDICINES_OK = {"blood_thinners_none": "none", "allergy_cement": "no", "allergy_contrast": "no", "allergy_latex": "no"}


def _base(case_id: int) -> str:
    return f"/portal/cases/{case_id}/intake"


def _post(client: TestClient, case_id: int, step: str, **form: Any) -> httpx.Response:
    """Post one step as the browser does: the token and version of the page, and the questions it showed."""
    page = client.get(f"{_base(case_id)}/{step}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    shown = re.search(r'name="shown" value="([^"]*)"', page)
    typed = dict(re.findall(r'name="([\w-]+)" type="(?:text|date)" value="([^"]*)"', page))  # a browser sends them
    data: dict[str, Any] = {"csrf_token": csrf_of(page), "go": "next", **typed, **form}
    if version:
        data.setdefault("version", version.group(1))
    if shown:
        data.setdefault("shown", shown.group(1))
    return client.post(f"{_base(case_id)}/{step}", data=data)


def _through(client: TestClient, case_id: int, *steps: tuple[str, dict[str, Any]]) -> None:
    for step, form in steps:
        response = _post(client, case_id, step, **form)
        assert response.status_code == 303, (step, response.text[:2000])


ALL_STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("pain", {"pain_now": "8", "pain_course": "stable", "pain_where": ["lower_back"]}),
    ("treatment", {"tried": ["painkillers"], "tried_weeks": "5", "walk_with_painkillers": "no"}),
    ("medicines", MEDICINES_OK),
    ("health", {"illnesses": ["lungs"]}),
    ("daily", {}),
    ("day", {"sedation_wish": "no", "escort": "yes"}),
)


def test_the_intake_opens_at_step_one_with_progress_and_the_request_carried_over(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    patient = new_patient(client, pain_now="7", where_it_hurts="middle_back")
    page = client.get(_base(patient["case_id"])).text
    assert "Step 1 of 7" in page
    assert re.search(r'<span aria-current="step">Your pain</span>', page)
    assert re.search(r'name="pain_now" value="7" checked', page)
    assert re.search(r'name="pain_where" value="middle_back" checked', page)
    started = (dt.date.today() - dt.timedelta(weeks=5)).isoformat()
    assert f'name="pain_started" type="date" value="{started}"' in page
    assert DATE_HINT in page
    assert "year-month-day" not in page
    # questions of later steps are not on this page
    assert 'name="allergy_cement"' not in page


def test_a_step_lists_every_problem_at_once_and_keeps_what_was_typed(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    response = _post(client, case_id, "medicines", allergy_other="plasters", other_medicines="paracetamol")
    assert response.status_code == 422
    summary = response.text.split('class="error-summary"')[1].split("</div>")[0]
    for field in ("blood_thinners_none", "allergy_cement", "allergy_contrast", "allergy_latex"):
        assert f'href="#{field}"' in summary, field
        assert f'id="{field}-error"' in response.text, field
    assert "these 4 answers" in summary
    assert 'value="plasters"' in response.text
    assert ">paracetamol</textarea>" in response.text
    # the typed answers were kept in the draft too: the page read again shows them
    assert 'value="plasters"' in client.get(f"{_base(case_id)}/medicines").text
    # a wrong value and a missing answer on the pain step come together as well
    response = _post(client, case_id, "pain", pain_now="12", pain_started="31/02/2026")
    assert response.status_code == 422
    assert all(f'id="{f}-error"' in response.text for f in ("pain_now", "pain_started", "pain_course"))
    assert DATE_PROBLEM in response.text
    assert 'value="31/02/2026"' in response.text


def test_blood_thinner_questions_appear_only_after_the_patient_says_yes(
    portal_factory: Callable[..., TestClient], session_factory: sessionmaker[Session]
) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    page = client.get(f"{_base(case_id)}/medicines").text
    assert 'name="blood_thinners"' not in page
    assert 'name="aspirin_why"' not in page
    response = _post(client, case_id, "medicines", **{**MEDICINES_OK, "blood_thinners_none": "some"})
    assert response.status_code == 200  # not an error: the page asks the question that now applies
    assert "there is another question below" in response.text
    assert 'name="blood_thinners"' in response.text
    assert 'name="aspirin_why"' not in response.text
    assert 'id="blood_thinners-error"' not in response.text
    answers = {**MEDICINES_OK, "blood_thinners_none": "some", "blood_thinners": ["aspirin"]}
    response = _post(client, case_id, "medicines", **answers)
    assert response.status_code == 200
    assert 'name="aspirin_why"' in response.text
    response = _post(client, case_id, "medicines", **answers, aspirin_why="secondary_prevention")
    assert response.status_code == 303
    assert response.headers["location"] == f"{_base(case_id)}/health"
    # changing the answer to "no" drops the blood thinners: they can neither contradict nor reach the facts
    assert _post(client, case_id, "medicines", **MEDICINES_OK).status_code == 303
    with UnitOfWork(session_factory) as uow:
        draft = uow.portal.response(case_id, "intake")
        assert draft is not None
        raw = draft.answers["raw"]
    assert "blood_thinners" not in raw
    assert "aspirin_why" not in raw
    assert raw["blood_thinners_none"] == "none"


def test_a_blood_thinner_said_yes_to_but_not_named_is_a_problem_once_asked(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    page = client.get(f"{_base(case_id)}/medicines").text
    shown = re.search(r'name="shown" value="([^"]*)"', page)
    assert shown
    # the question was already on the page (asked), and nothing was ticked: that is a problem now
    widened = shown.group(1) + " blood_thinners blood_thinner_other"
    response = _post(client, case_id, "medicines", **{**MEDICINES_OK, "blood_thinners_none": "some"}, shown=widened)
    assert response.status_code == 422
    assert 'id="blood_thinners-error"' in response.text


def test_the_pregnancy_question_is_asked_only_where_the_pregnancy_screen_applies(
    portal_factory: Callable[..., TestClient],
) -> None:
    young = portal_factory()
    case_id = new_patient(young, birth_date="1990-06-01", email="young@example.org")["case_id"]
    assert 'name="pregnant"' in young.get(f"{_base(case_id)}/health").text
    older = portal_factory()
    case_id = new_patient(older, email="older@example.org")["case_id"]  # a woman born 1946
    assert 'name="pregnant"' not in older.get(f"{_base(case_id)}/health").text
    man = portal_factory()
    case_id = new_patient(man, birth_date="1990-06-01", sex="male", email="man@example.org")["case_id"]
    assert 'name="pregnant"' not in man.get(f"{_base(case_id)}/health").text


def test_resume_at_the_first_step_not_done_on_another_device(portal_factory: Callable[..., TestClient]) -> None:
    phone = portal_factory()
    patient = new_patient(phone)
    case_id = patient["case_id"]
    _through(phone, case_id, *ALL_STEPS[:2])
    laptop = portal_factory()
    laptop.post("/portal/login", data={"login": patient["reference"], "password": PATIENT_PASSWORD})
    page = laptop.get(_base(case_id)).text
    assert "Step 3 of 7" in page
    assert '<span aria-current="step">Medicines and allergies</span>' in page
    # the steps done are links back, with the answers kept
    assert f'href="{_base(case_id)}/treatment"' in page
    assert 'value="5"' in laptop.get(f"{_base(case_id)}/treatment").text


def test_back_and_save_keep_answers_not_yet_checked(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    response = _post(client, case_id, "treatment", go="back", tried_weeks="six", tried=["brace"])
    assert response.status_code == 303
    assert response.headers["location"] == f"{_base(case_id)}/pain"
    page = client.get(f"{_base(case_id)}/treatment").text
    assert 'value="six"' in page
    assert re.search(r'value="brace" checked', page)
    response = _post(client, case_id, "treatment", go="save", tried_weeks="7")
    assert response.headers["location"] == f"{_base(case_id)}/treatment?saved=1"
    assert "Your answers are saved" in client.get(response.headers["location"]).text
    # neither back nor save marks the step done: the patient resumes there
    assert "Step 1 of 7" in client.get(_base(case_id)).text


def test_the_review_lists_every_answer_with_a_change_link_and_sends(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client)
    case_id = patient["case_id"]
    _through(client, case_id, *ALL_STEPS)
    review = client.get(_base(case_id))
    assert "Check your answers before you send them" in review.text
    assert "Step 7 of 7" in review.text
    for label, answer in (
        ("Pain today", "8 out of 10"),
        ("How it has changed", "About the same"),
        ("Treatments tried", "Painkillers"),
        ("Weeks of treatment", "5"),
        ("Blood thinners", "No"),
        ("Bone cement allergy", "No"),
        ("Illnesses", "Lung or breathing problems"),
        ("An adult to take you home", "Yes"),
    ):
        assert re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>{re.escape(answer)}", review.text), label
    assert "Which blood thinners" not in review.text  # not asked: not listed
    started = dt.date.today() - dt.timedelta(weeks=5)  # carried over from the request, shown in words
    assert re.search(rf"<dt>When it started</dt>\s*<dd>{started:%A} {started.day} {started:%B %Y}<", review.text)
    changes = re.findall(rf'href="{_base(case_id)}/(\w+)\?from=review#(\w[\w-]*)"', review.text)
    assert ("medicines", "allergy_cement") in changes
    assert len(changes) >= 15
    # change one answer from the review: continuing goes back to the review
    response = _post(client, case_id, "day", sedation_wish="yes", escort="yes", return_to="review")
    assert response.status_code == 200  # the overnight companion now applies: asked on the same page
    assert 'name="escort_overnight"' in response.text
    response = _post(
        client, case_id, "day", sedation_wish="yes", escort="yes", escort_overnight="not_sure", return_to="review"
    )
    assert response.headers["location"] == f"{_base(case_id)}/review"
    token = csrf_of(client.get(f"{_base(case_id)}/review").text)
    response = client.post(f"{_base(case_id)}/send", data={"csrf_token": token})
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == "/portal/me?sent=intake"
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(case_id)
        assert workflow is not None
        facts = workflow.case.facts
        sent = uow.portal.response(case_id, "intake")
        assert sent is not None
        answers = sent.answers["answers"]
        audit = uow.audit.entries(patient_id=workflow.case.patient_id, action="submit")
    assert facts["pain"]["nrs"] == 8
    assert facts["medications"] is None  # the patient's "no blood thinners" is not a reviewed list: staff review it
    assert facts["pulmonary_dysfunction"] is True
    assert answers["escort_overnight"] == "not_sure"
    assert [a.actor for a in audit] == [f"patient:{patient['reference']}"]
    assert "You sent this questionnaire" in client.get(_base(case_id)).text


def test_sending_with_unanswered_questions_lists_them_on_the_review(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    _through(client, case_id, ALL_STEPS[0])
    token = csrf_of(client.get(f"{_base(case_id)}/review").text)
    response = client.post(f"{_base(case_id)}/send", data={"csrf_token": token})
    assert response.status_code == 422
    for field, step in (("blood_thinners_none", "medicines"), ("allergy_latex", "medicines")):
        assert f'id="{field}-error"' in response.text
        assert f'href="{_base(case_id)}/{step}?from=review#{field}"' in response.text


def test_another_patients_steps_are_not_found(portal_factory: Callable[..., TestClient]) -> None:
    first, second = portal_factory(), portal_factory()
    new_patient(first)
    theirs = new_patient(second, name="Other Person", email="other@example.org")
    assert first.get(f"{_base(theirs['case_id'])}/medicines").status_code == 404
    token = csrf_of(first.get("/portal/me").text)
    response = first.post(f"{_base(theirs['case_id'])}/medicines", data={"csrf_token": token, "pain_now": "3"})
    assert response.status_code == 404
    assert "Other Person" not in response.text
    assert second.get(f"{_base(theirs['case_id'])}/nosuchstep").status_code == 404


def test_a_request_without_the_level_leaves_it_unknown_and_staff_see_it_missing(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
    session_factory: sessionmaker[Session],
) -> None:
    client = portal_factory()
    patient = new_patient(client, levels="", levels_unknown="yes")
    nurse = signed_in(Role.NURSE)
    case = nurse.get(f"/api/cases/{patient['case_id']}").json()
    assert case["assessment"]["fractures"] == []
    missing = [g["path"] for g in case["assessment"]["unrecorded"]]
    assert missing[0] == "fractures"
    assert case["unrecorded_facts"][0].startswith("fractured level")
    with UnitOfWork(session_factory) as uow:
        workflow = uow.workflows.get(patient["case_id"])
        assert workflow is not None
        assert workflow.case.facts["level_unknown"] is True
        assert workflow.case.facts["fractures"] == []
    chart = nurse.get(f"/patients/{case['patient_id']}").text
    assert "fractured level (from the imaging report; the patient did not know it)" in chart
    assert "Level not known" in chart
    # the radiologist records the level from the imaging report; it is then no longer missing
    radiologist = signed_in(Role.RADIOLOGIST)
    chart = radiologist.get(f"/patients/{case['patient_id']}").text
    form = rf'id="case-{patient["case_id"]}-level".*?action="/cases/{patient["case_id"]}/facts".*?name="version" value="(\d+)"'
    version = re.search(form, chart, re.S)
    assert version, chart[:3000]
    token = csrf_of(chart)
    response = radiologist.post(
        f"/cases/{patient['case_id']}/facts",
        data={"csrf_token": token, "version": version.group(1), "level": "l2", "cause": "osteoporotic"},
    )
    assert response.status_code == 303, response.text[:2000]
    case = nurse.get(f"/api/cases/{patient['case_id']}").json()
    assert [f["level"] for f in case["assessment"]["fractures"]] == ["L2"]
    assert "fractures" not in [g["path"] for g in case["assessment"]["unrecorded"]]
    # the patient's intake then dates the pain of the level staff recorded
    me = client.get("/portal/me")
    assert me.status_code == 200


def test_the_level_question_has_no_dead_end(portal_factory: Callable[..., TestClient]) -> None:
    client = portal_factory()
    page = client.get("/portal/request").text
    assert 'name="levels_unknown" value="yes"' in page
    assert "year-month-day" not in page
    assert page.count(DATE_HINT) == 2
    neither = client.post("/portal/request", data=request_form(levels=""))
    assert neither.status_code == 422
    assert "or tick &#39;I don&#39;t know&#39;" in neither.text
    both = client.post("/portal/request", data=request_form(levels="L1", levels_unknown="yes"))
    assert both.status_code == 422
    assert 'id="levels-error"' in both.text
    assert 'value="L1"' in both.text


def test_every_page_of_a_case_without_a_level_opens(
    portal_factory: Callable[..., TestClient], signed_in: Callable[[Role], TestClient]
) -> None:
    """A case without a level is a case like another: no page of the patient or of staff breaks on it."""
    client = portal_factory()
    patient = new_patient(client, levels="", levels_unknown="yes")
    case_id = patient["case_id"]
    for path in ("/portal/me", _base(case_id), f"/portal/cases/{case_id}/plan", f"/portal/cases/{case_id}/progress"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    _through(client, case_id, *ALL_STEPS)
    token = csrf_of(client.get(f"{_base(case_id)}/review").text)
    assert client.post(f"{_base(case_id)}/send", data={"csrf_token": token}).status_code == 303
    nurse = signed_in(Role.NURSE)
    patient_id = nurse.get(f"/api/cases/{case_id}").json()["patient_id"]
    for path in (
        "/",
        "/?sort=fracture_age",
        f"/patients/{patient_id}",
        f"/cases/{case_id}/reasons",
        "/calendar",
        f"/patients/{patient_id}/documents/preparation",
    ):
        response = nurse.get(path)
        assert response.status_code < 500, (path, response.text[:500])
    assert nurse.get("/").text.count(patient["reference"]) >= 1


def test_answers_saved_meanwhile_on_another_device_are_not_overwritten_and_what_was_typed_is_kept(
    portal_factory: Callable[..., TestClient],
) -> None:
    client = portal_factory()
    case_id = new_patient(client)["case_id"]
    _through(client, case_id, ALL_STEPS[0])
    version = re.search(r'name="version" value="(\d+)"', client.get(f"{_base(case_id)}/treatment").text)
    assert version
    _through(client, case_id, ALL_STEPS[1])  # the other device continues first
    stale = _post(client, case_id, "treatment", version=version.group(1), tried_weeks="9")
    assert stale.status_code == 409
    assert "changed on another device" in stale.text
    assert re.search(r'name="tried_weeks"[^>]*value="9"', stale.text)  # what was typed here stays in the form
    whole = client.post(
        _base(case_id), data={"csrf_token": csrf_of(stale.text), "version": version.group(1), "tried_weeks": "9"}
    )
    assert whole.status_code == 409
    assert "changed on another device" in whole.text
    kept = client.get(f"{_base(case_id)}/treatment").text
    assert re.search(r'name="tried_weeks"[^>]*value="5"', kept)  # the other device's answer is stored
