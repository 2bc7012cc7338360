"""The chart's "Why" panel: each profile's reasons and the sources, loaded on demand and audited as a read."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vertebro.pathway.machine import Role
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry


def _reads(session_factory: sessionmaker[Session], case_id: int) -> int:
    with UnitOfWork(session_factory) as uow:
        rows = uow.session.scalars(
            select(AuditEntry.id).where(
                AuditEntry.action == "read", AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case_id)
            )
        )
        return len(list(rows))


def test_the_chart_links_the_reasons_and_the_panel_lists_every_profile_and_source(
    signed_in: Callable[[Role], TestClient], stored_case: Callable[..., int], session_factory: sessionmaker[Session]
) -> None:
    case_id = stored_case("WHY-1")
    nurse = signed_in(Role.NURSE)
    api = nurse.get(f"/api/cases/{case_id}").json()
    patient_id = api["patient_id"]

    chart = nurse.get(f"/patients/{patient_id}")
    assert chart.status_code == 200
    assert f'hx-get="/cases/{case_id}/reasons"' in chart.text
    assert f'href="/cases/{case_id}/reasons"' in chart.text  # works without JavaScript too

    before = _reads(session_factory, case_id)
    fragment = nurse.get(f"/cases/{case_id}/reasons", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # a fragment for the panel, not a page
    for verdict in api["assessment"]["profiles"].values():
        assert verdict["title"] in fragment.text
    for source_id in api["assessment"]["sources"]:
        assert f'id="src-{case_id}-{source_id}"' in fragment.text
    assert _reads(session_factory, case_id) == before + 1

    full = nurse.get(f"/cases/{case_id}/reasons")
    assert full.status_code == 200
    assert "<html" in full.text
    assert f"/patients/{patient_id}#case-{case_id}" in full.text


def test_the_reasons_of_a_case_that_does_not_exist_are_404(signed_in: Callable[[Role], TestClient]) -> None:
    assert signed_in(Role.RADIOLOGIST).get("/cases/999999/reasons").status_code == 404
