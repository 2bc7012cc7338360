"""What the chart shows of the procedure room: the modality's report, the values it offers the procedure record's
draft ("from the modality" until a person confirms them), and the dose review of :mod:`vertebro.clinical.dose`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.clinical.dose import QUANTITIES, DoseReview, DoseValues, review_dose
from vertebro.dicom.service import ModalityReport, modality_report
from vertebro.store.db import UnitOfWork
from vertebro.store.models import ProcedureRecord


def modality_reports(uow: UnitOfWork, case_ids: Iterable[int]) -> dict[int, ModalityReport]:
    """The modality's report of each case that has one."""
    found = {case_id: modality_report(uow, case_id) for case_id in case_ids}
    return {case_id: report for case_id, report in found.items() if report is not None}


def _form_time(moment: dt.datetime | None, zone_name: str) -> str:
    return "" if moment is None else moment.astimezone(zone_of(zone_name)).strftime("%Y-%m-%dT%H:%M")


def prefill(report: ModalityReport | None, zone_name: str = DEFAULT_TIME_ZONE) -> dict[str, str]:
    """The procedure form's values the modality offers (times of a finished step, the dose), as form strings.

    The form shows one only where the radiologist typed nothing; saving the form is the confirmation.
    """
    if report is None:
        return {}
    values: dict[str, str] = {}
    if report.status in ("COMPLETED", "DISCONTINUED"):
        values["started_at"] = _form_time(report.started_at, zone_name)
        values["ended_at"] = _form_time(report.ended_at, zone_name)
    for name in QUANTITIES:
        value = report.dose.value(name)
        if value is not None:
            values[name] = f"{value:g}"
    return {k: v for k, v in values.items() if v}


def record_dose(record: ProcedureRecord) -> DoseValues:
    """The dose a person recorded on the procedure record."""
    return DoseValues(**{name: getattr(record, name) for name in QUANTITIES})


def record_guidance(record: ProcedureRecord) -> tuple[str, ...] | None:
    """How the record's levels were guided (``fluoroscopy``, ``ct`` or both); None when no level is recorded."""
    return tuple(sorted({lv.guidance for lv in record.levels})) or None


def chart_review(
    record: ProcedureRecord | None, report: ModalityReport | None, planned: object = None
) -> DoseReview | None:
    """The dose review the chart shows: of the recorded dose once any is recorded, else of the modality's; compared
    with the reference levels of the record's technique (the planned one before a record exists) and guidance (read
    from the dose's quantities before the levels are recorded)."""
    planned_technique = str(getattr(planned, "value", planned))
    technique = (
        record.technique
        if record is not None
        else planned_technique
        if planned_technique in ("vertebroplasty", "kyphoplasty")
        else "vertebroplasty"
    )
    guidance = record_guidance(record) if record is not None else None
    if record is not None and not record_dose(record).empty:
        return review_dose(record_dose(record), technique=technique, guidance=guidance)
    if report is not None and not report.dose.empty:
        return review_dose(report.dose, technique=technique, guidance=guidance)
    return None
