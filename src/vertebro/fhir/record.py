"""A patient's whole record as FHIR resources (Patient first), for reads, ``$everything`` and bulk export."""

from __future__ import annotations

from vertebro.fhir.adverse_event import complication_event, leakage_event
from vertebro.fhir.case_record import case_resources
from vertebro.fhir.elements import Resource
from vertebro.fhir.guidance_response import guidance_responses
from vertebro.fhir.observation import cement_observation
from vertebro.fhir.patient import patient_resource
from vertebro.fhir.procedure import procedure_level_id, procedure_resources
from vertebro.fhir.repository import PatientRecord


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
    for procedure in record.procedures:
        resources.extend(procedure_resources(procedure, patient_id))
        for level in procedure.levels:
            pid = procedure_level_id(procedure, level)
            resources.append(
                cement_observation(f"{pid}-cement", patient_id, pid, level.level, level.cement_volume_ml, level.leakage)
            )
            if level.leakage_symptomatic and level.leakage != "none":
                resources.append(leakage_event(procedure, level, patient_id, pid))
    resources.extend(complication_event(c, patient_id) for c in record.complications)
    return resources
