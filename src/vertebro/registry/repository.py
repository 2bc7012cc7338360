"""Every registry query: the definition of a registry entry, its rebuild, the dashboard aggregates,
the patients behind a figure, and the export stream.

A registry entry is *derived*: ``entry_select`` computes it from the source tables in one SQL
statement (SQLAlchemy Core, the same on SQLite and PostgreSQL). Database triggers queue changed cases
in ``registry_stale``; ``refresh`` rebuilds the queued ones before a read. The dashboard then runs a
handful of aggregate queries over ``registry_entries`` (sums, counts and sums of squares); no query
loads the rows into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    SQLColumnExpression,
    Table,
    and_,
    any_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vertebro.clinical.outcomes import NRS_MCID_PERCENT, NRS_MCID_POINTS, ODI_MCID_POINTS, RDQ_MCID_POINTS
from vertebro.registry.schemas import NEOPLASTIC_CAUSES, OSTEOPOROTIC_CAUSES, TECHNIQUES, VISITS, Cohort
from vertebro.store.models import (
    CELL_DIMENSIONS,
    CELL_MEASURES,
    WAIT_BUCKET_COLUMNS,
    Case,
    CaseWorkflow,
    Complication,
    FollowUp,
    Fracture,
    Patient,
    ProcedureLevel,
    ProcedureRecord,
    RegistryEntry,
    RegistryStale,
    registry_cells,
    registry_month_cells,
)

E = RegistryEntry
Column = SQLColumnExpression[Any]
"""Any column expression (a mapped attribute or a computed one)."""
NEW_FRACTURE_KINDS = ("new_fracture", "adjacent_fracture")
FULL_REBUILD_AT = 5000  # more queued cases than this: rebuild the whole registry in one statement
CHUNK = 500
REFRESH_LOCK = 7_271_001  # PostgreSQL advisory lock serialising rebuilds
WAIT_BUCKETS = (
    ("0-7", "up to 1 week", 0, 7),
    ("8-14", "1-2 weeks", 8, 14),
    ("15-28", "2-4 weeks", 15, 28),
    ("29-56", "4-8 weeks", 29, 56),
    ("57-90", "8-13 weeks", 57, 90),
    ("91+", "over 13 weeks", 91, None),
)


# --- dialect-neutral date arithmetic ----------------------------------------------------------------


def _day_of(dialect: str, timestamp: Column) -> ColumnElement[dt.date]:
    """The calendar date (UTC) of a stored timestamp."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", timestamp), Date)
    return func.date(timestamp, type_=Date)


def _days_between(dialect: str, later: Column, earlier: Column) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(later - earlier, Integer)
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def _plus_days(dialect: str, day: Column, days: int) -> ColumnElement[dt.date]:
    if dialect == "postgresql":
        return cast(day + days, Date)
    return func.date(day, f"+{days} days", type_=Date)


def _json_array_length(dialect: str, column: Column) -> ColumnElement[int]:
    if dialect == "postgresql":
        return func.coalesce(func.jsonb_array_length(column), 0)
    return func.coalesce(func.json_array_length(column), 0)


def _ones(condition: Column) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


# --- the definition of a registry entry ------------------------------------------------------------


def entry_select(dialect: str, case_ids: Select[Any] | Sequence[int] | None = None) -> Select[Any]:
    """Return the SELECT that computes registry entries (all treated cases, or only ``case_ids``).

    One row per case with a signed procedure record: dates, waiting time, cause group, fracture age at
    treatment, levels, technique, operator, the default profile's verdict at the decision, leakage,
    complications, new fractures within a year, baseline scores and the three follow-ups.
    """
    P, C, W = ProcedureRecord, Case, CaseWorkflow

    def only(column: Column) -> list[ColumnElement[bool]]:
        return [] if case_ids is None else [column.in_(case_ids)]

    procedure_on = _day_of(dialect, P.started_at)
    requested_on = _day_of(dialect, C.created_at)

    fractures = (
        select(
            Fracture.case_id.label("case_id"),
            func.max(Fracture.onset_weeks).label("onset_weeks"),
            func.max(_ones(Fracture.cause.in_(NEOPLASTIC_CAUSES))).label("neoplastic"),
            func.max(_ones(Fracture.cause.in_(OSTEOPOROTIC_CAUSES))).label("osteoporotic"),
        )
        .where(*only(Fracture.case_id))
        .group_by(Fracture.case_id)
        .subquery("f")
    )
    levels = (
        select(
            ProcedureLevel.procedure_id.label("procedure_id"),
            func.count().label("levels"),
            func.sum(_ones(ProcedureLevel.leakage != "none")).label("leak_levels"),
            func.sum(_ones(ProcedureLevel.leakage_symptomatic)).label("leak_symptomatic"),
        )
        .join(P, P.id == ProcedureLevel.procedure_id)
        .where(*only(P.case_id))
        .group_by(ProcedureLevel.procedure_id)
        .subquery("l")
    )
    day = _day_of(dialect, P.started_at)
    complications = (
        select(
            Complication.case_id.label("case_id"),
            func.count().label("n"),
            func.sum(_ones(Complication.serious)).label("serious"),
            func.max(_ones(Complication.kind == "cement_embolism")).label("embolism"),
            func.max(
                _ones(
                    and_(
                        Complication.kind.in_(NEW_FRACTURE_KINDS),
                        Complication.occurred_on >= day,
                        Complication.occurred_on <= _plus_days(dialect, day, 365),
                    )
                )
            ).label("new_fracture_1y"),
        )
        .join(P, P.case_id == Complication.case_id)
        .where(*only(Complication.case_id))
        .group_by(Complication.case_id)
        .subquery("x")
    )

    def pivot(visit: str, column: Column, label: str) -> ColumnElement[Any]:
        return func.max(case((FollowUp.visit == visit, column))).label(f"{label}_{visit}")

    follow_columns = []
    for visit in VISITS:
        follow_columns += [
            pivot(visit, FollowUp.due_from, "due_from"),
            pivot(visit, FollowUp.due_until, "due_until"),
            pivot(visit, _day_of(dialect, FollowUp.completed_at), "done_on"),
            pivot(visit, case((FollowUp.completed_at.is_not(None), FollowUp.nrs)), "nrs"),
            pivot(visit, case((FollowUp.completed_at.is_not(None), FollowUp.odi_percent)), "odi"),
            pivot(visit, case((FollowUp.completed_at.is_not(None), FollowUp.rdq)), "rdq"),
        ]
    follow_ups = (
        select(FollowUp.case_id.label("case_id"), *follow_columns)
        .where(*only(FollowUp.case_id))
        .group_by(FollowUp.case_id)
        .subquery("u")
    )

    wait_days = _days_between(dialect, procedure_on, requested_on)
    age_weeks = fractures.c.onset_weeks + wait_days / 7.0
    cause_group = case(
        (fractures.c.neoplastic == 1, literal("neoplastic")),
        (fractures.c.osteoporotic == 1, literal("osteoporotic")),
        else_=literal("other"),
    )
    age_band = case(
        (age_weeks.is_(None), literal("unknown")),
        (age_weeks < 6, literal("<6w")),
        (age_weeks < 13, literal("6w-3m")),
        else_=literal("older"),
    )
    columns: list[ColumnElement[Any]] = [
        P.case_id.label("case_id"),
        C.patient_id.label("patient_id"),
        requested_on.label("requested_on"),
        procedure_on.label("procedure_on"),
        wait_days.label("wait_days"),
        cause_group.label("cause_group"),
        age_weeks.label("fracture_age_weeks"),
        age_band.label("age_band"),
        func.coalesce(levels.c.levels, 0).label("levels"),
        P.technique.label("technique"),
        P.operator.label("operator"),
        W.decision_category.label("verdict"),
        func.coalesce(levels.c.leak_levels, 0).label("leak_levels"),
        func.coalesce(levels.c.leak_symptomatic, 0).label("leak_symptomatic"),
        (func.coalesce(complications.c.n, 0) + _json_array_length(dialect, P.complications)).label("complications"),
        func.coalesce(complications.c.serious, 0).label("serious_complications"),
        func.coalesce(complications.c.embolism, 0).label("embolism"),
        func.coalesce(complications.c.new_fracture_1y, 0).label("new_fracture_1y"),
        C.facts[("pain", "nrs")].as_integer().label("nrs_0"),
        C.facts[("function", "odi_percent")].as_float().label("odi_0"),
        C.facts[("function", "rdq")].as_integer().label("rdq_0"),
        *[follow_ups.c[str(c.key)] for c in follow_columns],
    ]
    return (
        select(*columns)
        .select_from(P)
        .join(C, C.id == P.case_id)
        .outerjoin(W, W.case_id == P.case_id)
        .outerjoin(fractures, fractures.c.case_id == P.case_id)
        .outerjoin(levels, levels.c.procedure_id == P.id)
        .outerjoin(complications, complications.c.case_id == P.case_id)
        .outerjoin(follow_ups, follow_ups.c.case_id == P.case_id)
        .where(P.signed_at.is_not(None), *only(P.case_id))  # a draft is not a procedure yet (decision 0018)
    )


ENTRY_COLUMNS = [c.name for c in RegistryEntry.__table__.columns]


def _insert_entries(session: Session, case_ids: Sequence[int] | None) -> None:
    dialect = session.get_bind().dialect.name
    query = entry_select(dialect, case_ids)
    if case_ids is None:  # a full build lays the rows down by procedure date, as time does
        query = query.order_by(query.selected_columns.procedure_on)
    session.execute(insert(RegistryEntry).from_select(ENTRY_COLUMNS, query))


def rebuild_all(session: Session) -> None:
    """Rebuild every registry entry and cell from the source tables (after a bulk load, or a large queue)."""
    session.execute(delete(RegistryStale))
    session.execute(delete(RegistryEntry))
    _insert_entries(session, None)
    rebuild_cells(session)


def refresh(session: Session) -> int:
    """Rebuild the entries of the cases queued by the triggers; return how many were queued.

    Claims the queue first (DELETE ... RETURNING), so a change committed meanwhile queues its case
    again. On PostgreSQL an advisory lock serialises concurrent rebuilds (two rebuilds of one case
    would both insert it).
    """
    if session.execute(select(RegistryStale.case_id).limit(1)).first() is None:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK})
    claimed = list(session.scalars(delete(RegistryStale).returning(RegistryStale.case_id)))
    if len(claimed) > FULL_REBUILD_AT:
        session.execute(delete(RegistryEntry))
        _insert_entries(session, None)
        rebuild_cells(session)
        return len(claimed)
    for start in range(0, len(claimed), CHUNK):
        chunk = claimed[start : start + CHUNK]
        _merge_cells(session, RegistryEntry.case_id.in_(chunk), -1)
        session.execute(delete(RegistryEntry).where(RegistryEntry.case_id.in_(chunk)))
        _insert_entries(session, chunk)
        _merge_cells(session, RegistryEntry.case_id.in_(chunk), 1)
    return len(claimed)


# --- cohorts ----------------------------------------------------------------------------------------


def cohort_filter(cohort: Cohort) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses on ``registry_entries`` that select a cohort."""
    clauses: list[ColumnElement[bool]] = []
    if cohort.procedure_from:
        clauses.append(E.procedure_on >= cohort.procedure_from)
    if cohort.procedure_to:
        clauses.append(E.procedure_on <= cohort.procedure_to)
    if cohort.causes:
        clauses.append(E.cause_group.in_(cohort.causes))
    if cohort.age_bands:
        clauses.append(E.age_band.in_(cohort.age_bands))
    if cohort.levels:
        options = []
        for band in cohort.levels:
            options.append(E.levels >= 3 if band == "3+" else E.levels == int(band))
        clauses.append(or_(*options))
    if cohort.techniques:
        clauses.append(E.technique.in_(cohort.techniques))
    if cohort.operators:
        clauses.append(E.operator.in_(cohort.operators))
    if cohort.verdicts:
        clauses.append(E.verdict.in_(cohort.verdicts))
    return clauses


# --- the dashboard's aggregates ---------------------------------------------------------------------


def nrs_responder(baseline: Column, follow_up: Column) -> ColumnElement[bool]:
    """SQL for rule outcomes.mcid_nrs: a drop of at least 2 points or at least 30 % of the baseline."""
    drop = baseline - follow_up
    return or_(drop >= NRS_MCID_POINTS, and_(baseline > 0, drop * 100 >= NRS_MCID_PERCENT * baseline))


def responder(measure: str, baseline: Column, follow_up: Column) -> ColumnElement[bool]:
    """SQL for the responder rule of a measure (outcomes.mcid_nrs, mcid_odi, mcid_rdq)."""
    if measure == "nrs":
        return nrs_responder(baseline, follow_up)
    threshold = ODI_MCID_POINTS if measure == "odi" else RDQ_MCID_POINTS
    return baseline - follow_up >= threshold


def _moments(name: str, value: Column) -> list[ColumnElement[Any]]:
    return [
        func.count(value).label(f"{name}_n"),
        func.sum(value).label(f"{name}_s"),
        func.sum(value * value).label(f"{name}_ss"),
    ]


def static_columns() -> list[ColumnElement[Any]]:
    """Return the sums over entries that do not depend on today's date (``CELL_MEASURES``, in order)."""
    columns: list[ColumnElement[Any]] = [func.count().label("procedures")]
    for measure in ("nrs", "odi", "rdq"):
        columns += _moments(f"{measure}_0", E.__table__.c[f"{measure}_0"])
    for measure in ("nrs", "odi", "rdq"):
        for visit in VISITS:
            columns += _moments(f"{measure}_{visit}", E.__table__.c[f"{measure}_{visit}"])
    for measure in ("nrs", "odi", "rdq"):
        for visit in VISITS:
            change = E.__table__.c[f"{measure}_{visit}"] - E.__table__.c[f"{measure}_0"]  # NULL unless both
            columns += _moments(f"{measure}_{visit}_chg", change)
    for measure in ("nrs", "odi", "rdq"):
        baseline = E.__table__.c[f"{measure}_0"]
        for visit in VISITS:
            value = E.__table__.c[f"{measure}_{visit}"]
            both = and_(value.is_not(None), baseline.is_not(None), responder(measure, baseline, value))
            columns.append(func.sum(_ones(both)).label(f"{measure}_{visit}_resp"))
    columns += [
        func.sum(_ones(and_(E.nrs_2w.is_not(None), E.nrs_2w < 4))).label("nrs_2w_below4"),
        func.sum(_ones(E.complications > 0)).label("complicated"),
        func.sum(_ones(E.serious_complications > 0)).label("serious"),
        func.sum(_ones(E.embolism > 0)).label("embolism"),
        func.sum(_ones(E.leak_symptomatic > 0)).label("leak_symptomatic_cases"),
        func.sum(E.levels).label("levels"),
        func.sum(E.leak_levels).label("leak_levels"),
        func.sum(_ones(E.new_fracture_1y > 0)).label("new_fracture_1y"),
        *_moments("wait", E.wait_days),
    ]
    for (_, _, low, high), name in zip(WAIT_BUCKETS, WAIT_BUCKET_COLUMNS, strict=True):
        inside = E.wait_days >= low if high is None else E.wait_days.between(low, high)
        columns.append(func.sum(_ones(inside)).label(name))
    for visit in VISITS:
        due_from, done = E.__table__.c[f"due_from_{visit}"], E.__table__.c[f"done_on_{visit}"]
        columns += [
            func.count(due_from).label(f"planned_{visit}"),
            func.sum(_ones(and_(due_from.is_not(None), done.is_not(None)))).label(f"answered_{visit}"),
            func.sum(_ones(and_(due_from.is_not(None), done.is_(None)))).label(f"open_{visit}"),
        ]
    assert [str(c.key) for c in columns] == list(CELL_MEASURES)
    return columns


TIMED = ("year_ago", "nf_year", *[f"{k}_{v}" for v in VISITS for k in ("due", "done", "overdue")])


def timed_columns(today: dt.date) -> list[ColumnElement[Any]]:
    """Return the sums over entries that depend on today's date (``TIMED``): a year passed, due, overdue."""
    year_ago = E.procedure_on <= today - dt.timedelta(days=365)
    columns: list[ColumnElement[Any]] = [
        func.sum(_ones(year_ago)).label("year_ago"),
        func.sum(_ones(and_(year_ago, E.new_fracture_1y > 0))).label("nf_year"),
    ]
    for visit in VISITS:
        due_from = E.__table__.c[f"due_from_{visit}"]
        due_until = E.__table__.c[f"due_until_{visit}"]
        done = E.__table__.c[f"done_on_{visit}"]
        columns += [
            func.sum(_ones(due_from <= today)).label(f"due_{visit}"),
            func.sum(_ones(and_(due_from <= today, done.is_not(None)))).label(f"done_{visit}"),
            func.sum(_ones(and_(due_until < today, done.is_(None)))).label(f"overdue_{visit}"),
        ]
    return columns


class Sums(dict[str, float]):
    """Named sums; a name not summed reads as 0."""

    def __getattr__(self, name: str) -> float:
        return self.get(name, 0.0)


def _add(target: Sums, row: Any, names: Sequence[str]) -> None:
    for name in names:
        target[name] = target.get(name, 0.0) + float(getattr(row, name) or 0)


# --- the materialised aggregate: registry_cells ------------------------------------------------------

C_ = registry_cells.c
CELL_TABLES = (registry_cells, registry_month_cells)
OLDEST = dt.date(1900, 1, 1)


def _month_of(dialect: str, day: Column) -> ColumnElement[dt.date]:
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month", type_=Date)


def _latest(dialect: str, *values: Column) -> ColumnElement[dt.date]:
    dated = [func.coalesce(v, literal(OLDEST, Date)) for v in values]
    return func.greatest(*dated) if dialect == "postgresql" else func.max(*dated, type_=Date)


def _cell_dimensions(dialect: str, table: Table) -> list[ColumnElement[Any]]:
    dimensions: list[ColumnElement[Any]] = [
        _month_of(dialect, E.procedure_on).label("month"),
        E.cause_group.label("cause_group"),
        E.age_band.label("age_band"),
        case((E.levels >= 3, 3), else_=E.levels).label("levels_band"),
        E.technique.label("technique"),
        E.operator.label("operator"),
        func.coalesce(E.verdict, "").label("verdict"),
    ]
    return [d for d in dimensions if str(d.key) in table.c]


def _contributions(dialect: str, where: ColumnElement[bool], sign: int, table: Table) -> Select[Any]:
    dims = _cell_dimensions(dialect, table)
    sums = [(func.coalesce(column, 0) * sign).label(str(column.key)) for column in static_columns()]
    settles = (
        literal(None, Date)
        if sign < 0
        else func.max(_latest(dialect, *[E.__table__.c[f"due_until_{v}"] for v in VISITS]))
    ).label("settles_on")
    return select(*dims, *sums, settles).where(where).group_by(*dims)


def _merge_cells(session: Session, where: ColumnElement[bool], sign: int) -> None:
    """Add (sign 1) or subtract (sign -1) the sums of the entries matching ``where`` to their cells."""
    dialect = session.get_bind().dialect.name
    for table in CELL_TABLES:
        cells = table.c
        dimensions = [d for d in CELL_DIMENSIONS if d in cells]
        names = [*dimensions, *CELL_MEASURES, "settles_on"]
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).from_select(
            names, _contributions(dialect, where, sign, table)
        )
        settles = (
            func.greatest(cells.settles_on, statement.excluded.settles_on)
            if dialect == "postgresql"
            else func.max(
                func.coalesce(cells.settles_on, statement.excluded.settles_on),
                func.coalesce(statement.excluded.settles_on, cells.settles_on),
            )
        )
        updates: dict[str, Any] = {name: cells[name] + statement.excluded[name] for name in CELL_MEASURES}
        updates["settles_on"] = settles
        session.execute(statement.on_conflict_do_update(index_elements=dimensions, set_=updates))
        if sign < 0:
            session.execute(delete(table).where(cells.procedures <= 0))


def rebuild_cells(session: Session) -> None:
    """Rebuild every cell from the registry entries."""
    for table in CELL_TABLES:
        session.execute(delete(table))
    _merge_cells(session, literal(True), 1)


def _cell_filter(
    cohort: Cohort, months: tuple[dt.date, dt.date] | None, table: Table = registry_cells
) -> list[ColumnElement[bool]]:
    cells = table.c
    clauses: list[ColumnElement[bool]] = []
    if months is not None:
        clauses.append(cells.month.between(*months))
    if cohort.causes:
        clauses.append(cells.cause_group.in_(cohort.causes))
    if cohort.age_bands:
        clauses.append(cells.age_band.in_(cohort.age_bands))
    if cohort.levels:
        clauses.append(cells.levels_band.in_([3 if band == "3+" else int(band) for band in cohort.levels]))
    if cohort.techniques:
        clauses.append(cells.technique.in_(cohort.techniques))
    if cohort.operators:
        clauses.append(cells.operator.in_(cohort.operators))
    if cohort.verdicts:
        clauses.append(cells.verdict.in_(cohort.verdicts))
    return clauses


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _split(cohort: Cohort) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.date, dt.date]]]:
    """Return the whole months the cells answer for, and the parts of months the entries must answer for."""
    low, high = cohort.procedure_from, cohort.procedure_to
    day = dt.timedelta(days=1)
    first = dt.date(1900, 1, 1) if low is None else low if low.day == 1 else _next_month(low)
    if high is None:
        last = dt.date(9999, 12, 1)
    elif _next_month(high) - day == high:  # the range ends on a month's last day
        last = _first_of_month(high)
    else:
        last = _first_of_month(_first_of_month(high) - day)
    if first > last:  # no whole month inside the range
        return None, [(low or first, high or last)]
    partial: list[tuple[dt.date, dt.date]] = []
    if low is not None and low < first:
        partial.append((low, first - day))
    if high is not None and _next_month(last) <= high:
        partial.append((_next_month(last), high))
    return (first, last), partial


def _ranges(months: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Return whole months as day ranges, neighbours merged."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for month in sorted(months):
        end = _next_month(month) - dt.timedelta(days=1)
        if ranges and ranges[-1][1] + dt.timedelta(days=1) == month:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((month, end))
    return ranges


def _within(ranges: Sequence[tuple[dt.date, dt.date]]) -> ColumnElement[bool]:
    return or_(*[E.procedure_on.between(low, high) for low, high in ranges])


def summary(session: Session, cohort: Cohort, today: dt.date) -> dict[str, Sums]:
    """Return the dashboard's sums for a cohort by technique, plus the date-dependent ones under "".

    Whole months come from ``registry_cells``; the entries answer only where the cells cannot: months
    cut by the cohort's date range, and the date-dependent counts of months whose follow-up windows are
    still open or that straddle "a year ago".
    """
    whole, partial = _split(cohort)
    result: dict[str, Sums] = {"": Sums()}
    boundary = _first_of_month(today - dt.timedelta(days=365))
    row_level: set[dt.date] = set()
    if whole is not None:
        table = registry_cells if cohort.operators else registry_month_cells
        cells = table.c
        statement = (
            select(
                cells.month,
                cells.technique,
                *[func.sum(cells[name]).label(name) for name in CELL_MEASURES],
                func.max(cells.settles_on).label("settles_on"),
            )
            .where(*_cell_filter(cohort, whole, table))
            .group_by(cells.month, cells.technique)
        )
        timed: dict[dt.date, Sums] = {}
        for row in session.execute(statement):
            _add(result.setdefault(row.technique, Sums()), row, CELL_MEASURES)
            month = row.month
            settled = row.settles_on is None or row.settles_on < today
            if not settled or month == boundary:
                row_level.add(month)
            sums = timed.setdefault(month, Sums())
            if month < boundary:
                sums["year_ago"] = sums.year_ago + row.procedures
                sums["nf_year"] = sums.nf_year + row.new_fracture_1y
            for visit in VISITS:
                for timed_name, stored in (("due", "planned"), ("done", "answered"), ("overdue", "open")):
                    key = f"{timed_name}_{visit}"
                    sums[key] = sums.get(key, 0.0) + float(getattr(row, f"{stored}_{visit}"))
        for month, sums in timed.items():
            if month not in row_level:
                for name, value in sums.items():
                    result[""][name] = result[""].get(name, 0.0) + value
    if row_level:
        statement = select(*timed_columns(today)).where(_within(_ranges(sorted(row_level))), *cohort_filter(cohort))
        _add(result[""], session.execute(statement).one(), TIMED)
    if partial:
        statement = (
            select(E.technique, *static_columns(), *timed_columns(today))
            .where(_within(partial), *cohort_filter(cohort))
            .group_by(E.technique)
        )
        for row in session.execute(statement):
            _add(result.setdefault(row.technique, Sums()), row, CELL_MEASURES)
            _add(result[""], row, TIMED)
    return result


def summary_from_entries(session: Session, cohort: Cohort, today: dt.date) -> dict[str, Sums]:
    """Return the same sums as ``summary`` computed from the entries alone (the reference it is tested against)."""
    result: dict[str, Sums] = {"": Sums()}
    statement = (
        select(E.technique, *static_columns(), *timed_columns(today))
        .where(*cohort_filter(cohort))
        .group_by(E.technique)
    )
    for row in session.execute(statement):
        _add(result.setdefault(row.technique, Sums()), row, CELL_MEASURES)
        _add(result[""], row, TIMED)
    return result


def wait_bucket() -> ColumnElement[str]:
    """SQL naming the waiting-time bucket of an entry."""
    whens = [(E.wait_days <= high, literal(key)) for key, _, _, high in WAIT_BUCKETS if high is not None]
    return case(*whens, else_=literal(WAIT_BUCKETS[-1][0]))


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The cohort by operator (procedures, with a complication), by waiting-time bucket and by fracture-age band."""

    operators: list[tuple[str, int, int]]
    waits: dict[str, int]
    ages: dict[str, int]


def breakdown(session: Session, cohort: Cohort) -> Breakdown:
    """Return the funnel plot's and the two histograms' counts (one pass over the cells)."""
    whole, partial = _split(cohort)
    keys = [key for key, _, _, _ in WAIT_BUCKETS]
    operators: dict[str, list[int]] = {}
    waits: dict[str, int] = dict.fromkeys(keys, 0)
    ages: dict[str, int] = {}

    def add(operator: Any, band: Any, n: Any, k: Any) -> None:
        pair = operators.setdefault(str(operator), [0, 0])
        pair[0] += int(n or 0)
        pair[1] += int(k or 0)
        ages[str(band)] = ages.get(str(band), 0) + int(n or 0)

    if whole is not None:
        statement = (
            select(
                C_.operator,
                C_.age_band,
                func.sum(C_.procedures),
                func.sum(C_.complicated),
                *[func.sum(C_[name]) for name in WAIT_BUCKET_COLUMNS],
            )
            .where(*_cell_filter(cohort, whole))
            .group_by(C_.operator, C_.age_band)
        )
        for operator, band, n, k, *buckets in session.execute(statement):
            add(operator, band, n, k)
            for key, value in zip(keys, buckets, strict=True):
                waits[key] += int(value or 0)
    if partial:
        bucket = wait_bucket().label("bucket")
        statement = (
            select(E.operator, E.age_band, bucket, func.count(), func.sum(_ones(E.complications > 0)))
            .where(_within(partial), *cohort_filter(cohort))
            .group_by(E.operator, E.age_band, bucket)
        )
        for operator, band, key, n, k in session.execute(statement):
            add(operator, band, n, k)
            waits[str(key)] += int(n)
    listed = [(o, n, k) for o, (n, k) in sorted(operators.items()) if n > 0]
    return Breakdown(listed, waits, ages)


def operators(session: Session) -> list[str]:
    """Return every operator in the registry (for the filter)."""
    return [str(o) for o in session.scalars(select(C_.operator).distinct().order_by(C_.operator).limit(500))]


# --- patients behind a figure -----------------------------------------------------------------------


def figure_clause(figure: str, today: dt.date) -> ColumnElement[bool] | None:
    """Return the WHERE clause selecting the cases counted in a figure's numerator, or None if unknown."""
    simple: dict[str, ColumnElement[bool]] = {
        "all": literal(True),
        "complication": E.complications > 0,
        "serious": E.serious_complications > 0,
        "embolism": E.embolism > 0,
        "leak": E.leak_levels > 0,
        "leak_symptomatic": E.leak_symptomatic > 0,
        "new_fracture": and_(E.new_fracture_1y > 0, E.procedure_on <= today - dt.timedelta(days=365)),
        "nrs_2w_below4": E.nrs_2w < 4,
    }
    if figure in simple:
        return simple[figure]
    if figure.startswith("leak:") and figure[5:] in TECHNIQUES:  # leakage by technique (per level; cases listed)
        return and_(E.technique == figure[5:], E.leak_levels > 0)
    for key, _, low, high in WAIT_BUCKETS:
        if figure == f"wait:{key}":
            return E.wait_days >= low if high is None else E.wait_days.between(low, high)
    if figure.startswith("age:"):
        return E.age_band == figure[4:]
    for measure in ("nrs", "odi", "rdq"):
        for visit in VISITS:
            value, baseline = E.__table__.c[f"{measure}_{visit}"], E.__table__.c[f"{measure}_0"]
            if figure == f"responder:{measure}:{visit}":
                return and_(value.is_not(None), baseline.is_not(None), responder(measure, baseline, value))
    for visit in VISITS:
        if figure == f"overdue:{visit}":
            return and_(E.__table__.c[f"due_until_{visit}"] < today, E.__table__.c[f"done_on_{visit}"].is_(None))
    return None


def patients(
    session: Session, cohort: Cohort, clause: ColumnElement[bool], *, limit: int, offset: int = 0
) -> list[Row[Any]]:
    """Return the patients of a figure's numerator, latest procedure first (a page of them)."""
    statement = (
        select(E.case_id, E.patient_id, Patient.identifier, Patient.name, E.procedure_on, E.technique, E.operator)
        .join(Patient, Patient.id == E.patient_id)
        .where(clause, *cohort_filter(cohort))
        .order_by(E.procedure_on.desc(), E.case_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(statement))


def count_of(session: Session, cohort: Cohort, clause: ColumnElement[bool]) -> int:
    """Return how many cases of the cohort a figure's numerator counts."""
    return int(session.scalar(select(func.count()).select_from(E).where(clause, *cohort_filter(cohort))) or 0)


def overdue(session: Session, cohort: Cohort, today: dt.date, *, limit: int) -> list[Row[Any]]:
    """Return the overdue questionnaires (window closed, not answered), the longest overdue first.

    One index walk per visit (partial indexes of unanswered questionnaires by window end), merged.
    """
    parts = []
    for visit in VISITS:
        due_until, done = E.__table__.c[f"due_until_{visit}"], E.__table__.c[f"done_on_{visit}"]
        parts.append(
            select(E.case_id, E.patient_id, literal(visit).label("visit"), due_until.label("due_until"))
            .where(due_until < today, done.is_(None), *cohort_filter(cohort))
            .order_by(due_until, E.case_id)
            .limit(limit)
            .subquery()
        )
    merged = union_all(*[select(*part.c) for part in parts]).subquery("open")
    statement = (
        select(
            merged.c.case_id, merged.c.patient_id, Patient.identifier, Patient.name, merged.c.visit, merged.c.due_until
        )
        .join(Patient, Patient.id == merged.c.patient_id)
        .order_by(merged.c.due_until, merged.c.case_id)
        .limit(limit)
    )
    return list(session.execute(statement))


# --- the export stream ------------------------------------------------------------------------------


EXPORT_COLUMNS = tuple(ENTRY_COLUMNS)
"""The columns of every row ``export_rows`` yields, in order."""


def export_rows(session: Session, *, batch: int = 5000) -> Iterator[Sequence[Any]]:
    """Yield every registry entry (``EXPORT_COLUMNS``) in batches from a server-side cursor: one sequential
    scan, memory holds one batch at a time."""
    statement = select(*E.__table__.columns).execution_options(stream_results=True, yield_per=batch)
    yield from session.execute(statement).partitions(batch)


def patient_facts(session: Session, patient_ids: Sequence[int]) -> dict[int, tuple[str, dt.date | None]]:
    """Return the sex and birth date of the given patients (for one export batch)."""
    ids = sorted(set(patient_ids))
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
        wanted = Patient.id == any_(cast(literal(ids, ARRAY(BigInteger)), ARRAY(BigInteger)))
    else:
        wanted = Patient.id.in_(ids)
    statement = select(Patient.id, Patient.sex, Patient.birth_date).where(wanted)
    return {int(i): (str(sex), birth) for i, sex, birth in session.execute(statement)}


def export_summary(session: Session) -> list[tuple[str, str, str, int, int, int]]:
    """Return procedures, those with a complication and those with a new fracture within a year, by
    cause group, technique and fracture-age band (the export's aggregate table, before suppression)."""
    statement = (
        select(
            E.cause_group,
            E.technique,
            E.age_band,
            func.count(),
            func.sum(_ones(E.complications > 0)),
            func.sum(E.new_fracture_1y),
        )
        .group_by(E.cause_group, E.technique, E.age_band)
        .order_by(E.cause_group, E.technique, E.age_band)
    )
    return [
        (str(c), str(t), str(a), int(n), int(k or 0), int(f or 0)) for c, t, a, n, k, f in session.execute(statement)
    ]


def rebuilt_count(session: Session) -> int:
    """Return how many entries the registry holds."""
    return int(session.scalar(select(func.count()).select_from(E)) or 0)


@dataclass(frozen=True, slots=True)
class SignedDose:
    """One signed procedure record's dose, with what the dose figures are grouped by (no patient data)."""

    operator: str
    technique: str
    levels: int
    guidances: frozenset[str]
    dap_gy_cm2: float | None
    air_kerma_mgy: float | None
    fluoroscopy_minutes: float | None
    ctdivol_mgy: float | None
    dlp_mgy_cm: float | None


def signed_doses(session: Session) -> list[SignedDose]:
    """Every signed procedure record's dose, operator, technique, number of levels and guidances (a draft is not a
    procedure yet, decision 0018)."""
    P, L = ProcedureRecord, ProcedureLevel
    statement = (
        select(
            P.operator,
            P.technique,
            func.count(L.id),
            func.max(case((L.guidance == "fluoroscopy", 1), else_=0)),
            func.max(case((L.guidance == "ct", 1), else_=0)),
            P.dap_gy_cm2,
            P.air_kerma_mgy,
            P.fluoroscopy_minutes,
            P.ctdivol_mgy,
            P.dlp_mgy_cm,
        )
        .join(L, L.procedure_id == P.id)
        .where(P.signed_at.is_not(None))
        .group_by(P.id)
        .order_by(P.id)
    )
    return [
        SignedDose(
            operator=str(operator),
            technique=str(technique),
            levels=int(levels),
            guidances=frozenset(g for g, used in (("fluoroscopy", fluoro), ("ct", ct)) if used),
            dap_gy_cm2=dap,
            air_kerma_mgy=kerma,
            fluoroscopy_minutes=minutes,
            ctdivol_mgy=ctdivol,
            dlp_mgy_cm=dlp,
        )
        for operator, technique, levels, fluoro, ct, dap, kerma, minutes, ctdivol, dlp in session.execute(statement)
    ]
