"""DocumentReference: the personal documents of a patient's latest case (handouts, the procedure report).

The PDFs are rendered on request by the staff app (``/patients/{id}/documents/{kind}``), so the attachment
carries that URL, no stored copy and no hash.
"""

from __future__ import annotations

import datetime as dt

from vertebro.fhir.codes import local
from vertebro.fhir.elements import Resource, case_identifier, concept, reference

KINDS = ("preparation", "discharge", "procedure-report")


def document_references(
    case_id: int, patient_id: int, created_at: dt.datetime, *, report_signed_at: dt.datetime | None
) -> list[Resource]:
    """Return the DocumentReferences of a case: the two handouts, and the report once the procedure is signed."""
    resources = []
    for kind in KINDS:
        if kind == "procedure-report" and report_signed_at is None:
            continue
        title = local("document-kind", kind)["display"]
        when = report_signed_at if kind == "procedure-report" and report_signed_at else created_at
        resources.append(
            {
                "resourceType": "DocumentReference",
                "id": f"c{case_id}-doc-{kind}",
                "identifier": [case_identifier(case_id)],
                "status": "current",
                "type": concept(local("document-kind", kind)),
                "subject": reference("Patient", patient_id),
                "date": when.isoformat(),
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "language": "en",
                            "url": f"/patients/{patient_id}/documents/{kind}",
                            "title": title,
                        }
                    }
                ],
            }
        )
    return resources
