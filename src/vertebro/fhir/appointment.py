"""Appointment: a booking of a case into a procedure room; it follows the booking and the procedure.

``booked`` while the booking is active, ``cancelled`` (with the written reason) once cancelled, and
``fulfilled`` once the case's procedure record is signed (the signed record is the truth, whatever the
booking row says). A case has at most one active booking (decision 0019), so never two booked Appointments.
"""

from __future__ import annotations

from vertebro.fhir.codes import maps
from vertebro.fhir.elements import Resource, case_identifier, reference
from vertebro.fhir.service_request import referral_id
from vertebro.store.models import Booking


def appointment_status(booking: Booking, *, procedure_signed: bool) -> str:
    """Return the FHIR status of a booking: cancelled, fulfilled (procedure signed) or booked."""
    if booking.status == "booked" and procedure_signed:
        return "fulfilled"
    return str(maps()["workflow"]["appointment_status"][booking.status])


def appointment(booking: Booking, patient_id: int, *, procedure_signed: bool = False) -> Resource:
    """Return the Appointment of a booking, based on the case's referral, with the patient and the room.

    ``procedure_signed`` says whether the case's procedure record is signed (read from the store).
    """
    resource: Resource = {
        "resourceType": "Appointment",
        "id": f"b{booking.id}",
        "identifier": [case_identifier(booking.case_id)],
        "status": appointment_status(booking, procedure_signed=procedure_signed),
        "start": booking.starts_at.isoformat(),
        "end": booking.ends_at.isoformat(),
        "created": booking.created_at.isoformat(),
        "basedOn": [reference("ServiceRequest", referral_id(booking.case_id))],
        "participant": [
            {"actor": reference("Patient", patient_id), "required": "required", "status": "accepted"},
            {"actor": {"display": booking.room}, "required": "required", "status": "accepted"},
        ],
    }
    if booking.status == "cancelled":
        resource["cancelationReason"] = {"text": booking.cancel_reason or "not recorded"}
    return resource
