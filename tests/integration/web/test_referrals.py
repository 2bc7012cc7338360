"""Staff register a new referral; mistakes come back next to the field with what was typed."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.conftest import csrf
from vertebro.pathway.machine import Role

GOOD = {
    "identifier": "REF-1",
    "name": "Robin Referral",
    "age": "77",
    "sex": "female",
    "levels": "t12, L1",
    "cause": "osteoporotic",
    "onset_weeks": "3",
    "nrs": "8",
    "concordant": "yes",
}


def test_a_referral_creates_an_assessed_case_in_requested(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.COORDINATOR)
    response = client.post("/referrals", data={**GOOD, "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 303, response.text[:500]
    chart = client.get(response.headers["location"].split("#")[0])
    assert "Robin Referral" in chart.text
    assert "requested" in chart.text
    assert "T12, L1" in chart.text


def test_a_mistake_is_shown_next_to_the_field_and_nothing_typed_is_lost(
    signed_in: Callable[[Role], TestClient],
) -> None:
    client = signed_in(Role.NURSE)
    bad = {**GOOD, "identifier": "REF-2", "levels": "L6", "csrf_token": csrf(client, "/referrals/new")}
    response = client.post("/referrals", data=bad)
    assert response.status_code == 422
    assert "lumbar spine has 5 vertebrae" in response.text
    assert 'value="Robin Referral"' in response.text
    assert 'value="L6"' in response.text


def test_false_is_not_a_pain_score(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.NURSE)
    response = client.post("/referrals", data={**GOOD, "nrs": "false", "csrf_token": csrf(client, "/referrals/new")})
    assert response.status_code == 422
    assert "not a whole number" in response.text


def test_a_known_identifier_is_refused(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("REF-3")
    client = signed_in(Role.COORDINATOR)
    response = client.post(
        "/referrals", data={**GOOD, "identifier": "REF-3", "csrf_token": csrf(client, "/referrals/new")}
    )
    assert response.status_code == 422
    assert "open the chart instead" in response.text
