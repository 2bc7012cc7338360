"""The CapabilityStatement: exactly what /fhir supports today (nothing it does not)."""

from __future__ import annotations

from vertebro.fhir.elements import Resource
from vertebro.fhir.service import PATIENT_DATA_TYPES

PATIENT_SEARCH = (("identifier", "token"), ("name", "string"), ("birthdate", "date"))
DATA_SEARCH = (("patient", "reference"), ("code", "token"), ("status", "token"), ("date", "date"))


def capability_statement(base_url: str, software_version: str) -> Resource:
    """Return the server's CapabilityStatement (FHIR 4.0.1, JSON only, read and search, no writes yet)."""

    def params(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"name": n, "type": t} for n, t in (*pairs, ("_count", "number"))]

    resources: list[Resource] = [
        {
            "type": "Patient",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": params(PATIENT_SEARCH),
            "operation": [
                {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
            ],
        },
        *(
            {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}], "searchParam": params(DATA_SEARCH)}
            for t in PATIENT_DATA_TYPES
        ),
        {"type": "CodeSystem", "interaction": [{"code": "read"}, {"code": "search-type"}]},
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "vertebro",
        "kind": "instance",
        "software": {"name": "vertebro", "version": software_version},
        "implementation": {"description": "vertebro FHIR R4 facade (read-only)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only: read and search of vertebro's records; the resources are derived from the "
                    "stored records on each request, so there is no vread or history yet. Clinical data "
                    "searches need the patient parameter. Authentication: a bearer token from POST /api/token "
                    "or the staff session; every read is audited."
                ),
                "security": {"cors": False, "description": "Bearer token (POST /api/token) or staff session"},
                "resource": resources,
            }
        ],
    }
