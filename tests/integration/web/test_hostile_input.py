"""Hostile input gets a clear 4xx, never a 500: ids past 64 bits, JSON nested without end, bodies too large, and
every error in the shape ``/openapi.json`` documents (decision 0021)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from vertebro.config import Settings
from vertebro.pathway.machine import Role
from vertebro.web.app import create_app

HUGE = str(2**64 + 1)  # past 64 bits: the ids that reached the database driver and gave a 500


def _is_error_out(body: object) -> bool:
    return (
        isinstance(body, dict) and isinstance(body.get("detail"), str) and set(body) <= {"detail", "field", "problems"}
    )


def _is_outcome(body: object) -> bool:
    return isinstance(body, dict) and body.get("resourceType") == "OperationOutcome" and bool(body.get("issue"))


@pytest.mark.parametrize(
    "path",
    [f"/api/cases/{HUGE}", f"/api/cases/{HUGE}/actions/start_screening", "/api/cases/0"],
)
def test_api_ids_past_64_bits_are_422_with_the_error_model(signed_in: Callable[[Role], TestClient], path: str) -> None:
    client = signed_in(Role.NURSE)
    response = client.get(path) if "actions" not in path else client.post(path, json={}, headers={"If-Match": '"1"'})
    assert response.status_code == 422, response.text
    body = response.json()
    assert _is_error_out(body)
    assert body["problems"][0]["field"] == "case_id"


def test_a_version_past_64_bits_in_if_match_is_refused_not_a_500(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    case_id = stored_case("HOST-1")
    client = signed_in(Role.NURSE)
    response = client.post(f"/api/cases/{case_id}/actions/start_screening", json={}, headers={"If-Match": HUGE})
    assert response.status_code == 428
    assert _is_error_out(response.json())


def test_a_page_id_past_64_bits_is_422_not_a_500(signed_in: Callable[[Role], TestClient]) -> None:
    client = signed_in(Role.NURSE)
    assert client.get(f"/patients/{HUGE}").status_code == 422
    assert client.get(f"/calendar?case_id={HUGE}").status_code == 422


@pytest.mark.parametrize(
    "path",
    [f"/fhir/Patient/{HUGE}", f"/fhir/Patient/{HUGE}/$everything", f"/fhir/Patient/{HUGE}/_history"],
)
def test_fhir_ids_past_64_bits_do_not_exist(signed_in: Callable[[Role], TestClient], path: str) -> None:
    response = signed_in(Role.NURSE).get(path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert _is_outcome(response.json())


def test_a_fhir_search_for_a_patient_past_64_bits_is_refused(signed_in: Callable[[Role], TestClient]) -> None:
    response = signed_in(Role.NURSE).get(f"/fhir/Observation?patient={HUGE}")
    assert response.status_code == 400, response.text  # a FHIR search error is 400 (decision 0025)
    assert _is_outcome(response.json())
    assert signed_in(Role.NURSE).get(f"/fhir/Patient?_after={HUGE}").status_code == 400


def test_100000_nested_brackets_to_cds_hooks_are_400(client: TestClient) -> None:
    """The unauthenticated CDS Hooks endpoint answered this with a RecursionError (500)."""
    response = client.post(
        "/cds-services/vertebro-patient-view", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert _is_error_out(body)
    assert "nested more than 64 levels" in body["detail"]


def test_deep_json_to_fhir_is_an_operation_outcome(signed_in: Callable[[Role], TestClient]) -> None:
    response = signed_in(Role.NURSE).post(
        "/fhir", content=b'{"a":' * 200 + b"1" + b"}" * 200, headers={"content-type": "application/fhir+json"}
    )
    assert response.status_code == 400
    assert _is_outcome(response.json())


def test_a_body_over_the_limit_is_413_before_it_is_read(client: TestClient) -> None:
    """Declared too large: refused from Content-Length, whoever sends it (no session needed to be refused)."""
    response = client.post("/api/token", content=b"x" * (1_048_576 + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _is_error_out(response.json())


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    """Without Content-Length the bytes are counted as they arrive; nothing past the limit is kept."""

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65_536

    response = client.post("/cds-services/vertebro-patient-view", content=chunks())
    assert response.status_code == 413
    assert _is_error_out(response.json())


def test_fhir_transactions_have_the_larger_limit(signed_in: Callable[[Role], TestClient]) -> None:
    """A 2 MB transaction Bundle passes the size check (and is judged as a Bundle); a 2 MB resource does not."""
    padding = "x" * 2_000_000
    bundle = ('{"resourceType":"Bundle","type":"transaction","id":"' + padding + '","entry":[]}').encode()
    client = signed_in(Role.NURSE)
    transaction = client.post("/fhir", content=bundle, headers={"content-type": "application/fhir+json"})
    assert transaction.status_code != 413
    single = client.post("/fhir/Patient", content=bundle, headers={"content-type": "application/fhir+json"})
    assert single.status_code == 413
    assert _is_outcome(single.json())


def test_the_limits_are_settings(
    monkeypatch: pytest.MonkeyPatch, db_url: str, session_factory: sessionmaker[Session]
) -> None:
    monkeypatch.setenv("VERTEBRO_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("VERTEBRO_MAX_JSON_DEPTH", "8")
    settings = Settings(database_url=db_url, secure_cookies=False)
    assert (settings.max_body_bytes, settings.max_json_depth) == (2048, 8)
    app = create_app(settings)
    app.state.session_factory = session_factory
    with TestClient(app) as client:
        assert client.post("/api/token", content=b"{}" + b" " * 2048).status_code == 413
        deep = b"[" * 9 + b"]" * 9
        assert client.post("/cds-services/vertebro-patient-view", content=deep).status_code == 400


def test_validation_errors_use_the_error_model(client: TestClient) -> None:
    response = client.post("/api/token", json={"username": "", "password": "x", "code": "1"})
    assert response.status_code == 422
    body = response.json()
    assert _is_error_out(body)
    assert {p["field"] for p in body["problems"]} >= {"username", "code"}


def test_unknown_paths_and_methods_answer_in_the_callers_form(client: TestClient) -> None:
    assert _is_error_out(client.get("/api/nothing-here").json())
    assert _is_outcome(client.get("/fhir/Patient/1/nothing-here").json())
    not_allowed = client.request("OPTIONS", "/login")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "GET, POST"
    metadata = client.post("/fhir/metadata")
    assert metadata.status_code == 405
    assert metadata.headers["allow"] == "GET"
    assert _is_outcome(metadata.json())
    history = client.put("/fhir/Patient/_history", json={})
    assert history.status_code == 405
    assert history.headers["allow"] == "GET"
    derived = client.put("/fhir/MedicationStatement/m1", json={})  # read-only type: every 405 says what is allowed
    assert derived.status_code == 405
    assert derived.headers["allow"] == "GET"


def test_openapi_documents_every_error_with_its_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    case = schema["paths"]["/api/cases/{case_id}/actions/{action}"]["post"]["responses"]
    for status in ("401", "403", "404", "409", "412", "413", "422", "428"):
        assert case[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    read = schema["paths"]["/fhir/Patient/{resource_id}"]["get"]["responses"]
    assert read["404"]["content"]["application/fhir+json"]["schema"]["title"] == "OperationOutcome"
    page = schema["paths"]["/patients/{patient_id}"]["get"]["responses"]
    assert "text/html" in page["200"]["content"]
    assert "303" in page
    ids = schema["paths"]["/api/cases/{case_id}"]["get"]["parameters"][0]["schema"]
    assert (ids["minimum"], ids["maximum"]) == (1, 2**53 - 1)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_a_parameter_that_takes_one_value_is_given_once(signed_in: Callable[[Role], TestClient]) -> None:
    """``code=X&code=Y`` means "X and Y" in FHIR; read as ``code=Y`` it would return more than was asked for.
    FHIR searches read repeats as AND (decision 0025); their single-valued parameters (``_count``) are 400."""
    client = signed_in(Role.NURSE)
    repeated = client.get("/fhir/Observation?patient=1&status=final&status=amended")
    assert repeated.status_code == 200
    assert repeated.json()["total"] == 0  # no Observation has both statuses
    twice = client.get("/fhir/Observation?patient=1&_count=1&_count=2")
    assert twice.status_code == 400
    assert _is_outcome(twice.json())
    assert client.get("/api/worklist?q=a&q=b").json()["field"] == "q"
    assert client.get("/fhir/Condition?patient=1&_include=*&_include=Condition:patient").status_code == 200
    assert client.get("/api/worklist?unknown=1&unknown=2").status_code == 200
