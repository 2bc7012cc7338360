"""Procedure: the augmentation as performed and signed, one Procedure per treated level (SNOMED CT + CPT, bodySite).

The technique, levels, dates and operator come from the signed procedure record (decision 0018); a draft is not
exported.
"""

from __future__ import annotations

from vertebro.clinical.levels import region
from vertebro.fhir.codes import codings, local, maps
from vertebro.fhir.elements import Resource, concept, reference
from vertebro.store.models import ProcedureLevel, ProcedureRecord


def _cpt_key(level: str, first: bool, technique: str = "vertebroplasty") -> str:
    if technique == "kyphoplasty":
        if not first:
            return "kyphoplasty_additional"
        return "kyphoplasty_lumbosacral" if region(level) in ("lumbar", "sacral") else "kyphoplasty_thoracic"
    if not first:
        return "vertebroplasty_additional"
    return "vertebroplasty_lumbosacral" if region(level) in ("lumbar", "sacral") else "vertebroplasty_cervicothoracic"


def _code(procedure: ProcedureRecord, level: str, first: bool) -> list[dict[str, str]]:
    table = maps()["procedure"]
    cpt = table[_cpt_key(level, first, procedure.technique)]
    if procedure.technique == "kyphoplasty":
        return list(cpt)
    return list(table["vertebroplasty"] + cpt)


def procedure_resources(procedure: ProcedureRecord, patient_id: int) -> list[Resource]:
    """Return one Procedure per treated level; the first level gets the primary CPT code, the others the add-on."""
    resources: list[Resource] = []
    if procedure.signed_at is None:
        return resources
    for index, level in enumerate(procedure.levels):
        resource: Resource = {
            "resourceType": "Procedure",
            "id": procedure_level_id(procedure, level),
            "meta": {"versionId": str(procedure.version)},
            "status": "completed" if procedure.ended_at is not None else "in-progress",
            "code": concept(*codings(_code(procedure, level.level, index == 0))),
            "subject": reference("Patient", patient_id),
            "bodySite": [concept(local("level", level.level))],
            "performer": [{"actor": {"display": procedure.operator}}],
        }
        period = {"start": procedure.started_at.isoformat()}
        if procedure.ended_at is not None:
            period["end"] = procedure.ended_at.isoformat()
        resource["performedPeriod"] = period
        sites = list(level.leaks or ([] if level.leakage == "none" else [level.leakage]))
        if sites:
            resource["complication"] = [concept(local("leakage", site)) for site in dict.fromkeys(sites)]
        resources.append(resource)
    return resources


def procedure_level_id(procedure: ProcedureRecord, level: ProcedureLevel) -> str:
    """Return the FHIR id of the Procedure of one treated level."""
    return f"p{procedure.id}-{level.level}"
