"""The outcomes dashboard in the staff app: who sees what, the figures' n, the patients behind them, audit."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.registry.conftest import Treated, add_treated
from vertebro.pathway.machine import Role
from vertebro.store.models import AuditEntry


def _cohort(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        add_treated(session, Treated("WEB-1", name="Ann Alpha", follow_ups={"2w": (3, 40.0, 10)}))
        add_treated(
            session,
            Treated(
                "WEB-2",
                name="Bob Beta",
                technique="kyphoplasty",
                operator="dr.b",
                complications=(("cement_embolism", 0, True),),
            ),
        )
        session.commit()


def test_service_lead_sees_figures_and_patients(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _cohort(session_factory)
    lead = signed_in(Role.SERVICE_LEAD)
    page = lead.get("/registry")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<strong>2</strong> procedures" in text
    assert text.count('class="chart"') == 8  # 3 courses, responders, rates, funnel, waiting time, fracture age
    assert "54.7 %" in text  # the leakage meta-analysis beside our rate
    assert "[unverified source]" in text  # the new-fracture series has no named primary source
    assert "/registry/patients?figure=embolism" in text
    assert re.search(r"WEB-2</a></td><td>Bob Beta</td><td>3 months", text)  # on the overdue list
    patients = lead.get("/registry/patients", params={"figure": "embolism"})
    assert patients.status_code == 200
    assert "Bob Beta" in patients.text
    assert "Ann Alpha" not in patients.text
    filtered = lead.get("/registry", params={"technique": "kyphoplasty"})
    assert "<strong>1</strong> procedure in this cohort" in filtered.text  # one: the singular
    with session_factory() as session:
        views = [
            e.detail.get("view")
            for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "t.service-lead"))
            if e.action == "read"
        ]
    assert "registry_patients" in views
    assert "dashboard" in views


def test_admin_sees_aggregates_without_patients(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _cohort(session_factory)
    admin = signed_in(Role.ADMIN)
    page = admin.get("/registry")
    assert page.status_code == 200
    assert "<strong>2</strong> procedures" in page.text
    assert "/registry/patients" not in page.text
    assert "Ann Alpha" not in page.text
    assert "WEB-1" not in page.text
    assert admin.get("/registry/patients", params={"figure": "all"}).status_code == 403


def test_unknown_filter_values_are_refused_by_name(signed_in: Callable[[Role], TestClient]) -> None:
    lead = signed_in(Role.SERVICE_LEAD)
    response = lead.get("/registry", params={"cause": "alien"})
    assert response.status_code == 422
    assert re.search(r"unknown cause (&#39;|')alien", response.text)
    response = lead.get("/registry/patients", params={"figure": "nonsense"})
    assert response.status_code == 422
    assert "unknown figure" in response.text
