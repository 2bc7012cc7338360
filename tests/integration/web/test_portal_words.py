"""The portal gives its words with their letters as written: a sentence starts with a capital and nothing else is
lowered (Jinja's ``capitalize`` lowers every other letter: "38 c (100.4 f)", "Photo id", a support reference with
capitals that no longer matches the log); the error page ends its message with one full stop."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.portal_helpers import new_patient
from tests.integration.web.test_error_pages import BROWSER, _failing
from tests.integration.web.test_portal_path import _send_intake, _staff_books
from vertebro.pathway.machine import Role


def test_the_portal_error_page_keeps_the_messages_letters_and_ends_it_once(client: TestClient) -> None:
    missing = client.get("/portal/no-such-page", headers=BROWSER)
    assert missing.status_code == 404
    assert "There is no page at this address.</p>" in missing.text
    assert "address.." not in missing.text

    failing = _failing(client).get("/portal/boom", headers={**BROWSER, "X-Request-ID": "Support-REF-456"})
    assert failing.status_code == 500
    assert "(reference Support-REF-456)." in failing.text


def test_the_plan_page_keeps_units_and_abbreviations(
    portal_factory: Callable[..., TestClient],
    signed_in: Callable[[Role], TestClient],
) -> None:
    patient = portal_factory()
    case_id = new_patient(patient)["case_id"]
    _send_intake(patient, case_id)
    _staff_books(signed_in, case_id)
    plan = patient.get(f"/portal/cases/{case_id}/plan")
    assert plan.status_code == 200, plan.text[:300]
    assert "Fever of 38 C (100.4 F) or more" in plan.text
    assert "Photo ID and your insurance or health card" in plan.text
