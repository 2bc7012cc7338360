"""Personal documents for a stored patient: read the record (audited), re-assess it, render it.

The plan in a handout is computed by re-assessing the stored facts with the *current* ruleset and the
clinic's current policy, on the day the document is produced (``as_of``), rather than by reading the
stored assessment's JSON: a handout must never carry dates from a superseded rule. The stored
assessment is still returned so the caller can say when the ruleset has changed since it was made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from vertebro.clinical import ClinicPolicy, assess
from vertebro.clinical.clinic import Clinic
from vertebro.clinical.clock import zone_of
from vertebro.clinical.dose import QUANTITIES, DoseValues, review_dose
from vertebro.clinical.facts import Case
from vertebro.education.handouts import HandoutNotReady, Performed, discharge_sheet, preparation_handout
from vertebro.education.kinds import DocumentKind
from vertebro.education.render import discharge_html, preparation_html, procedure_report_html
from vertebro.education.report import Approach, Dose, Guidance, Leak, ProcedureReport, TreatedLevel, Treatment
from vertebro.errors import InvalidInput
from vertebro.store.db import UnitOfWork
from vertebro.store.records import PatientRecord, discharge_override, latest_case_record, signed_procedure

PROCEDURE_RECORD_MISSING = (
    "the procedure report is rendered from a signed procedure record, and this case has none yet; "
    "no report was produced"
)
# The staff app records leakage in the categories of the procedure form; the report names the site.
LEAK_SITE = {
    "venous": Leak.SEGMENTAL_VEIN,
    "disc": Leak.INTRADISCAL,
    "epidural": Leak.SPINAL_CANAL,
    "foraminal": Leak.SPINAL_CANAL,
    "paravertebral": Leak.PARAVERTEBRAL,
}


@dataclass(frozen=True, slots=True)
class PersonalDocument:
    """A rendered personal document and what it was computed from."""

    kind: DocumentKind
    html: str
    patient_identifier: str
    ruleset_version: str
    stored_ruleset_version: str | None

    @property
    def ruleset_changed(self) -> bool:
        """True when the stored assessment was made with another ruleset than this document."""
        return self.stored_ruleset_version is not None and self.stored_ruleset_version != self.ruleset_version


def read_record(uow: UnitOfWork, identifier: str, kind: DocumentKind, *, actor: str, source: str) -> PatientRecord:
    """Read the patient's latest case for a document and audit the read (the caller commits)."""
    record = latest_case_record(
        uow, identifier, actor=actor, source=source, view="handout", detail={"kind": kind.value}
    )
    record = with_procedure(uow, record)
    if kind is DocumentKind.PROCEDURE_REPORT and record.procedure is None:
        raise HandoutNotReady(PROCEDURE_RECORD_MISSING, field="kind")
    return record


def with_procedure(uow: UnitOfWork, record: PatientRecord) -> PatientRecord:
    """Return the record with its signed procedure and any discharge override (documents follow the record)."""
    return dataclasses.replace(
        record,
        procedure=signed_procedure(uow, record.case_id),
        discharge_override=discharge_override(uow, record.case_id),
    )


def performed_of(record: PatientRecord) -> Performed | None:
    """Return what the signed procedure record says was done (None before it is signed)."""
    procedure = record.procedure
    if procedure is None:
        return None
    override = record.discharge_override
    return Performed(
        treatment=procedure.technique,
        levels=tuple(lv.level for lv in procedure.levels),
        operator=procedure.operator,
        override_reason=None if override is None else override[0],
        override_by=None if override is None else override[1],
        skin_check=review_dose(DoseValues(**{name: getattr(procedure, name) for name in QUANTITIES})).follow_up_needed,
    )


def procedure_report(record: PatientRecord, zone: ZoneInfo) -> ProcedureReport:
    """Return the structured report of a record's signed procedure (technique, levels, date, operator and dose
    from the record); the date and the signature time are the clinic's (``zone``), not the server's or UTC."""
    procedure = record.procedure
    if procedure is None:
        raise HandoutNotReady(PROCEDURE_RECORD_MISSING, field="kind")
    guided = {lv.guidance for lv in procedure.levels}
    guidance = (
        Guidance.CT_FLUOROSCOPY
        if guided == {"ct", "fluoroscopy"}
        else Guidance.CT
        if "ct" in guided
        else Guidance.FLUOROSCOPY
    )
    products = sorted({lv.cement_product for lv in procedure.levels})
    treatment = Treatment(procedure.technique)
    return ProcedureReport(
        patient_name=record.name or record.identifier,
        patient_identifier=record.identifier,
        birth_date=record.birth_date,
        performed_on=procedure.started_at.astimezone(zone).date(),
        treatment=treatment,
        indication="painful vertebral compression fracture (see the assessment in the chart)",
        guidance=guidance,
        anaesthesia="local anaesthetic with procedural sedation" if procedure.sedation else "local anaesthetic",
        cement_product=", ".join(products),
        levels=tuple(
            TreatedLevel(
                level=lv.level,
                approach=Approach(lv.approach),
                cement_ml=lv.cement_volume_ml,
                leaks=tuple(dict.fromkeys(LEAK_SITE[site] for site in lv.leaks)),
                leak_symptomatic=lv.leakage_symptomatic and bool(lv.leaks),
            )
            for lv in procedure.levels
        ),
        operator=procedure.operator,
        complications=procedure.complications,
        comment=procedure.notes,
        signed_at=procedure.signed_at.astimezone(zone),  # the clinic's, like the date of procedure
        dose=Dose(
            fluoroscopy_minutes=procedure.fluoroscopy_minutes,
            dap_gy_cm2=procedure.dap_gy_cm2,
            air_kerma_mgy=procedure.air_kerma_mgy,
            ctdivol_mgy=procedure.ctdivol_mgy,
            dlp_mgy_cm=procedure.dlp_mgy_cm,
        ),
        date_change_reason=procedure.date_change_reason,
    )


def stored_case(record: PatientRecord) -> Case:
    """Return the stored facts as a validated case (they were validated when stored).

    The patient's identifier, name and birth date are the patient row's current ones, not the copy in the
    facts as they were assessed: a patient renamed since (at the desk or through FHIR) gets documents
    with the current name.
    """
    facts = {**record.facts, "patient": {**record.facts.get("patient", {}), **_current_demographics(record)}}
    try:
        return Case.model_validate_json(json.dumps(facts))
    except ValidationError as error:
        raise InvalidInput(
            f"the stored case {record.case_id} no longer validates: {error.error_count()} problem(s)",
            field="facts",
        ) from error


def _current_demographics(record: PatientRecord) -> dict[str, Any]:
    birth_date = None if record.birth_date is None else record.birth_date.isoformat()
    return {"identifier": record.identifier, "name": record.name, "birth_date": birth_date}


def personal_document(
    record: PatientRecord,
    kind: DocumentKind,
    policy: ClinicPolicy,
    *,
    as_of: dt.date,
    zone: ZoneInfo | None = None,
    clinic: Clinic | None = None,
) -> PersonalDocument:
    """Return the patient's document of ``kind`` as HTML, computed from a fresh assessment.

    Raises :class:`~vertebro.education.handouts.HandoutNotReady` when the plan lacks what the
    document needs (e.g. no procedure date) and for a procedure report without a signed record.
    """
    case = stored_case(record)
    assessment = assess(case, policy, as_of)
    zone = zone or zone_of(policy.time_zone)
    if kind is DocumentKind.PROCEDURE_REPORT:
        html = procedure_report_html(procedure_report(record, zone))
    elif kind is DocumentKind.PREPARATION:
        html = preparation_html(
            preparation_handout(case, assessment, policy, produced_on=as_of, zone=zone, clinic=clinic)
        )
    else:
        sheet = discharge_sheet(
            case, assessment, policy, produced_on=as_of, zone=zone, clinic=clinic, performed=performed_of(record)
        )
        html = discharge_html(sheet)
    stored = record.latest_assessment
    return PersonalDocument(
        kind=kind,
        html=html,
        patient_identifier=record.identifier,
        ruleset_version=assessment.ruleset_version,
        stored_ruleset_version=None if stored is None else stored.ruleset_version,
    )
