"""The chart shows the Conditions other systems wrote through /fhir (H133): they are not read into the case, so each
one's standard codes name the case facts it bears on (an active osteomyelitis: active infection), for staff to
check. The Conditions are US Core examples (tests/fixtures/fhir-uscore), written as an EHR writes them."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from vertebro.pathway.machine import Role

USCORE = Path(__file__).resolve().parents[2] / "fixtures" / "fhir-uscore" / "04-conflict-osteomyelitis-cancer.json"


def _section(page: str) -> str:
    found = re.search(r'<section aria-labelledby="sent-conditions-h".*?</section>', page, re.S)
    assert found, "the chart does not show the Conditions sent by other systems"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def test_a_condition_an_ehr_writes_is_on_the_chart_with_the_case_facts_it_bears_on(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int]
) -> None:
    stored_case("SENT-1")
    coordinator = signed_in(Role.COORDINATOR)
    pid = coordinator.get("/fhir/Patient", params={"identifier": "SENT-1"}).json()["entry"][0]["resource"]["id"]
    assert "sent-conditions-h" not in coordinator.get(f"/patients/{pid}").text  # nothing sent: no section
    conditions = {
        e["resource"]["id"]: e["resource"]
        for e in json.loads(USCORE.read_text(encoding="utf-8"))["entry"]
        if e["resource"]["resourceType"] == "Condition"
    }
    written = {}
    for name in ("uc4-om", "uc4-ca", "uc4-ces"):  # active osteomyelitis; resolved breast cancer; refuted deficit
        body = {k: v for k, v in conditions[name].items() if k != "id"} | {"subject": {"reference": f"Patient/{pid}"}}
        created = coordinator.post("/fhir/Condition", json=body, headers={"Content-Type": "application/fhir+json"})
        assert created.status_code == 201, created.text
        written[name] = created.json()["id"]
    page = signed_in(Role.NURSE).get(f"/patients/{pid}")
    assert page.status_code == 200
    section = _section(page.text)
    lines = {
        name: re.search(rf"\(([^;()]*)[^()]*; Condition/{written[name]}\)( bears on: [a-z ,]+)?", section)
        for name in written
    }
    assert all(lines.values()), section
    said = {name: ((m.group(1), (m.group(2) or "").strip()) if m else None) for name, m in lines.items()}
    assert said["uc4-om"] == ("active", "bears on: active infection")
    assert said["uc4-ca"] == ("resolved", "bears on: cancer history")  # a history of cancer: any clinical status
    assert said["uc4-ces"] == ("active", "")  # refuted: bears on nothing
