"""Every figure of the outcomes dashboard opens its patients for the service lead, and a draft (unsigned)
procedure is not counted (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.registry.conftest import Treated, add_treated
from vertebro.pathway.machine import Role
from vertebro.store.models import ProcedureRecord


def _cohort(session_factory: sessionmaker[Session]) -> int:
    """Two signed procedures with leaks of both techniques, complications, follow-ups; and one draft."""
    with session_factory() as session:
        add_treated(session, Treated("DD-1", name="Ann Alpha", levels=(("L1", "venous", False),)))
        add_treated(
            session,
            Treated(
                "DD-2",
                name="Bob Beta",
                technique="kyphoplasty",
                operator="dr.b",
                levels=(("L1", "disc", True), ("L2", "none", False)),
                complications=(("cement_embolism", 0, True), ("new_fracture", 30, False)),
                follow_ups={"2w": (2, 30.0, 6), "3m": (2, 28.0, 5)},
            ),
        )
        draft = add_treated(session, Treated("DD-3", name="Dora Draft", operator="dr.d"))
        record = session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == draft)).one()
        record.signed_at = None
        record.signed_by = None
        session.commit()
    return draft


def test_every_drill_down_link_opens_for_the_service_lead(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    _cohort(session_factory)
    lead = signed_in(Role.SERVICE_LEAD)
    board = lead.get("/registry")
    assert board.status_code == 200, board.text
    links = sorted({html.unescape(href) for href in re.findall(r'href="(/registry/patients\?[^"]+)"', board.text)})
    assert any("figure=leak%3Avertebroplasty" in link for link in links), links
    assert any("figure=leak%3Akyphoplasty" in link for link in links), links
    for link in links:
        response = lead.get(link)
        assert response.status_code == 200, (link, response.text[:500])
    leaks = lead.get("/registry/patients", params={"figure": "leak:kyphoplasty"})
    assert "Bob Beta" in leaks.text
    assert "Ann Alpha" not in leaks.text


def test_a_draft_procedure_is_not_counted(
    signed_in: Callable[[Role], TestClient], session_factory: sessionmaker[Session]
) -> None:
    draft = _cohort(session_factory)
    lead = signed_in(Role.SERVICE_LEAD)
    board = lead.get("/registry")
    assert "<strong>2</strong> procedures" in board.text
    everyone = lead.get("/registry/patients", params={"figure": "all"})
    assert "Dora Draft" not in everyone.text
    with session_factory() as session:
        record = session.scalars(select(ProcedureRecord).where(ProcedureRecord.case_id == draft)).one()
        record.signed_by = "dr.d"
        record.signed_at = record.ended_at
        session.commit()
    assert "<strong>3</strong> procedures" in lead.get("/registry").text
    assert "Dora Draft" in lead.get("/registry/patients", params={"figure": "all"}).text
