"""Documents are rendered from the patient's current record: a rename through FHIR shows on the PDF (issue 14)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical import DEFAULT_POLICY, assess, assessment_json
from vertebro.intake.case_file import read_case
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.service import record_assessment

DEMO = Path(__file__).resolve().parents[3] / "src" / "vertebro" / "cli" / "demo_cases"


def _pdf_text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_patient_renamed_through_fhir_gets_documents_with_the_new_name(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    today = dt.date.today()
    case = read_case(DEMO / "01-acute-osteoporotic-l1.yaml")
    case = case.model_copy(update={"procedure_date": today + dt.timedelta(days=14)})
    assessment = assess(case, DEFAULT_POLICY, today)
    with UnitOfWork(session_factory) as uow:
        patient_id = record_assessment(
            uow, case, assessment, assessment_json(assessment), actor="test", source="pytest"
        ).patient_id
        uow.commit()
    client = signed_in(Role.NURSE)
    before = _pdf_text(client.get(f"/patients/{patient_id}/documents/preparation").content)
    assert "Margaret Ellison" in before

    resource = client.get(f"/fhir/Patient/{patient_id}").json()
    resource["name"] = [{"text": "Margaret Renamed-Ellison"}]
    resource["birthDate"] = "1944-02-03"
    etag = f'W/"{resource["meta"]["versionId"]}"'
    updated = client.put(f"/fhir/Patient/{patient_id}", json=resource, headers={"If-Match": etag})
    assert updated.status_code == 200, updated.text

    for kind in ("preparation", "discharge"):
        response = client.get(f"/patients/{patient_id}/documents/{kind}")
        assert response.status_code == 200, response.text
        text = _pdf_text(response.content)
        assert "Margaret Renamed-Ellison" in text, kind
        assert "Margaret Ellison" not in text, kind
