"""A patient's whole record as FHIR resources (Patient first), for reads, ``$everything`` and bulk export."""

from __future__ import annotations

from vertebro.fhir.adverse_event import complication_event, leakage_event
from vertebro.fhir.appointment import appointment
from vertebro.fhir.care_plan import care_plan, care_plan_id
from vertebro.fhir.case_record import case_resources
from vertebro.fhir.document_reference import document_references
from vertebro.fhir.elements import Resource
from vertebro.fhir.guidance_response import guidance_responses
from vertebro.fhir.observation import cement_observation
from vertebro.fhir.patient import patient_resource
from vertebro.fhir.procedure import procedure_level_id, procedure_resources
from vertebro.fhir.provenance import decision_provenance, signature_provenance
from vertebro.fhir.questionnaire_response import follow_up_resources
from vertebro.fhir.repository import PatientRecord
from vertebro.fhir.service_request import referral_id, service_request
from vertebro.store.models import Case


def record_resources(record: PatientRecord) -> list[Resource]:
    """Return every resource of one patient's record, in a stable order (Patient, then case by case)."""
    patient_id = record.patient.id
    resources = [patient_resource(record.patient)]
    for case in record.cases:
        genant = {f.level: f.genant_grade for f in case.fractures}
        resources.extend(case_resources(case.id, patient_id, case.facts, genant))
        assessment = record.assessments.get(case.id)
        if assessment is not None:
            resources.extend(guidance_responses(assessment.id, patient_id, assessment.result))
        resources.extend(_workflow_resources(record, case))
    for procedure in record.procedures:
        if procedure.signed_at is None:
            continue  # a draft is not the record yet (decision 0018)
        resources.extend(procedure_resources(procedure, patient_id))
        for level in procedure.levels:
            pid = procedure_level_id(procedure, level)
            sites = tuple(dict.fromkeys(s for s in (level.leaks or [level.leakage]) if s != "none"))
            resources.append(
                cement_observation(
                    f"{pid}-cement",
                    patient_id,
                    pid,
                    level.level,
                    level.cement_volume_ml or 0.0,
                    sites,
                    (level.injection_started_at, level.injection_ended_at),
                )
            )
            if level.leakage_symptomatic and sites:
                resources.append(leakage_event(procedure, level, patient_id, pid))
        if procedure.signed_by and procedure.signed_at:
            targets = [procedure_level_id(procedure, level) for level in procedure.levels]
            resources.append(signature_provenance(procedure.id, targets, procedure.signed_by, procedure.signed_at))
    resources.extend(complication_event(c, patient_id) for c in record.complications)
    if record.cases:
        latest = record.cases[-1]
        signed = next((p.signed_at for p in record.procedures if p.case_id == latest.id and p.signed_by), None)
        resources.extend(document_references(latest.id, patient_id, latest.created_at, report_signed_at=signed))
    resources.extend(stored.content for stored in record.stored)
    return resources


def _workflow_resources(record: PatientRecord, case: Case) -> list[Resource]:
    """The referral (ServiceRequest), its decision (Provenance), bookings, aftercare plan and follow-ups of a case."""
    patient_id, case_id = record.patient.id, case.id
    workflow = record.workflows.get(case_id)
    state = workflow.state if workflow is not None else None
    resources = [service_request(case_id, patient_id, case.facts, state, case.created_at)]
    if workflow is not None and workflow.decided_by and workflow.decided_at:
        resources.append(decision_provenance(case_id, referral_id(case_id), workflow.decided_by, workflow.decided_at))
    signed = any(p.case_id == case_id and p.signed_at is not None for p in record.procedures)
    resources.extend(
        appointment(b, patient_id, procedure_signed=signed) for b in record.bookings if b.case_id == case_id
    )
    follow_ups = [f for f in record.follow_ups if f.case_id == case_id]
    if follow_ups:
        levels = [str(f["level"]) for f in case.facts["fractures"]]
        resources.append(care_plan(case_id, patient_id, levels, follow_ups))
        for follow_up in follow_ups:
            resources.extend(follow_up_resources(follow_up, patient_id, care_plan_id(case_id)))
    return resources
