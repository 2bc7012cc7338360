"""Every query of the patient portal: accounts, sessions, requests, questionnaire responses, the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from vertebro.store.models import (
    AppointmentChangeAnswer,
    AppointmentChangeRequest,
    AppointmentRequest,
    Booking,
    Case,
    FollowUp,
    OutboxMessage,
    PatientAccount,
    PatientSession,
    QuestionnaireResponse,
)


def change_request_open() -> ColumnElement[bool]:
    """The SQL condition of a change request still open: no closing answer (anything but "unreachable") recorded."""
    return ~exists().where(
        AppointmentChangeAnswer.request_id == AppointmentChangeRequest.id,
        AppointmentChangeAnswer.outcome != "unreachable",
    )


class PortalRepository:
    """Queries on the portal's tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # accounts and sessions
    def add(self, row: object) -> None:
        """Insert a row and flush to assign its id."""
        self.session.add(row)
        self.session.flush()

    def account_for_patient(self, patient_id: int) -> PatientAccount | None:
        """Return the portal account of a patient, or None."""
        return self.session.scalars(select(PatientAccount).where(PatientAccount.patient_id == patient_id)).one_or_none()

    def account_by_login(self, login: str) -> PatientAccount | None:
        """Return the account whose reference number or e-mail address is ``login`` (case-insensitive)."""
        needle = login.strip().lower()
        statement = select(PatientAccount).where(
            or_(func.lower(PatientAccount.reference) == needle, func.lower(PatientAccount.email) == needle)
        )
        rows = list(self.session.scalars(statement.limit(2)))
        return rows[0] if len(rows) == 1 else None

    def account_by_activation(self, digest: str) -> PatientAccount | None:
        """Return the account awaiting activation with this token digest, or None."""
        statement = select(PatientAccount).where(PatientAccount.activation_digest == digest)
        return self.session.scalars(statement).one_or_none()

    def reference_taken(self, reference: str) -> bool:
        """Return whether a reference number is in use."""
        statement = select(func.count()).select_from(PatientAccount).where(PatientAccount.reference == reference)
        return bool(self.session.scalar(statement))

    def session_with_account(self, digest: str) -> PatientSession | None:
        """Return the portal session stored under this token digest, with its account loaded."""
        statement = (
            select(PatientSession).where(PatientSession.id == digest).options(joinedload(PatientSession.account))
        )
        return self.session.scalars(statement).one_or_none()

    def end_sessions(self, account_id: int, now: dt.datetime) -> None:
        """Revoke every live session of an account (its password changed)."""
        self.session.execute(
            update(PatientSession)
            .where(PatientSession.account_id == account_id, PatientSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    # requests
    def requests_from(self, ip: str, since: dt.datetime) -> int:
        """Return how many appointment requests came from an address since a time."""
        statement = (
            select(func.count())
            .select_from(AppointmentRequest)
            .where(AppointmentRequest.ip == ip, AppointmentRequest.created_at >= since)
        )
        return int(self.session.scalar(statement) or 0)

    def account_of_request_form(self, form_id: str) -> PatientAccount | None:
        """Return the account opened by the appointment request sent from this form, or None."""
        statement = (
            select(PatientAccount)
            .join(AppointmentRequest, AppointmentRequest.patient_id == PatientAccount.patient_id)
            .where(AppointmentRequest.form_id == form_id)
        )
        return self.session.scalars(statement).one_or_none()

    def request_of_case(self, case_id: int) -> AppointmentRequest | None:
        """Return the appointment request that opened a case, or None."""
        statement = select(AppointmentRequest).where(AppointmentRequest.case_id == case_id)
        return self.session.scalars(statement).one_or_none()

    def portal_of_cases(
        self, case_ids: list[int]
    ) -> list[tuple[int, AppointmentRequest | None, QuestionnaireResponse | None, PatientAccount | None]]:
        """Return, per case, its appointment request, intake response and the patient's account (one query)."""
        if not case_ids:
            return []
        statement = (
            select(Case.id, AppointmentRequest, QuestionnaireResponse, PatientAccount)
            .outerjoin(AppointmentRequest, AppointmentRequest.case_id == Case.id)
            .outerjoin(
                QuestionnaireResponse,
                (QuestionnaireResponse.case_id == Case.id) & (QuestionnaireResponse.kind == "intake"),
            )
            .outerjoin(PatientAccount, PatientAccount.patient_id == Case.patient_id)
            .where(Case.id.in_(case_ids))
        )
        rows = self.session.execute(statement)
        return [(int(cid), request, intake, account) for cid, request, intake, account in rows]

    def change_requests(self, case_ids: list[int]) -> dict[int, list[tuple[AppointmentChangeRequest, bool]]]:
        """Return the patients' requests to cancel or move an appointment, per case, newest first, each with
        whether the booking it is about is still booked."""
        found: dict[int, list[tuple[AppointmentChangeRequest, bool]]] = {}
        if not case_ids:
            return found
        statement = (
            select(AppointmentChangeRequest, Booking.status == "booked")
            .join(Booking, Booking.id == AppointmentChangeRequest.booking_id)
            .where(AppointmentChangeRequest.case_id.in_(case_ids))
            .order_by(AppointmentChangeRequest.id.desc())
        )
        for row, booked in self.session.execute(statement):
            found.setdefault(row.case_id, []).append((row, bool(booked)))
        return found

    def cases_with_change_requests(self, case_ids: list[int]) -> set[int]:
        """Return which of the cases have any request to cancel or move an appointment."""
        if not case_ids:
            return set()
        statement = select(AppointmentChangeRequest.case_id).where(AppointmentChangeRequest.case_id.in_(case_ids))
        return {int(case_id) for case_id in self.session.scalars(statement.distinct())}

    def change_answers(self, request_ids: list[int]) -> dict[int, list[AppointmentChangeAnswer]]:
        """Return the answers staff recorded on change requests, per request, oldest first."""
        found: dict[int, list[AppointmentChangeAnswer]] = {}
        if not request_ids:
            return found
        statement = (
            select(AppointmentChangeAnswer)
            .where(AppointmentChangeAnswer.request_id.in_(request_ids))
            .order_by(AppointmentChangeAnswer.id)
        )
        for row in self.session.scalars(statement):
            found.setdefault(row.request_id, []).append(row)
        return found

    def change_request(self, request_id: int) -> AppointmentChangeRequest | None:
        """Return one change request, or None."""
        return self.session.get(AppointmentChangeRequest, request_id)

    def open_change_request(self, booking_id: int, kind: str) -> AppointmentChangeRequest | None:
        """Return the open request of this kind about this booking, if the patient already sent one."""
        statement = select(AppointmentChangeRequest).where(
            AppointmentChangeRequest.booking_id == booking_id,
            AppointmentChangeRequest.kind == kind,
            change_request_open(),
        )
        return self.session.scalars(statement.limit(1)).first()

    def change_requests_open_since(self, before: dt.datetime) -> list[AppointmentChangeRequest]:
        """Return the change requests sent before ``before`` that have no closing answer yet, oldest first."""
        statement = (
            select(AppointmentChangeRequest)
            .where(AppointmentChangeRequest.created_at < before, change_request_open())
            .order_by(AppointmentChangeRequest.created_at, AppointmentChangeRequest.id)
        )
        return list(self.session.scalars(statement))

    def booked_cases(self, case_ids: list[int]) -> set[int]:
        """Return which of the cases have an active booking now."""
        if not case_ids:
            return set()
        statement = select(Booking.case_id).where(Booking.case_id.in_(case_ids), Booking.status == "booked")
        return {int(case_id) for case_id in self.session.scalars(statement)}

    # questionnaires
    def response(self, case_id: int, kind: str, *, for_update: bool = False) -> QuestionnaireResponse | None:
        """Return the questionnaire response of a case, or None."""
        statement = select(QuestionnaireResponse).where(
            QuestionnaireResponse.case_id == case_id, QuestionnaireResponse.kind == kind
        )
        if for_update:
            statement = statement.with_for_update()
        return self.session.scalars(statement).one_or_none()

    def responses(self, case_id: int) -> list[QuestionnaireResponse]:
        """Return every questionnaire response of a case."""
        statement = select(QuestionnaireResponse).where(QuestionnaireResponse.case_id == case_id)
        return list(self.session.scalars(statement.order_by(QuestionnaireResponse.id)))

    # reminders and the outbox
    def follow_ups_due(self, today: dt.date) -> list[tuple[FollowUp, int]]:
        """Return open follow-ups whose window has begun and not ended, with the case's patient id."""
        statement = (
            select(FollowUp, Case.patient_id)
            .join(Case, Case.id == FollowUp.case_id)
            .where(FollowUp.completed_at.is_(None), FollowUp.due_from <= today, FollowUp.due_until >= today)
            .order_by(FollowUp.id)
        )
        return [(f, int(pid)) for f, pid in self.session.execute(statement)]

    def queue(self, message: dict[str, object]) -> bool:
        """Insert a message unless one with the same ``dedupe_key`` exists; return whether it was inserted."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(OutboxMessage)
            .values(**message)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        return self.session.execute(statement).first() is not None

    def pending(self, limit: int) -> list[OutboxMessage]:
        """Return unsent messages, oldest first, locked for this transaction where the database can."""
        statement = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return list(self.session.scalars(statement))

    def messages(self, limit: int) -> list[OutboxMessage]:
        """Return the newest messages (the demo outbox page)."""
        return list(self.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))

    def messages_of_patient(self, patient_id: int) -> list[OutboxMessage]:
        """Return the messages to one patient, oldest first."""
        statement = select(OutboxMessage).where(OutboxMessage.patient_id == patient_id).order_by(OutboxMessage.id)
        return list(self.session.scalars(statement))

    def bookings_between(self, start: dt.datetime, end: dt.datetime) -> list[tuple[Booking, int]]:
        """Return active bookings starting in [start, end), with the case's patient id."""
        statement = (
            select(Booking, Case.patient_id)
            .join(Case, Case.id == Booking.case_id)
            .where(Booking.status == "booked", Booking.starts_at >= start, Booking.starts_at < end)
            .order_by(Booking.starts_at)
        )
        return [(b, int(pid)) for b, pid in self.session.execute(statement)]
