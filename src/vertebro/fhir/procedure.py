"""Procedure: the vertebroplasty as performed, one Procedure per treated level (SNOMED CT + CPT, bodySite)."""

from __future__ import annotations

from vertebro.clinical.levels import region
from vertebro.fhir.codes import codings, local, maps
from vertebro.fhir.elements import Resource, concept, reference
from vertebro.store.models import ProcedureLevel, ProcedureRecord


def _cpt_key(level: str, first: bool) -> str:
    if not first:
        return "vertebroplasty_additional"
    return "vertebroplasty_lumbosacral" if region(level) in ("lumbar", "sacral") else "vertebroplasty_cervicothoracic"


def procedure_resources(procedure: ProcedureRecord, patient_id: int) -> list[Resource]:
    """Return one Procedure per treated level; the first level gets the primary CPT code, the others the add-on."""
    table = maps()["procedure"]
    resources: list[Resource] = []
    for index, level in enumerate(procedure.levels):
        resource: Resource = {
            "resourceType": "Procedure",
            "id": procedure_level_id(procedure, level),
            "meta": {"versionId": str(procedure.version)},
            "status": "completed" if procedure.ended_at is not None else "in-progress",
            "code": concept(*codings(table["vertebroplasty"] + table[_cpt_key(level.level, index == 0)])),
            "subject": reference("Patient", patient_id),
            "bodySite": [concept(local("level", level.level))],
            "performer": [{"actor": {"display": procedure.operator}}],
        }
        period = {"start": procedure.started_at.isoformat()}
        if procedure.ended_at is not None:
            period["end"] = procedure.ended_at.isoformat()
        resource["performedPeriod"] = period
        if level.leakage != "none":
            resource["complication"] = [concept(local("leakage", level.leakage))]
        resources.append(resource)
    return resources


def procedure_level_id(procedure: ProcedureRecord, level: ProcedureLevel) -> str:
    """Return the FHIR id of the Procedure of one treated level."""
    return f"p{procedure.id}-{level.level}"
