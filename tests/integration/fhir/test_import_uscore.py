"""Import of US Core style patients: prescriptions are imported, every ignored resource is counted by type and
reason, a Condition status outside its required binding is refused as POST /fhir/Condition refuses it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from vertebro.fhir.codes import system
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.fhir.repository import FhirRepository, PatientQuery
from vertebro.intake.fhir_bundle import fracture_of, read_resources
from vertebro.store.db import UnitOfWork

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir-uscore"


def _bundle(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def test_a_prescription_is_imported_and_what_is_ignored_is_counted(session_factory: sessionmaker[Session]) -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, list(bundle_entries(bundle)), reader=read_resources, actor="t", source="t", fracture=fracture_of
        )
        uow.commit()
        assert summary.rejected == []
        assert summary.cases == 1
        assert summary.conditions == 1  # the hypertension, kept on the record
        patient = uow.patients.get_by_identifier("MRN-uc1")
        assert patient is not None
        facts = FhirRepository(uow.session).facts_of_patient(patient.id)
    assert [m["name"] for m in facts[0]["medications"]] == ["warfarin (Coumadin 5 mg tablet)"]
    assert facts[0]["red_flags"]["active_infection"] is None  # not recorded, never "no"
    assert summary.skipped == {
        "Observation: status entered-in-error": 1,
        "Observation: code not read by vertebro (see docs/fhir-intake.md)": 1,
        "Observation: pain.nrs: superseded by the later Observation/uc1-pain-new": 1,
        "Condition: not a fracture and no fact vertebro reads (kept on import)": 1,
        "MedicationRequest: status stopped: not taken now": 1,
    }


def test_the_bacteraemic_patient_is_imported_with_the_infection(session_factory: sessionmaker[Session]) -> None:
    bundle = _bundle("03-bacteraemia-l2-inpatient.json")
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, list(bundle_entries(bundle)), reader=read_resources, actor="t", source="t", fracture=fracture_of
        )
        uow.commit()
        assert summary.rejected == []
        patient = uow.patients.get_by_identifier("MRN-uc3")
        assert patient is not None
        facts = FhirRepository(uow.session).facts_of_patient(patient.id)
    assert facts[0]["red_flags"]["active_infection"] is True  # the bacteraemia Condition is read, and stored
    assert facts[0]["patient"]["hospitalized"] is True


def test_a_condition_status_outside_its_binding_is_refused_on_import(session_factory: sessionmaker[Session]) -> None:
    bundle = _bundle("01-osteoporotic-l1-warfarin.json")
    htn = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "uc1-htn")
    htn["clinicalStatus"]["coding"][0]["code"] = "bogus"
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, list(bundle_entries(bundle)), reader=read_resources, actor="t", source="t", fracture=fracture_of
        )
        assert summary.created == []
        assert "Condition/uc1-htn.clinicalStatus: 'bogus'" in summary.rejected[0][1]
        assert uow.patients.get_by_identifier("MRN-uc1") is None


def test_imported_patients_keep_the_ehrs_identifier_system(session_factory: sessionmaker[Session]) -> None:
    # The EHR finds its patients by identifier=system|value (and a SMART launch matches its MRN system): a
    # patient imported with a case was stored under vertebro's own system, so the EHR's MRN search found nobody.
    entries = [e for name in sorted(p.name for p in FIXTURES.glob("*.json")) for e in bundle_entries(_bundle(name))]
    # the pregnant patient without her other Conditions goes the bulk way (nothing to keep beside her case)
    entries = [
        (key, r)
        for key, r in entries
        if not (r["resourceType"] == "Condition" and r["id"].startswith("uc2") and fracture_of(r) is None)
    ]
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(uow, entries, reader=read_resources, actor="t", source="t", fracture=fracture_of)
        uow.commit()
        assert summary.rejected == []
        assert summary.cases == 4
        assert summary.conditions == 5  # uc1, uc3 and uc4 kept Conditions (one by one); uc2 went the bulk way
        repository = FhirRepository(uow.session)
        for n in range(1, 5):
            query = PatientQuery(identifiers=[[("http://hospital.example.org/mrn", f"MRN-uc{n}")]])
            assert len(repository.find_patients(query, own_system=system("identifier-patient"))) == 1, n
