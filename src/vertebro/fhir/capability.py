"""The CapabilityStatement: exactly what /fhir supports today (nothing it does not)."""

from __future__ import annotations

from vertebro.fhir.elements import Resource
from vertebro.fhir.service import DATA_PARAMETERS, PATIENT_DATA_TYPES, PATIENT_ELEMENTS, REVINCLUDE
from vertebro.fhir.writes import WRITABLE_TYPES

# The search parameters each type supports, from the tables the search code runs on (R4 names and types).
PATIENT_SEARCH = (
    ("_id", "token"),
    ("identifier", "token"),
    ("name", "string"),
    ("birthdate", "date"),
    ("gender", "token"),
)
READ = ("read", "search-type")
WRITE = ("vread", "create", "update", "patch", "history-instance", "history-type")
EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _resource(kind: str, search: tuple[tuple[str, str], ...]) -> Resource:
    writable = kind in WRITABLE_TYPES
    entry: Resource = {
        "type": kind,
        "interaction": [{"code": c} for c in (*READ, *(WRITE if writable else ()))],
        "versioning": "versioned-update" if writable else "no-version",  # updates need If-Match
        "readHistory": writable,
        "updateCreate": False,
        "conditionalCreate": writable,  # If-None-Exist
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [{"name": n, "type": t} for n, t in search],
    }
    if kind in PATIENT_ELEMENTS:
        entry["searchInclude"] = [f"{kind}:{e}" for e in PATIENT_ELEMENTS[kind]]
        entry["searchRevInclude"] = list(REVINCLUDE)
    return entry


def _data_search(resource_type: str) -> tuple[tuple[str, str], ...]:
    return (("_id", "token"), *((n, kind) for n, (kind, _) in DATA_PARAMETERS[resource_type].items()))


def capability_statement(base_url: str, software_version: str) -> Resource:
    """Return the server's CapabilityStatement (FHIR 4.0.1, JSON only); ``base_url`` is the FHIR base (…/fhir)."""
    server = base_url.removesuffix("/fhir")
    patient = _resource("Patient", PATIENT_SEARCH)
    patient["operation"] = [
        {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
        {"name": "export", "definition": f"{EXPORT}patient-export"},
    ]
    resources: list[Resource] = [
        patient,
        *(_resource(t, _data_search(t)) for t in PATIENT_DATA_TYPES),
        {"type": "Group", "operation": [{"name": "export", "definition": f"{EXPORT}group-export"}]},
        {"type": "CodeSystem", "interaction": [{"code": "read"}, {"code": "search-type"}]},
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "vertebro",
        "kind": "instance",
        "software": {"name": "vertebro", "version": software_version},
        "implementation": {"description": "vertebro FHIR R4 server", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Resources are derived from vertebro's records on each request (read-only: change the case "
                    "in vertebro), except Patients and the Conditions and Observations written through this "
                    f"server ({', '.join(WRITABLE_TYPES)}: create, update and JSON Patch with If-Match, vread, "
                    "history; no delete: 405). "
                    "Clinical data searches need the patient (or subject) parameter; every search takes _count "
                    "(0: the total only), _summary=count and _elements, and is paged with next links; _sort takes _id "
                    "and, on a patient's data, the type's date parameters (- for descending); unsupported "
                    "parameters are refused under Prefer: handling=strict, else ignored and left out of the self "
                    "link. Bulk Data $export is asynchronous "
                    "(Prefer: respond-async); Group ids are state-<workflow state>. Authentication: a bearer "
                    "token from POST /api/token (optionally with SMART-style scopes) or the staff session; "
                    "every read and write is audited."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}],
                            "text": "OAuth2 using the SMART-on-FHIR profile (Backend Services)",
                        }
                    ],
                    "extension": [
                        {"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": f"{server}/auth/token"}]}
                    ],
                    "description": (
                        "SMART Backend Services: an access token from /auth/token (client credentials with a "
                        "signed JWT assertion, RS384 or ES384; see /.well-known/smart-configuration) carrying "
                        "system/ scopes; or a bearer token (POST /api/token, scopes such as user/*.read, "
                        "patient/Observation.rs with a patient, system/*.*) or the staff session (writes then need "
                        "X-CSRF-Token)"
                    ),
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
                "operation": [{"name": "export", "definition": f"{EXPORT}export"}],
            }
        ],
    }
