"""AuditEvent: an entry of the audit log about a patient (who did what, when, from where).

Served by read and by search with ``patient``; not part of ``$everything`` or bulk export, which are themselves
audited (each would grow with every call).
"""

from __future__ import annotations

from vertebro.fhir.codes import codings, maps
from vertebro.fhir.elements import Resource, reference
from vertebro.store.models import AuditEntry


def audit_event(entry: AuditEntry) -> Resource:
    """Return the AuditEvent of one audit log entry about a patient."""
    table = maps()["workflow"]
    agent: Resource = {"who": {"display": entry.actor}, "requestor": True}
    if entry.source:
        agent["network"] = {"address": entry.source[:255], "type": "2"}
    resource: Resource = {
        "resourceType": "AuditEvent",
        "id": f"e{entry.id}",
        "type": codings([table["audit_event_type"]])[0],
        "action": table["audit_actions"].get(entry.action, "E"),
        "recorded": entry.occurred_at.isoformat(),
        "outcome": "0",
        "outcomeDesc": entry.action,
        "agent": [agent],
        "source": {"observer": {"display": "vertebro"}},
        "entity": [{"what": reference("Patient", entry.patient_id or 0), "description": entry.entity_type}],
    }
    if entry.entity_id:
        resource["entity"].append({"what": {"display": f"{entry.entity_type} {entry.entity_id}"}})
    return resource
