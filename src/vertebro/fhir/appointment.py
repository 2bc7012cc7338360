"""Appointment: a booking of a case into a procedure room (cancelled bookings stay, as cancelled)."""

from __future__ import annotations

from vertebro.fhir.codes import maps
from vertebro.fhir.elements import Resource, case_identifier, reference
from vertebro.fhir.service_request import referral_id
from vertebro.store.models import Booking


def appointment(booking: Booking, patient_id: int) -> Resource:
    """Return the Appointment of a booking, based on the case's referral, with the patient and the room."""
    resource: Resource = {
        "resourceType": "Appointment",
        "id": f"b{booking.id}",
        "identifier": [case_identifier(booking.case_id)],
        "status": maps()["workflow"]["appointment_status"][booking.status],
        "start": booking.starts_at.isoformat(),
        "end": booking.ends_at.isoformat(),
        "created": booking.created_at.isoformat(),
        "basedOn": [reference("ServiceRequest", referral_id(booking.case_id))],
        "participant": [
            {"actor": reference("Patient", patient_id), "required": "required", "status": "accepted"},
            {"actor": {"display": booking.room}, "required": "required", "status": "accepted"},
        ],
    }
    if booking.cancel_reason:
        resource["cancelationReason"] = {"text": booking.cancel_reason}
    return resource
