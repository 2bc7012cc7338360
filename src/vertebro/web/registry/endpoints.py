"""The outcomes dashboard (service lead and admin) and the patients behind its figures (service lead).

The admin role sees the aggregates only, as everywhere in the app it cannot open patient data; the
service lead can follow every figure to its patients (those reads are audited).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from vertebro.clinical.dose import MIN_PROCEDURES_FOR_LEVEL, QUANTITIES
from vertebro.pathway.machine import Role
from vertebro.registry import service
from vertebro.registry.schemas import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    CAUSE_GROUPS,
    LEVELS_BANDS,
    MEASURE_SCALES,
    TECHNIQUES,
    VERDICTS,
    VISIT_LABELS,
    Cohort,
)
from vertebro.store.base import clinic_today
from vertebro.web.deps import Staff, UoW, allow, current_policy
from vertebro.web.registry import charts
from vertebro.web.templating import page

router = APIRouter()
SEES_PATIENTS = frozenset({Role.SERVICE_LEAD})
Values = Annotated[list[str], Query(max_length=64)]


def _cohort(
    procedure_from: str | None,
    procedure_to: str | None,
    cause: list[str],
    age: list[str],
    levels: list[str],
    technique: list[str],
    operator: list[str],
    verdict: list[str],
) -> Cohort:
    return service.cohort_of(
        procedure_from=service.day_of(procedure_from, "from"),
        procedure_to=service.day_of(procedure_to, "to"),
        causes=cause,
        age_bands=age,
        levels=levels,
        techniques=technique,
        operators=operator,
        verdicts=verdict,
    )


def _linker(staff: Staff, cohort: Cohort) -> charts.Link:
    if staff.role not in SEES_PATIENTS:
        return lambda _: None
    return lambda figure: "/registry/patients?" + urlencode([("figure", figure), *cohort.query()])


@router.get("/registry", response_class=HTMLResponse)
def dashboard(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(Role.SERVICE_LEAD, Role.ADMIN))],
    procedure_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    procedure_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    cause: Values = [],  # noqa: B006 - FastAPI copies defaults
    age: Values = [],  # noqa: B006
    levels: Values = [],  # noqa: B006
    technique: Values = [],  # noqa: B006
    operator: Values = [],  # noqa: B006
    verdict: Values = [],  # noqa: B006
) -> HTMLResponse:
    """The outcomes dashboard for a cohort: every figure with its n, method, CI and published ranges."""
    cohort = _cohort(procedure_from, procedure_to, cause, age, levels, technique, operator, verdict)
    today = clinic_today(current_policy(request.app).time_zone)
    board = service.dashboard(uow, cohort, staff.actor, today=today)
    dose_tables = service.dose_tables(uow)
    sees_patients = staff.role in SEES_PATIENTS
    overdue = service.overdue(uow, cohort, staff.actor, today=today) if sees_patients else []
    uow.commit()
    link = _linker(staff, cohort)
    return page(
        request,
        "registry.html",
        staff,
        board=board,
        cohort=cohort,
        sees_patients=sees_patients,
        overdue=overdue,
        link=link,
        course_charts=[(c, charts.course_chart(c, MEASURE_SCALES[c.measure][1])) for c in board.courses],
        responder_chart=charts.responder_chart(board.courses, link),
        rate_chart=charts.rate_chart(board.rates, link),
        funnel_chart=charts.funnel_chart(board.funnel),
        wait_chart=charts.histogram(board.wait_buckets, "Waiting time from request to procedure", link, "wait"),
        age_chart=charts.histogram(board.age_buckets, "Fracture age at treatment", link, "age"),
        percent=charts.percent,
        options={
            "cause": CAUSE_GROUPS,
            "age": AGE_BANDS,
            "levels": LEVELS_BANDS,
            "technique": TECHNIQUES,
            "verdict": VERDICTS,
        },
        age_labels=AGE_BAND_LABELS,
        visit_labels=VISIT_LABELS,
        dose_tables=dose_tables,
        dose_quantities=QUANTITIES,
        min_for_level=MIN_PROCEDURES_FOR_LEVEL,
    )


@router.get("/registry/patients", response_class=HTMLResponse)
def figure_patients(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*SEES_PATIENTS))],
    figure: Annotated[str, Query(min_length=1, max_length=64)],
    page_number: Annotated[int, Query(alias="page", ge=0, le=10_000)] = 0,
    procedure_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    procedure_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    cause: Values = [],  # noqa: B006
    age: Values = [],  # noqa: B006
    levels: Values = [],  # noqa: B006
    technique: Values = [],  # noqa: B006
    operator: Values = [],  # noqa: B006
    verdict: Values = [],  # noqa: B006
) -> HTMLResponse:
    """The patients counted in one figure of the dashboard (each one shown is audited as read)."""
    cohort = _cohort(procedure_from, procedure_to, cause, age, levels, technique, operator, verdict)
    total, lines = service.figure_patients(
        uow, cohort, figure, staff.actor, page=page_number, today=clinic_today(current_policy(request.app).time_zone)
    )
    uow.commit()
    query = [("figure", figure), *cohort.query()]
    return page(
        request,
        "registry_patients.html",
        staff,
        figure=figure,
        cohort=cohort,
        total=total,
        lines=lines,
        page_number=page_number,
        page_size=service.PATIENT_PAGE,
        back="/registry?" + urlencode(cohort.query()),
        next_page="/registry/patients?" + urlencode([*query, ("page", page_number + 1)]),
        previous_page="/registry/patients?" + urlencode([*query, ("page", page_number - 1)]),
    )
