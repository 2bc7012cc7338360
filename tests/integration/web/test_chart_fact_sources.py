"""The chart shows where each fact of a case read from FHIR came from (issue 13 item 3, decision 0031): the resource
(type/id), its code and element, what was not recorded, what was ignored and why; a fact changed on the chart since
is shown as changed, never as still what the resource said (hazard H90). Through the route, as staff read it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.web.journey import form
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.intake.fhir_bundle import fracture_of, read_resources
from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Case, CaseFactSources

USCORE = Path(__file__).resolve().parents[2] / "fixtures" / "fhir-uscore"


def _import(session_factory: sessionmaker[Session], name: str, identifier: str) -> tuple[int, int]:
    bundle = json.loads((USCORE / name).read_text(encoding="utf-8"))
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, list(bundle_entries(bundle)), reader=read_resources, actor="t", source="t", fracture=fracture_of
        )
        uow.commit()
        assert summary.rejected == []
        patient = uow.patients.get_by_identifier(identifier)
        assert patient is not None
        case_id = uow.session.scalars(select(Case.id).where(Case.patient_id == patient.id)).one()
        return patient.id, case_id


def _section(page: str, case_id: int) -> str:
    found = re.search(rf'<section id="case-{case_id}-sources".*?</section>', page, re.S)
    assert found, "the chart has no sources section for the case"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(0)))


def test_each_fact_shows_its_resource_and_code_and_what_was_ignored(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient_id, case_id = _import(session_factory, "03-bacteraemia-l2-inpatient.json", "MRN-uc3")
    nurse = signed_in(Role.NURSE)
    page = nurse.get(f"/patients/{patient_id}")
    assert page.status_code == 200
    section = " ".join(_section(page.text, case_id).split())
    assert "Where the facts came from" in section
    # the infection, from both records that say it, each with its code
    assert "red_flags.active_infection yes Observation/uc3-cult (positive blood culture) + Condition/uc3-bact.code" in (
        section
    )
    assert "LOINC 600-7 ICD-10-CM R78.81" in section
    assert "fractures[0].level L2 Condition/uc3-fx.code ICD-10-CM S32.020A" in section
    assert "patient.hospitalized yes Encounter/uc3-enc.class ActCode IMP" in section
    assert "red_flags.fever yes Observation/uc3-temp.valueQuantity (38.5 Cel, the latest) LOINC 8310-5" in section
    # unknown stays unknown, listed as not recorded
    assert 'Not recorded (unknown, never "no"): red_flags.cancer_history, neurological_deficit' in section
    assert "changed on the chart" not in section
    # the read is audited like any chart read
    with UnitOfWork(session_factory) as uow:
        reads = [e for e in uow.audit.entries(actor="t.nurse") if e.action == "read" and e.patient_id == patient_id]
    assert reads


def test_ignored_records_are_listed_with_the_reason(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient_id, case_id = _import(session_factory, "01-osteoporotic-l1-warfarin.json", "MRN-uc1")
    section = " ".join(_section(signed_in(Role.RADIOLOGIST).get(f"/patients/{patient_id}").text, case_id).split())
    assert "Observation/uc1-plt-old: status entered-in-error" in section
    assert "Observation/uc1-pain-old: pain.nrs: superseded by the later Observation/uc1-pain-new" in section
    assert "MedicationRequest/uc1-rx-old: status stopped: not taken now" in section
    # a medicine sent by reference: both resources, the Medication with its RxNorm code
    assert "MedicationRequest/uc1-rx <- Medication/uc1-warfarin.code (RxNorm) no code RxNorm 855332" in section
    assert "allergies reviewed: none AllergyIntolerance/uc1-nka.code SNOMED CT 716186003" in section


def test_a_fact_changed_on_the_chart_is_shown_as_changed(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient_id, case_id = _import(session_factory, "01-osteoporotic-l1-warfarin.json", "MRN-uc1")
    nurse = signed_in(Role.NURSE)
    saved = form(nurse, case_id, f"/cases/{case_id}/safety-facts", {"fever": "yes"})
    assert saved.status_code in (200, 303), saved.text[:500]
    section = " ".join(_section(nurse.get(f"/patients/{patient_id}").text, case_id).split())
    assert "red_flags.fever no changed on the chart since: now yes Observation/uc1-temp.valueQuantity" in section
    assert "1 changed on the chart since" in section


def test_a_case_imported_before_sources_were_kept_says_they_are_not_known(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    patient_id, case_id = _import(session_factory, "02-pregnant-t9.json", "MRN-uc2")
    with UnitOfWork(session_factory) as uow:  # as a case imported before migration 7a0d1e2f0460 is
        uow.session.delete(uow.session.get(CaseFactSources, case_id))
        uow.commit()
    section = _section(signed_in(Role.NURSE).get(f"/patients/{patient_id}").text, case_id)
    assert "the source of each fact is not known" in " ".join(section.split())


def test_a_case_entered_by_staff_has_no_sources_section(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = stored_case("FS-1")
    with UnitOfWork(session_factory) as uow:
        patient_id = uow.session.get(Case, case_id).patient_id  # type: ignore[union-attr]
    page = signed_in(Role.NURSE).get(f"/patients/{patient_id}")
    assert f'id="case-{case_id}-sources"' not in page.text
