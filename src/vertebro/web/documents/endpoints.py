"""A patient's personal documents (preparation handout, discharge sheet, procedure report) as PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from vertebro.education.documents import personal_document, read_record
from vertebro.education.kinds import DocumentKind
from vertebro.education.pdf import html_to_pdf
from vertebro.errors import NotFound
from vertebro.ids import RecordId
from vertebro.store.base import clinic_today
from vertebro.web.deps import CLINICAL_STAFF, Policy, Staff, UoW, allow

router = APIRouter()


@router.get("/patients/{patient_id}/documents/{kind}", response_class=Response)
def document(
    patient_id: Annotated[RecordId, Path()],
    kind: DocumentKind,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*CLINICAL_STAFF))],
    policy: Policy,
) -> Response:
    """The patient's document as PDF, computed now from the stored record (the read is audited)."""
    patient = uow.patients.get(patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}", field="patient_id")
    record = read_record(uow, patient.identifier, kind, actor=staff.actor.username, source=staff.actor.source or "web")
    uow.commit()
    rendered = personal_document(record, kind, policy, as_of=clinic_today(policy.time_zone))
    filename = f"vertebro-{kind.value}-{patient.identifier}.pdf"
    return Response(
        html_to_pdf(rendered.html),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
