"""Bulk Data $export as the IG (2.0.0) asks: POST kick-off with Parameters, unsupported parameters refused under
``Prefer: handling=strict``, an HTTP-date Expires on the manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vertebro.config import Settings
from vertebro.pathway.machine import Role

ASYNC = {"Prefer": "respond-async"}
STRICT = {"Prefer": "respond-async, handling=strict"}


@pytest.fixture
def exporter(signed_in: Callable[[Role], TestClient], db_url: str, tmp_path: Path) -> TestClient:
    """A signed-in nurse on an app that writes export files into a temporary folder."""
    client = signed_in(Role.NURSE)
    client.app.state.settings = Settings(database_url=db_url, secure_cookies=False, export_dir=tmp_path)  # type: ignore[attr-defined]
    return client


def test_post_kick_off_with_parameters_and_an_http_date_expires(
    exporter: TestClient, stored_case: Callable[..., int]
) -> None:
    stored_case("BX-1")
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "_type", "valueString": "Patient"}, {"name": "_type", "valueString": "Condition"}],
    }
    kick_off = exporter.post("/fhir/$export", json=body, headers=ASYNC)
    assert kick_off.status_code == 202, kick_off.text
    status = exporter.get(kick_off.headers["content-location"])
    assert status.status_code == 200, status.text
    assert {o["type"] for o in status.json()["output"]} == {"Patient", "Condition"}
    expires = parsedate_to_datetime(status.headers["expires"])
    assert expires > dt.datetime.now(dt.UTC)
    group = exporter.post("/fhir/Group/state-closed/$export", json={"resourceType": "Parameters"}, headers=ASYNC)
    assert group.status_code == 202, group.text


def test_unsupported_export_parameters_are_refused_when_strict(exporter: TestClient) -> None:
    for query in (
        "_typeFilter=Observation%3Fstatus%3Dfinal",
        "_elements=id",
        "includeAssociatedData=LatestProvenanceResources",
    ):
        refused = exporter.get(f"/fhir/$export?{query}", headers=STRICT)
        assert refused.status_code == 400, refused.text
        assert refused.json()["resourceType"] == "OperationOutcome"
        assert exporter.get(f"/fhir/$export?{query}", headers=ASYNC).status_code == 202
    body = {"resourceType": "Parameters", "parameter": [{"name": "_typeFilter", "valueString": "Patient?gender=male"}]}
    assert exporter.post("/fhir/$export", json=body, headers=STRICT).status_code == 400
    one = {
        "resourceType": "Parameters",
        "parameter": [{"name": "patient", "valueReference": {"reference": "Patient/1"}}],
    }
    refused = exporter.post("/fhir/Patient/$export", json=one, headers=ASYNC)
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["diagnostics"].startswith("the patient parameter is not supported")


def test_ignored_parameters_are_named_in_the_manifest(exporter: TestClient, stored_case: Callable[..., int]) -> None:
    """Bulk Data IG 2.0.0 (complete status): a server that processed a request with parameters it does not support
    says so in the manifest's ``error`` files, one OperationOutcome per parameter; a request it used whole has none."""
    stored_case("BX-2")
    kick_off = exporter.get(
        "/fhir/$export?_type=Patient&_elements=id&_typeFilter=Patient%3Fgender%3Dmale", headers=ASYNC
    )
    assert kick_off.status_code == 202, kick_off.text
    manifest = exporter.get(kick_off.headers["content-location"]).json()
    assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
    errors = exporter.get(manifest["error"][0]["url"])
    assert errors.status_code == 200
    assert errors.headers["content-type"].startswith("application/fhir+ndjson")
    outcomes = [json.loads(line) for line in errors.text.splitlines()]
    assert [o["issue"][0]["expression"] for o in outcomes] == [["_elements"], ["_typeFilter"]]
    assert all(o["issue"][0]["code"] == "not-supported" for o in outcomes)
    body = {"resourceType": "Parameters", "parameter": [{"name": "includeAssociatedData", "valueCode": "_all"}]}
    posted = exporter.post("/fhir/Patient/$export", json=body, headers=ASYNC)
    named = exporter.get(exporter.get(posted.headers["content-location"]).json()["error"][0]["url"]).text
    assert "includeAssociatedData was ignored" in named
    whole = exporter.get("/fhir/$export?_type=Patient", headers=ASYNC)
    plain = exporter.get(whole.headers["content-location"]).json()
    assert plain["error"] == []
    job = whole.headers["content-location"].rsplit("/", 1)[1]
    assert exporter.get(f"/fhir/$export-file/{job}/OperationOutcome.ndjson").status_code == 404


def test_a_misspelt_or_unknown_parameter_is_never_silently_dropped(exporter: TestClient) -> None:
    # A client that misspells _since must not get the whole record without being told: refused under
    # handling=strict, else named as ignored in the manifest (Bulk Data IG 2.0.0 "Query Parameters").
    typo = "/fhir/$export?_type=Patient&_sinse=2026-01-01T00:00:00Z"
    refused = exporter.get(typo, headers=STRICT)
    assert refused.status_code == 400, refused.text
    assert refused.json()["issue"][0]["expression"] == ["_sinse"]
    body = {"resourceType": "Parameters", "parameter": [{"name": "_sinse", "valueInstant": "2026-01-01T00:00:00Z"}]}
    assert exporter.post("/fhir/$export", json=body, headers=STRICT).status_code == 400
    lenient = exporter.get(typo, headers=ASYNC)
    assert lenient.status_code == 202, lenient.text
    manifest = exporter.get(lenient.headers["content-location"]).json()
    assert "_sinse was ignored" in exporter.get(manifest["error"][0]["url"]).text


def test_a_parameter_value_of_the_wrong_type_is_refused_naming_it(exporter: TestClient) -> None:
    # _type as an integer (or _since without a value) used to be dropped: the export then held every type.
    for parameter in ({"name": "_type", "valueInteger": 3}, {"name": "_since"}):
        body = {
            "resourceType": "Parameters",
            "parameter": [{"name": "_outputFormat", "valueString": "ndjson"}, parameter],
        }
        refused = exporter.post("/fhir/$export", json=body, headers=ASYNC)
        assert refused.status_code == 400, refused.text
        assert refused.json()["issue"][0]["expression"] == ["Parameters.parameter[1].value[x]"]
