"""AdverseEvent: a symptomatic complication (symptomatic cement leakage, or a serious recorded complication)."""

from __future__ import annotations

from vertebro.fhir.codes import local, system
from vertebro.fhir.elements import Resource, concept, reference
from vertebro.store.models import Complication, ProcedureLevel, ProcedureRecord


def leakage_event(procedure: ProcedureRecord, level: ProcedureLevel, patient_id: int, procedure_id: str) -> Resource:
    """Return the AdverseEvent of a symptomatic cement leakage at one level (every leak site seen), pointing at its
    Procedure."""
    sites = tuple(dict.fromkeys(s for s in (level.leaks or [level.leakage]) if s != "none"))
    return {
        "resourceType": "AdverseEvent",
        "id": f"{procedure_id}-leak",
        "actuality": "actual",
        "event": concept(
            *(local("leakage", site) for site in sites),
            text=f"Symptomatic cement leakage at {level.level} ({', '.join(sites)})",
        ),
        "subject": reference("Patient", patient_id),
        "date": procedure.started_at.isoformat(),
        "seriousness": concept({"system": system("adverse-event-seriousness"), "code": "serious"}),
        "suspectEntity": [{"instance": reference("Procedure", procedure_id)}],
    }


def complication_event(complication: Complication, patient_id: int) -> Resource:
    """Return the AdverseEvent of a complication recorded after the procedure."""
    seriousness = "serious" if complication.serious else "non-serious"
    return {
        "resourceType": "AdverseEvent",
        "id": f"x{complication.id}",
        "actuality": "actual",
        "event": concept(text=complication.kind),
        "subject": reference("Patient", patient_id),
        "date": complication.occurred_on.isoformat(),
        "recordedDate": complication.recorded_at.isoformat(),
        "seriousness": concept({"system": system("adverse-event-seriousness"), "code": seriousness}),
    }
