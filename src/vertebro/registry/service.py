"""The outcomes dashboard and the patients behind its figures.

The database aggregates (counts, sums, sums of squares); this module turns them into proportions
and means with 95 % confidence intervals (``clinical.statistics``) and sets the published ranges
beside them. Reading patient lists is audited; aggregates are not patient data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from vertebro.clinical.dose import GUIDANCE_QUANTITIES, GUIDANCES, DoseFigures, dose_figures
from vertebro.clinical.statistics import (
    Z95,
    Z998,
    bounded_mean_interval,
    funnel_limits,
    mean_interval,
    wilson_interval,
)
from vertebro.errors import InvalidInput
from vertebro.registry import repository
from vertebro.registry.benchmarks import BENCHMARKS
from vertebro.registry.schemas import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    CAUSE_GROUPS,
    LEVELS_BANDS,
    MEASURE_LABELS,
    MEASURE_SCALES,
    MEASURES,
    TECHNIQUES,
    VERDICTS,
    VISITS,
    Bucket,
    Cohort,
    Completeness,
    Course,
    Dashboard,
    DoseRow,
    DoseTable,
    Funnel,
    FunnelPoint,
    OverdueLine,
    PatientLine,
    Rate,
    TimePoint,
)
from vertebro.store.db import UnitOfWork
from vertebro.store.workflow import Actor

PATIENT_PAGE = 100
RESPONDER_RULES = {
    "nrs": "a drop of at least 2 points or 30 % (rule outcomes.mcid_nrs: Farrar 2001, Ostelo 2008)",
    "odi": "a drop of at least 10 points (rule outcomes.mcid_odi: Ostelo 2008)",
    "rdq": "a drop of at least 5 points (rule outcomes.mcid_rdq: Ostelo 2008)",
}


Rows = dict[str, repository.Sums]
"""The repository's sums by technique (and the date-dependent ones under "")."""


def _total(rows: Rows, name: str) -> float:
    return float(sum(r.get(name, 0.0) for r in rows.values()))


def _count(rows: Rows, name: str) -> int:
    return round(_total(rows, name))


def _moments(rows: Rows, name: str) -> tuple[int, float, float]:
    return _count(rows, f"{name}_n"), _total(rows, f"{name}_s"), _total(rows, f"{name}_ss")


def _courses(rows: Rows) -> tuple[Course, ...]:
    courses = []
    for measure in MEASURES:
        low, high = MEASURE_SCALES[measure]
        width = high - low
        points = [TimePoint("0", bounded_mean_interval(*_moments(rows, f"{measure}_0"), low, high), None, None)]
        for visit in VISITS:
            changes = _moments(rows, f"{measure}_{visit}_chg")
            points.append(
                TimePoint(
                    visit,
                    bounded_mean_interval(*_moments(rows, f"{measure}_{visit}"), low, high),
                    bounded_mean_interval(*changes, -width, width),
                    wilson_interval(_count(rows, f"{measure}_{visit}_resp"), changes[0]),
                )
            )
        courses.append(Course(measure, MEASURE_LABELS[measure], tuple(points)))
    return tuple(courses)


def _rates(rows: Rows) -> tuple[Rate, ...]:
    n = _count(rows, "procedures")
    by_technique = rows
    rates = [
        Rate(
            "complication",
            "Any complication",
            wilson_interval(_count(rows, "complicated"), n),
            "procedures",
            "procedures with at least one complication recorded during or after the procedure / all procedures; "
            "95 % Wilson interval",
        ),
        Rate(
            "serious",
            "Serious complication",
            wilson_interval(_count(rows, "serious"), n),
            "procedures",
            "procedures with a complication recorded as serious / all procedures; 95 % Wilson interval",
            BENCHMARKS["serious"],
        ),
        Rate(
            "embolism",
            "Cement embolism",
            wilson_interval(_count(rows, "embolism"), n),
            "procedures",
            "procedures with a recorded cement embolism / all procedures; 95 % Wilson interval. Published rates "
            "come from routine imaging, ours from recorded events: expect ours to be lower",
            BENCHMARKS["embolism"],
        ),
        Rate(
            "leak_symptomatic",
            "Symptomatic cement leak",
            wilson_interval(_count(rows, "leak_symptomatic_cases"), n),
            "procedures",
            "procedures with a level whose leak was symptomatic / all procedures; 95 % Wilson interval",
            BENCHMARKS["leak_symptomatic"],
        ),
    ]
    for technique in TECHNIQUES:
        row = by_technique.get(technique, repository.Sums())
        levels, leaks = round(row.levels), round(row.leak_levels)
        rates.append(
            Rate(
                f"leak:{technique}",
                f"Cement leakage, {technique}",
                wilson_interval(leaks, levels),
                "treated levels",
                f"levels treated by {technique} with any leakage recorded / all levels treated by {technique}; "
                "95 % Wilson interval (levels of one patient are counted as independent)",
                BENCHMARKS[f"leak:{technique}"],
            )
        )
    rates.append(
        Rate(
            "new_fracture",
            "New fracture within a year",
            wilson_interval(_count(rows, "nf_year"), _count(rows, "year_ago")),
            "procedures at least a year ago",
            "procedures done at least 365 days ago with a new or adjacent fracture recorded within 365 days / those "
            "procedures; 95 % Wilson interval. Only fractures that were recorded are counted",
            BENCHMARKS["new_fracture"],
        )
    )
    rates.append(
        Rate(
            "nrs_2w_below4",
            "Pain below 4 at 2 weeks",
            wilson_interval(_count(rows, "nrs_2w_below4"), _count(rows, "nrs_2w_n")),
            "patients with a 2-week score",
            "patients whose 2-week NRS is below 4 / patients with a 2-week NRS (the VAPOUR definition); "
            "95 % Wilson interval",
            BENCHMARKS["nrs_2w_below4"],
        )
    )
    return tuple(rates)


def _funnel(by_operator: list[tuple[str, int, int]]) -> Funnel:
    n = sum(count for _, count, _ in by_operator)
    events = sum(k for _, _, k in by_operator)
    overall = wilson_interval(events, n)
    rate = overall.share or 0.0
    points = []
    for operator, count, k in by_operator:
        share = k / count
        low95, high95 = funnel_limits(rate, count, Z95)
        low998, high998 = funnel_limits(rate, count, Z998)
        outside = ""
        if share > high998:
            outside = "above the 99.8 % limit"
        elif share > high95:
            outside = "above the 95 % limit"
        elif share < low998:
            outside = "below the 99.8 % limit"
        elif share < low95:
            outside = "below the 95 % limit"
        points.append(FunnelPoint(operator, count, k, share, outside))
    largest = max((count for _, count, _ in by_operator), default=0)
    limits = []
    if largest:
        steps = 40
        for i in range(1, steps + 1):
            size = max(1, round(largest * 1.1 * i / steps))
            low95, high95 = funnel_limits(rate, size, Z95)
            low998, high998 = funnel_limits(rate, size, Z998)
            limits.append((size, low998, low95, high95, high998))
    return Funnel(overall, tuple(points), tuple(limits))


def _buckets(distribution: tuple[dict[str, int], dict[str, int]]) -> tuple[tuple[Bucket, ...], tuple[Bucket, ...]]:
    waits, ages = distribution
    wait_buckets = tuple(Bucket(key, label, waits[key]) for key, label, _, _ in repository.WAIT_BUCKETS)
    age_buckets = tuple(Bucket(key, AGE_BAND_LABELS[key], ages.get(key, 0)) for key in AGE_BANDS)
    return wait_buckets, age_buckets


def _completeness(rows: Rows) -> tuple[Completeness, ...]:
    result = []
    for visit in VISITS:
        due, done = _count(rows, f"due_{visit}"), _count(rows, f"done_{visit}")
        result.append(Completeness(visit, due, done, _count(rows, f"overdue_{visit}"), wilson_interval(done, due)))
    return tuple(result)


def dashboard(uow: UnitOfWork, cohort: Cohort, actor: Actor, *, today: dt.date) -> Dashboard:
    """Return every figure of the dashboard for a cohort (after bringing queued registry entries up to date)."""
    session = uow.session
    repository.refresh(session)
    rows = repository.summary(session, cohort, today)
    parts = repository.breakdown(session, cohort)
    wait_buckets, age_buckets = _buckets((parts.waits, parts.ages))
    uow.audit.append(
        actor=actor.username,
        action="read",
        entity_type="registry",
        entity_id=None,
        detail={"role": actor.role.value, "view": "dashboard", "cohort": cohort.describe()},
        source=actor.source,
    )
    return Dashboard(
        cohort=cohort,
        today=today,
        procedures=_count(rows, "procedures"),
        courses=_courses(rows),
        rates=_rates(rows),
        funnel=_funnel(parts.operators),
        wait=mean_interval(*_moments(rows, "wait")),
        wait_buckets=wait_buckets,
        age_buckets=age_buckets,
        completeness=_completeness(rows),
        operators=tuple(repository.operators(session)),
    )


def overdue(uow: UnitOfWork, cohort: Cohort, actor: Actor, *, today: dt.date) -> list[OverdueLine]:
    """Return the overdue questionnaires of a cohort (longest overdue first) and audit each patient shown."""
    lines = [
        OverdueLine(r.case_id, r.patient_id, r.identifier, r.name, r.visit, r.due_until)
        for r in repository.overdue(uow.session, cohort, today, limit=PATIENT_PAGE)
    ]
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({line.patient_id for line in lines}),
        detail={"role": actor.role.value, "view": "registry_overdue"},
        source=actor.source,
    )
    return lines


def figure_patients(
    uow: UnitOfWork, cohort: Cohort, figure: str, actor: Actor, *, page: int = 0, today: dt.date
) -> tuple[int, list[PatientLine]]:
    """Return how many cases a figure counts and one page of their patients; every patient shown is audited."""
    clause = repository.figure_clause(figure, today)
    if clause is None:
        raise InvalidInput(f"unknown figure {figure!r}", field="figure")
    repository.refresh(uow.session)
    total = repository.count_of(uow.session, cohort, clause)
    rows = repository.patients(uow.session, cohort, clause, limit=PATIENT_PAGE, offset=page * PATIENT_PAGE)
    lines = [
        PatientLine(r.case_id, r.patient_id, r.identifier, r.name, r.procedure_on, r.technique, r.operator)
        for r in rows
    ]
    uow.audit.append_reads(
        actor=actor.username,
        patient_ids=sorted({line.patient_id for line in lines}),
        detail={"role": actor.role.value, "view": "registry_patients", "figure": figure},
        source=actor.source,
    )
    return total, lines


def day_of(value: str | None, field: str) -> dt.date | None:
    """Return a date typed as YYYY-MM-DD (None when empty); a malformed one is refused, naming the field."""
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def cohort_of(
    *,
    procedure_from: dt.date | None = None,
    procedure_to: dt.date | None = None,
    causes: Sequence[str] = (),
    age_bands: Sequence[str] = (),
    levels: Sequence[str] = (),
    techniques: Sequence[str] = (),
    operators: Sequence[str] = (),
    verdicts: Sequence[str] = (),
) -> Cohort:
    """Return a cohort from filter values, refusing unknown ones (the error names the filter)."""
    for field, values, allowed in (
        ("cause", causes, CAUSE_GROUPS),
        ("age", age_bands, AGE_BANDS),
        ("levels", levels, LEVELS_BANDS),
        ("technique", techniques, TECHNIQUES),
        ("verdict", verdicts, VERDICTS),
    ):
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise InvalidInput(f"unknown {field} {unknown[0]!r}: use one of {', '.join(allowed)}", field=field)
    if procedure_from and procedure_to and procedure_from > procedure_to:
        raise InvalidInput("the start of the date range is after its end", field="from")
    return Cohort(
        procedure_from=procedure_from,
        procedure_to=procedure_to,
        causes=tuple(dict.fromkeys(causes)),  # type: ignore[arg-type]
        age_bands=tuple(dict.fromkeys(age_bands)),  # type: ignore[arg-type]
        levels=tuple(dict.fromkeys(levels)),  # type: ignore[arg-type]
        techniques=tuple(dict.fromkeys(techniques)),  # type: ignore[arg-type]
        operators=tuple(dict.fromkeys(o for o in operators if o)),
        verdicts=tuple(dict.fromkeys(verdicts)),
    )


def _levels_band(levels: int) -> str:
    return "1 level" if levels == 1 else "2 levels" if levels == 2 else "3 or more levels"


LEVEL_GROUPS = ("1 level", "2 levels", "3 or more levels")


def dose_tables(uow: UnitOfWork) -> tuple[DoseTable, ...]:
    """Dose figures of the signed procedure records, per technique and guidance (fluoroscopy: kerma-area product,
    reference air kerma, fluoroscopy time; CT: CTDIvol, DLP): the median and 75th percentile for the service (its
    local reference level, from 10 procedures; rule dose.reference-level), per operator and per number of levels,
    each with the number of procedures behind it. A procedure guided by both counts under both. Aggregates only:
    no patient appears, so nothing is audited. The ``vertebro dicom doses`` command prints the same tables."""
    doses = repository.signed_doses(uow.session)
    tables = []
    for technique in TECHNIQUES:
        for guidance in GUIDANCES:
            members = [d for d in doses if d.technique == technique and guidance in d.guidances]
            if not members:
                continue
            quantities = GUIDANCE_QUANTITIES[guidance]
            by_operator = sorted({d.operator for d in members})
            by_levels = [g for g in LEVEL_GROUPS if any(_levels_band(d.levels) == g for d in members)]
            groups = [("service", "all"), *(("operator", o) for o in by_operator), *(("levels", g) for g in by_levels)]
            figures: dict[tuple[str, str], list[DoseFigures]] = {key: [] for key in groups}
            for quantity in quantities:
                per_operator = {
                    f.group: f for f in dose_figures([(d.operator, getattr(d, quantity)) for d in members], quantity)
                }
                per_levels = {
                    f.group: f
                    for f in dose_figures([(_levels_band(d.levels), getattr(d, quantity)) for d in members], quantity)
                }
                for dimension, group in groups:
                    found = (per_levels if dimension == "levels" else per_operator).get(group)
                    figures[(dimension, group)].append(
                        found or DoseFigures(group=group, quantity=quantity, procedures=0, median=None, p75=None)
                    )
            tables.append(
                DoseTable(
                    technique=technique,
                    guidance=guidance,
                    quantities=quantities,
                    procedures=len(members),
                    rows=tuple(
                        DoseRow(dimension, group, tuple(figures[(dimension, group)])) for dimension, group in groups
                    ),
                )
            )
    return tuple(tables)
