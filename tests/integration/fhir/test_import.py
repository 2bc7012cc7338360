"""Import: a bad resource rejects its patient whole and leaves the others; a re-import matches, adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.test_case_mapping import DEMO, _resources
from tests.unit.fhir.validation import problems
from vertebro.fhir.bulk import export_ndjson
from vertebro.fhir.importer import bundle_entries, import_resources, read_resources
from vertebro.fhir.record import record_resources
from vertebro.fhir.repository import FhirRepository
from vertebro.intake.fhir_bundle import case_from_resources, fracture_of
from vertebro.pathway.machine import Role
from vertebro.store import migrate
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory
from vertebro.store.workflow import Actor


def _bundle(path: Path, identifier: str) -> dict[str, object]:
    resources = _resources(path)
    resources[0]["identifier"] = [{"value": identifier}]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_a_bad_resource_never_leaves_half_a_patient(session_factory: sessionmaker[Session]) -> None:
    good = _bundle(DEMO[0], "IMP-GOOD")
    bad = _bundle(DEMO[1], "IMP-BAD")
    pain = next(
        e["resource"]
        for e in bad["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "72514-3"
    )  # type: ignore[index, union-attr]
    pain["valueInteger"] = 42  # not a 0-10 score
    with UnitOfWork(session_factory) as uow:
        first = import_resources(uow, list(bundle_entries(good)), reader=case_from_resources, actor="test", source="t")
        summary = import_resources(uow, list(bundle_entries(bad)), reader=case_from_resources, actor="test", source="t")
        uow.commit()
        assert first.created == ["Patient/7"]
        assert summary.created == []
        assert len(summary.rejected) == 1
        _key, reason = summary.rejected[0]
        assert "Observation/c3-72514-3.valueInteger (pain.nrs)" in reason
        assert uow.patients.get_by_identifier("IMP-GOOD") is not None
        assert uow.patients.get_by_identifier("IMP-BAD") is None
        assert uow.audit.entries(actor="test", entity_type="patient", action="create")

    with UnitOfWork(session_factory) as uow:
        again = import_resources(uow, list(bundle_entries(good)), reader=case_from_resources, actor="t", source="t")
        assert again.matched == ["Patient/7"]
        assert again.cases == 0


SYNTHEA = Path(__file__).resolve().parents[2] / "fixtures" / "fhir-examples" / "synthea"


def test_synthea_patients_arrive_with_their_osteoporosis_and_pathological_fracture(
    session_factory: sessionmaker[Session],
) -> None:
    entries = list(read_resources(SYNTHEA))
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, entries, reader=case_from_resources, actor="test", source="t", fracture=fracture_of
        )
        uow.commit()
    # Nona Kris's record says she died (deceasedDateTime 1996): she is refused with the reason, never put on the
    # waiting list without it (H134); everyone else arrives.
    nona = json.loads(next(SYNTHEA.glob("Nona_Kris_*.json")).read_text(encoding="utf-8"))
    (nona_key,) = [e["fullUrl"] for e in nona["entry"] if e["resource"]["resourceType"] == "Patient"]
    ((refused, reason),) = summary.rejected
    assert refused == nona_key
    assert reason.startswith("Patient.deceasedDateTime: vertebro does not record a death"), reason
    assert summary.conditions > 0
    with UnitOfWork(session_factory) as uow:
        repository = FhirRepository(uow.session)
        by_name: dict[str, set[str]] = {}
        for record in repository.records(repository.search_patients(limit=1000)):
            resources = record_resources(record)
            for resource in resources:
                assert problems(resource) == [], resource["id"]
            by_name[record.patient.name or ""] = {
                c["code"] for r in resources if r["resourceType"] == "Condition" for c in r["code"]["coding"]
            }
    with_both = {name for name, codes in by_name.items() if {"64859006", "443165006"} <= codes}
    assert {name.split()[0].rstrip("0123456789") for name in with_both} == {"Lonnie"}
    assert not any(name.startswith("Nona") for name in by_name)  # nothing of the refused patient is stored

    with UnitOfWork(session_factory) as uow:
        again = import_resources(
            uow, entries, reader=case_from_resources, actor="test", source="t", fracture=fracture_of
        )
    assert again.conditions == 0  # matched, not doubled
    assert len(again.matched) == len(summary.created)


def test_stored_resources_come_back_with_their_ids(
    session_factory: sessionmaker[Session], empty_db_url: str, tmp_path: Path
) -> None:
    with UnitOfWork(session_factory) as uow:
        summary = import_resources(
            uow, list(read_resources(SYNTHEA)), reader=case_from_resources, actor="t", source="t", fracture=fracture_of
        )
        uow.commit()
        assert summary.conditions > 0
        export_ndjson(uow, Actor("t", Role.SERVICE_LEAD), tmp_path / "out", types=frozenset({"Patient", "Condition"}))
        repository = FhirRepository(uow.session)
        before = {
            r["id"]: _without_meta(r)
            for record in repository.records(repository.search_patients(limit=1000))
            for r in record_resources(record)
            if r["resourceType"] == "Condition"
        }
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            again = import_resources(
                uow, list(read_resources(tmp_path / "out")), reader=case_from_resources, actor="t", source="t"
            )
            uow.commit()
            assert again.rejected == []
            repository = FhirRepository(uow.session)
            after = {
                r["id"]: _without_meta(r)
                for record in repository.records(repository.search_patients(limit=1000))
                for r in record_resources(record)
                if r["resourceType"] == "Condition"
            }
    finally:
        engine.dispose()
    assert set(after) == set(before)  # the same ids
    patient_ids = {r["subject"]["reference"] for r in after.values()}
    assert len(patient_ids) == len({r["subject"]["reference"] for r in before.values()})
    assert [_without_subject(r) for _, r in sorted(after.items())] == [
        _without_subject(r) for _, r in sorted(before.items())
    ]


def _without_meta(resource: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in resource.items() if k != "meta"}


def _without_subject(resource: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in resource.items() if k != "subject"}  # patient ids differ between databases


def _patient_entries(path: Path, identifier: str, number: int) -> list[tuple[str, dict[str, object]]]:
    """The resources of one demo case as an import's entries, for Patient/<number>."""
    resources = _resources(path)
    for resource in resources:
        for element in ("subject", "patient"):
            if element in resource:
                resource[element] = {"reference": f"Patient/{number}"}
    resources[0]["id"] = str(number)
    resources[0]["identifier"] = [{"value": identifier}]
    return list(bundle_entries({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}))


def test_patients_stored_together_get_the_rows_and_audit_of_one_by_one_storage(
    session_factory: sessionmaker[Session],
) -> None:
    """New patients are stored many at a time; a bad one among them is rejected whole, a known one is matched,
    ids follow the import order and each patient has the audit entries of one-by-one storage."""
    known = _patient_entries(DEMO[2], "BULK-KNOWN", 3)
    bad = _patient_entries(DEMO[1], "BULK-BAD", 2)
    for _, resource in bad:
        if resource.get("valueInteger") is not None and resource["id"] == "c3-72514-3":
            resource["valueInteger"] = 42
    entries = [*_patient_entries(DEMO[0], "BULK-A", 1), *bad, *known, *_patient_entries(DEMO[3], "BULK-C", 4)]
    with UnitOfWork(session_factory) as uow:
        import_resources(uow, known, reader=case_from_resources, actor="first", source="t")
        summary = import_resources(uow, entries, reader=case_from_resources, actor="bulk", source="t")
        uow.commit()
        assert summary.created == ["Patient/1", "Patient/4"]
        assert summary.matched == ["Patient/3"]
        assert [key for key, _ in summary.rejected] == ["Patient/2"]
        assert "valueInteger (pain.nrs)" in summary.rejected[0][1]
        assert uow.patients.get_by_identifier("BULK-BAD") is None
        first, last = uow.patients.get_by_identifier("BULK-A"), uow.patients.get_by_identifier("BULK-C")
        assert first is not None
        assert last is not None
        assert first.id < last.id
        for patient in (first, last):
            entries_of = [
                (e.action, e.entity_type, e.detail)
                for e in uow.audit.entries(patient_id=patient.id, actor="bulk")
                if e.action != "read"
            ]
            (case,) = uow.cases.list_for_patient(patient.id)
            (assessment,) = uow.assessments.list_for_case(case.id)
            assert entries_of == [
                ("create", "patient", {}),
                ("create", "case", {"fracture_count": len(case.fractures)}),
                ("create", "assessment", {"case_id": case.id, "ruleset_version": assessment.ruleset_version}),
            ]
            assert uow.workflows.get(case.id) is not None
