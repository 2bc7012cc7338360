"""The registry on a small cohort whose figures were computed by hand (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.registry.conftest import TODAY, Treated
from vertebro.clinical.outcomes import nrs_change
from vertebro.pathway.machine import Role
from vertebro.registry import repository, service
from vertebro.registry.schemas import Cohort, Dashboard
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AuditEntry, FollowUp, RegistryEntry
from vertebro.store.workflow import Actor

LEAD = Actor("t.lead", Role.SERVICE_LEAD, "pytest")
A = Treated(
    "REG-A",
    onset_weeks=2.0,
    follow_ups={"2w": (3, 40.0, 10), "3m": (2, 30.0, 8), "12m": (1, 20.0, 5)},
)
B = Treated(
    "REG-B",
    onset_weeks=8.0,
    technique="kyphoplasty",
    operator="dr.b",
    levels=(("L1", "venous", False), ("L2", "none", False)),
    nrs=7,
    odi=50.0,
    rdq=12,
    follow_ups={"2w": (6, 45.0, 10), "3m": (4, 38.0, 7)},
    complications=(("new_fracture", 100, False),),
)
C = Treated(
    "REG-C",
    cause="metastasis",
    onset_weeks=20.0,
    levels=(("L1", "epidural", True), ("L2", "none", False), ("L3", "disc", False)),
    nrs=9,
    odi=None,
    rdq=None,
    follow_ups={"2w": (5, None, None)},
    complications=(("cement_embolism", 0, True),),
)
D = Treated(
    "REG-D",
    cause="high_energy_trauma",
    onset_weeks=None,
    requested=dt.date(2026, 9, 1),
    performed=dt.date(2026, 10, 1),
    operator="dr.c",
    verdict="uncertain",
    nrs=6,
    odi=None,
    rdq=None,
)


@pytest.fixture
def cohort_ids(treated: Callable[..., list[int]]) -> dict[str, int]:
    ids = treated(A, B, C, D)
    return dict(zip("ABCD", ids, strict=True))


def _dashboard(session_factory: sessionmaker[Session], cohort: Cohort | None = None) -> Dashboard:
    with UnitOfWork(session_factory) as uow:
        board = service.dashboard(uow, cohort or Cohort(), LEAD, today=TODAY)
        uow.commit()
    return board


def test_entries_are_derived_from_the_source_tables(
    cohort_ids: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    _dashboard(session_factory)
    with session_factory() as session:
        entries = {e.case_id: e for e in session.scalars(select(RegistryEntry))}
    a, b, c, d = (entries[cohort_ids[k]] for k in "ABCD")
    assert (a.wait_days, a.fracture_age_weeks, a.age_band, a.cause_group) == (14, 4.0, "<6w", "osteoporotic")
    assert (b.age_band, b.levels, b.leak_levels, b.technique, b.new_fracture_1y) == ("6w-3m", 2, 1, "kyphoplasty", 1)
    assert (c.cause_group, c.age_band, c.levels, c.leak_levels, c.leak_symptomatic) == ("neoplastic", "older", 3, 2, 1)
    assert (c.complications, c.serious_complications, c.embolism) == (1, 1, 1)
    assert (d.cause_group, d.age_band, d.wait_days, d.verdict) == ("other", "unknown", 30, "uncertain")
    assert (a.nrs_0, a.odi_0, a.rdq_0, a.nrs_2w, a.odi_3m, a.rdq_12m) == (8, 60.0, 18, 3, 30.0, 5)
    assert a.procedure_on == dt.date(2025, 1, 20)
    assert a.done_on_2w == dt.date(2025, 2, 4)
    assert (c.nrs_3m, c.done_on_3m, c.due_until_3m) == (None, None, dt.date(2025, 5, 5))


def test_dashboard_figures_match_hand_computation(
    cohort_ids: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    board = _dashboard(session_factory)
    assert board.procedures == 4
    nrs = next(c for c in board.courses if c.measure == "nrs")
    baseline, w2, m3, m12 = nrs.points
    assert baseline.level.n == 4
    assert baseline.level.mean == pytest.approx(7.5)
    assert baseline.level.sd == pytest.approx(1.29099, abs=1e-4)  # sqrt(5/3)
    assert (w2.level.n, w2.level.mean) == (3, pytest.approx(14 / 3))
    assert w2.change is not None
    assert w2.change.mean == pytest.approx(-10 / 3)
    assert w2.responders is not None
    assert (w2.responders.events, w2.responders.n) == (2, 3)  # A drops 5, C drops 4; B drops 1 (14 %)
    assert m3.responders is not None
    assert (m3.responders.events, m3.responders.n) == (2, 2)
    assert m3.responders.high == 1.0  # the interval behaves at 100 %
    assert m3.responders.low == pytest.approx(2 / (2 + 1.959963984540054**2))
    assert (m12.level.n, m12.level.mean, m12.level.low) == (1, 1.0, None)
    odi = next(c for c in board.courses if c.measure == "odi")
    assert odi.points[0].level.mean == pytest.approx(55.0)  # A 60, B 50; C and D have no ODI
    assert odi.points[2].responders is not None
    assert (odi.points[2].responders.events, odi.points[2].responders.n) == (2, 2)  # drops 30 and 12
    rates = {r.key: r.proportion for r in board.rates}
    assert (rates["complication"].events, rates["complication"].n) == (2, 4)
    assert (rates["serious"].events, rates["embolism"].events, rates["leak_symptomatic"].events) == (1, 1, 1)
    assert (rates["leak:vertebroplasty"].events, rates["leak:vertebroplasty"].n) == (2, 5)
    assert (rates["leak:kyphoplasty"].events, rates["leak:kyphoplasty"].n) == (1, 2)
    assert (rates["new_fracture"].events, rates["new_fracture"].n) == (1, 3)  # D is not a year old yet
    assert (rates["nrs_2w_below4"].events, rates["nrs_2w_below4"].n) == (1, 3)
    assert board.wait.mean == pytest.approx(18.0)
    assert {b.key: b.n for b in board.wait_buckets if b.n} == {"8-14": 3, "29-56": 1}
    assert {b.key: b.n for b in board.age_buckets} == {"<6w": 1, "6w-3m": 1, "older": 1, "unknown": 1}
    completeness = {c.visit: (c.due, c.done, c.overdue) for c in board.completeness}
    assert completeness == {"2w": (4, 3, 1), "3m": (3, 2, 1), "12m": (3, 1, 2)}
    funnel = {p.operator: (p.n, p.events) for p in board.funnel.points}
    assert funnel == {"dr.a": (2, 1), "dr.b": (1, 1), "dr.c": (1, 0)}
    assert board.funnel.overall.share == 0.5


@pytest.mark.parametrize(
    ("cohort", "expected"),
    [
        (Cohort(causes=("neoplastic",)), "C"),
        (Cohort(causes=("osteoporotic", "other")), "ABD"),
        (Cohort(age_bands=("<6w",)), "A"),
        (Cohort(age_bands=("older", "unknown")), "CD"),
        (Cohort(levels=("3+",)), "C"),
        (Cohort(levels=("1",)), "AD"),
        (Cohort(levels=("2",)), "B"),
        (Cohort(techniques=("kyphoplasty",)), "B"),
        (Cohort(operators=("dr.a",)), "AC"),
        (Cohort(verdicts=("uncertain",)), "D"),
        (Cohort(procedure_from=dt.date(2026, 1, 1)), "D"),
        (Cohort(procedure_to=dt.date(2025, 12, 31)), "ABC"),
        (Cohort(procedure_from=dt.date(2025, 1, 20), procedure_to=dt.date(2025, 1, 20), operators=("dr.a",)), "AC"),
    ],
)
def test_cohort_filters(
    cohort: Cohort, expected: str, cohort_ids: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    board = _dashboard(session_factory, cohort)
    assert board.procedures == len(expected)
    with UnitOfWork(session_factory) as uow:
        total, lines = service.figure_patients(uow, cohort, "all", LEAD, today=TODAY)
        uow.commit()
    assert total == len(expected)
    assert {line.case_id for line in lines} == {cohort_ids[k] for k in expected}


def test_a_recorded_follow_up_reaches_the_registry(
    cohort_ids: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    _dashboard(session_factory)
    with session_factory() as session:
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.case_id == cohort_ids["D"], FollowUp.visit == "2w")
        ).one()
        follow_up.nrs = 2
        follow_up.completed_at = dt.datetime(2026, 10, 20, 9, tzinfo=dt.UTC)
        session.commit()
    board = _dashboard(session_factory)
    nrs = next(c for c in board.courses if c.measure == "nrs")
    assert nrs.points[1].level.n == 4
    assert {c.visit: c.overdue for c in board.completeness}["2w"] == 0


def test_patient_lists_are_audited(cohort_ids: dict[str, int], session_factory: sessionmaker[Session]) -> None:
    with UnitOfWork(session_factory) as uow:
        total, lines = service.figure_patients(uow, Cohort(), "complication", LEAD, today=TODAY)
        overdue = service.overdue(uow, Cohort(), LEAD, today=TODAY)
        uow.commit()
    assert total == 2
    assert {line.identifier for line in lines} == {"REG-B", "REG-C"}
    assert [(line.identifier, line.visit) for line in overdue] == [
        ("REG-C", "3m"),
        ("REG-B", "12m"),
        ("REG-C", "12m"),
        ("REG-D", "2w"),
    ]
    with session_factory() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.actor == "t.lead", AuditEntry.action == "read"))
        views = {(e.patient_id, e.detail.get("view")) for e in reads}
    assert {(line.patient_id, "registry_patients") for line in lines} <= views
    assert {(line.patient_id, "registry_overdue") for line in overdue} <= views
    assert len({line.patient_id for line in overdue}) == 3


def test_sql_nrs_responder_equals_the_clinical_rule(session_factory: sessionmaker[Session]) -> None:
    """Rule outcomes.mcid_nrs: "a reduction of at least 2 points or at least 30 % from baseline" — the SQL
    and the clinical core agree on every pair of 0-10 scores."""
    pairs = [(b, f) for b in range(11) for f in range(11)]
    with session_factory() as session:
        columns = [repository.nrs_responder(literal(b), literal(f)) for b, f in pairs]
        row = session.execute(select(*[repository._ones(c) for c in columns])).one()
    assert [bool(v) for v in row] == [nrs_change(b, f).responder for b, f in pairs]


@pytest.mark.parametrize(
    "cohort",
    [
        Cohort(),
        Cohort(techniques=("vertebroplasty",)),
        Cohort(procedure_from=dt.date(2025, 1, 10), procedure_to=dt.date(2026, 10, 15)),
        Cohort(procedure_from=dt.date(2025, 1, 1), procedure_to=dt.date(2025, 1, 31)),
        Cohort(procedure_from=dt.date(2025, 1, 20), procedure_to=dt.date(2025, 1, 20)),
        Cohort(procedure_to=dt.date(2025, 12, 31), levels=("1", "3+")),
        Cohort(operators=("dr.a",), verdicts=("appropriate",)),
    ],
)
@pytest.mark.parametrize("today", [TODAY, dt.date(2025, 2, 10), dt.date(2026, 1, 20), dt.date(2027, 6, 1)])
def test_cells_answer_exactly_as_the_entries(
    cohort: Cohort, today: dt.date, cohort_ids: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    """The materialised aggregate (whole months, settled windows) gives the same sums as the entries for any
    cohort and any date, also after an entry changed (the incremental path)."""
    _dashboard(session_factory)
    with session_factory() as session:
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.case_id == cohort_ids["B"], FollowUp.visit == "12m")
        ).one()
        follow_up.nrs = 3
        follow_up.completed_at = dt.datetime(2026, 1, 15, 9, tzinfo=dt.UTC)
        session.commit()
    with session_factory() as session:
        repository.refresh(session)
        fast = repository.summary(session, cohort, today)
        slow = repository.summary_from_entries(session, cohort, today)
    names = set(fast) | set(slow)
    for technique in names:
        got, expected = fast.get(technique, {}), slow.get(technique, {})
        for name in set(got) | set(expected):
            assert got.get(name, 0.0) == pytest.approx(expected.get(name, 0.0)), (technique, name)
