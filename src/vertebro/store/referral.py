"""What a staff referral records beside the case's facts: who referred the patient and how to reach the patient.

The referrer (name, organisation, contact) belongs to the case, the patient's phone and e-mail to the
patient. Written in the transaction that stores the case, and audited with the names of the fields (never
their values, which are contact details).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from vertebro.errors import NotFound
from vertebro.store.db import UnitOfWork
from vertebro.store.service import RecordedCase


@dataclass(frozen=True, slots=True)
class ReferralDetails:
    """The referrer and the patient's contact as typed on the staff referral form (already checked)."""

    referrer_name: str
    referrer_organisation: str
    referrer_contact: str
    phone: str | None
    email: str | None


def record_referral_details(
    uow: UnitOfWork, recorded: RecordedCase, details: ReferralDetails, *, actor: str, source: str | None
) -> None:
    """Store the referrer on the new case and the contact on its patient; audited in the same transaction."""
    case = uow.cases.get_with_fractures(recorded.case_id)
    patient = uow.patients.get(recorded.patient_id)
    if case is None or patient is None:
        raise NotFound(f"no case {recorded.case_id}", field="case_id")
    case.referrer_name = details.referrer_name
    case.referrer_organisation = details.referrer_organisation
    case.referrer_contact = details.referrer_contact
    patient.phone = details.phone
    patient.email = details.email
    uow.session.flush()
    recorded_fields = sorted(f.name for f in fields(details) if getattr(details, f.name))
    uow.audit.append(
        actor=actor,
        action="update",
        entity_type="referral",
        entity_id=recorded.case_id,
        patient_id=recorded.patient_id,
        detail={"fields": recorded_fields},
        source=source,
    )
