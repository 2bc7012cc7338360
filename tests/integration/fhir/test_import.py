"""Import: a bad resource rejects its patient whole and leaves the others; a re-import matches, adds nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tests.unit.fhir.test_case_mapping import DEMO, _resources
from vertebro.fhir.importer import bundle_entries, import_resources
from vertebro.intake.fhir_bundle import case_from_resources
from vertebro.store.db import UnitOfWork


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
