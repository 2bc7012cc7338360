"""Patients' own accounts: the appointment request that opens one, activation, sign-in and sessions.

A patient account is linked to one patient and is never a staff user: it has no role, its sessions live
in their own table, and staff dependencies never accept its cookie. Passwords are argon2id hashes like
staff passwords; failed sign-ins count towards the same rate limits. Every step is audited with the
patient (``patient:<reference>``) as the actor.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

from vertebro.clinical import ClinicPolicy, assess, assessment_json
from vertebro.clinical.facts import Case, age_on
from vertebro.errors import InvalidInput, VertebroError
from vertebro.store import credentials
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import AppointmentRequest, LoginAttempt, PatientAccount, PatientSession
from vertebro.store.service import record_assessment
from vertebro.store.staff_service import (
    ABSOLUTE_TIMEOUT,
    SEEN_RESOLUTION,
    NotAuthenticated,
    check_rate,
)

ACTIVATION_VALID = dt.timedelta(days=7)
RESET_VALID = dt.timedelta(hours=1)  # a password reset link: short, it arrives at once (decision 0026)
# Longer than staff's 15 minutes: a patient filling the questionnaire slowly must not lose what they typed
# when they send it; the account holds only their own record (docs/decisions/0008).
PATIENT_IDLE_TIMEOUT = dt.timedelta(minutes=60)
REQUEST_WINDOW = dt.timedelta(hours=1)
MAX_REQUESTS_PER_ADDRESS = 5
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud on the phone


class TooManyRequests(VertebroError):
    """Too many appointment requests from one address (429)."""

    status_code: ClassVar[int] = 429


@dataclass(frozen=True, slots=True)
class PatientActor:
    """The signed-in patient: whose record they may see, and how audit entries name them."""

    account_id: int
    patient_id: int
    reference: str
    source: str | None = None

    @property
    def name(self) -> str:
        """The actor as the audit log names them."""
        return f"patient:{self.reference}"


def audit(uow: UnitOfWork, actor: PatientActor, action: str, entity: str, entity_id: object, **detail: Any) -> None:
    """Append an audit entry with the patient as the actor (in the current transaction)."""
    uow.audit.append(
        actor=actor.name,
        action=action,
        entity_type=entity,
        entity_id=str(entity_id),
        patient_id=actor.patient_id,
        detail={"role": "patient", **detail},
        source=actor.source,
    )


@dataclass(frozen=True, slots=True)
class NewRequest:
    """An appointment request as typed by the patient (already checked field by field)."""

    name: str
    birth_date: dt.date
    sex: str
    email: str | None
    phone: str | None
    referring_doctor: str
    where_it_hurts: str
    pain_since: dt.date
    levels: tuple[str, ...]  # empty: the patient does not know the level (never guessed; staff find it)
    pain_now: int
    form_id: str | None = None  # the random id of the form it was typed into (see request_already_sent)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the patient gets back: the reference number and the one-time activation token."""

    reference: str
    activation_token: str
    patient_id: int
    case_id: int
    account_id: int


def _reference(uow: UnitOfWork) -> str:
    while True:
        reference = "VB-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if not uow.portal.reference_taken(reference) and uow.patients.get_by_identifier(reference) is None:
            return reference


def request_already_sent(uow: UnitOfWork, form_id: str | None) -> str | None:
    """Return the reference of the request already opened from this form, or None.

    The request form carries a random id; a patient who reloads the confirmation page or presses the
    button twice sends the same form again, and must not open a second patient and case.
    """
    if not form_id:
        return None
    account = uow.portal.account_of_request_form(form_id)
    return None if account is None else account.reference


def request_appointment(
    uow: UnitOfWork, request: NewRequest, policy: ClinicPolicy, *, ip: str | None, today: dt.date
) -> Receipt:
    """Open a patient, a case in state 'requested' (assessed at once) and an account awaiting activation.

    The case holds what the patient could tell: the level(s) from their scan report (cause not yet
    established), when the pain began, and the pain now. A patient who does not know the level gives none:
    the case is marked ``level_unknown`` and lists the level as missing (rule general.fracture_level_recorded).
    Raises InvalidInput naming the field when the case is not valid, TooManyRequests after 5 requests from
    one address in an hour.
    """
    now = utc_now()
    if ip and uow.portal.requests_from(ip, now - REQUEST_WINDOW) >= MAX_REQUESTS_PER_ADDRESS:
        raise TooManyRequests("too many requests from this address: please wait an hour or call us", field="form")
    reference = _reference(uow)
    weeks = round((today - request.pain_since).days / 7, 1)
    try:
        case = Case.model_validate(
            {
                "patient": {
                    "identifier": reference,
                    "name": request.name,
                    "birth_date": request.birth_date,
                    "age": age_on(request.birth_date, today),
                    "sex": request.sex,
                },
                "level_unknown": not request.levels,
                "fractures": [{"level": lv, "cause": "unknown", "onset_weeks": weeks} for lv in request.levels],
                "pain": {"nrs": request.pain_now},
            }
        )
    except ValueError as error:
        raise InvalidInput(f"this request cannot be stored: {error}", field="form") from error
    assessment = assess(case, policy, today)
    actor_name = f"patient:{reference}"
    recorded = record_assessment(uow, case, assessment, assessment_json(assessment), actor=actor_name, source=ip)
    uow.workflows.mark_channel([recorded.case_id], "portal")
    token = credentials.new_token()
    account = PatientAccount(
        patient_id=recorded.patient_id,
        reference=reference,
        email=request.email,
        phone=request.phone,
        activation_digest=credentials.token_digest(token),
        activation_expires_at=now + ACTIVATION_VALID,
    )
    uow.portal.add(account)
    uow.portal.add(
        AppointmentRequest(
            patient_id=recorded.patient_id,
            case_id=recorded.case_id,
            referring_doctor=request.referring_doctor,
            where_it_hurts=request.where_it_hurts,
            pain_since=request.pain_since,
            ip=ip,
            form_id=request.form_id,
        )
    )
    actor = PatientActor(account.id, recorded.patient_id, reference, ip)
    audit(uow, actor, "create", "appointment_request", recorded.case_id)
    audit(uow, actor, "create", "patient_account", account.id)
    return Receipt(reference, token, recorded.patient_id, recorded.case_id, account.id)


def account_to_activate(uow: UnitOfWork, token: str) -> PatientAccount:
    """Return the account a valid, unused activation token belongs to; raise 401 otherwise."""
    account = uow.portal.account_by_activation(credentials.token_digest(token))
    if account is None or account.activation_expires_at is None or account.activation_expires_at < utc_now():
        raise NotAuthenticated(
            "this link is not valid any more (each link works once, for a limited time): "
            "ask for a new one on the sign-in page, or call us",
            field="token",
        )
    return account


def activate(uow: UnitOfWork, token: str, password: str, repeated: str, *, ip: str | None) -> str:
    """Set the patient's password with a one-time activation token; return a new session token."""
    account = account_to_activate(uow, token)
    problem = credentials.password_problem(password)
    if problem is not None:
        raise InvalidInput(problem, field="password")
    if password != repeated:
        raise InvalidInput("the two passwords are not the same: type them again", field="repeated")
    resetting = account.password_hash is not None
    account.password_hash = credentials.hash_password(password)
    account.activation_digest = None
    account.activation_expires_at = None
    account.activated_at = account.activated_at or utc_now()
    actor = PatientActor(account.id, account.patient_id, account.reference, ip)
    if resetting:  # a new password ends every session opened with the old one
        uow.portal.end_sessions(account.id, utc_now())
    audit(uow, actor, "password_reset" if resetting else "activate", "patient_account", account.id)
    return _open_session(uow, account, ip)


def new_activation(uow: UnitOfWork, account: PatientAccount, *, actor: str) -> str:
    """Issue a fresh activation token (e.g. staff re-sending the link); the old one stops working."""
    token = credentials.new_token()
    account.activation_digest = credentials.token_digest(token)
    account.activation_expires_at = utc_now() + ACTIVATION_VALID
    uow.audit.append(
        actor=actor,
        action="reissue",
        entity_type="patient_account",
        entity_id=account.id,
        patient_id=account.patient_id,
    )
    return token


@dataclass(frozen=True, slots=True)
class ResetRequest:
    """A valid reset request: the account and its one-time token (to send, never to show)."""

    account: PatientAccount
    token: str


def request_password_reset(uow: UnitOfWork, *, login: str, birth_date: dt.date, ip: str | None) -> ResetRequest | None:
    """Issue a one-time reset token (valid 1 hour) when the login and date of birth match an active account.

    The caller answers the same whatever this returns (no account enumeration). Every request counts as a
    failed attempt for the login and the address (the sign-in limits: 5 per login, 20 per address in
    15 minutes, then 429), and is audited, matched or not.
    """
    login = login.strip().lower()[:254]
    name = f"patient-reset:{login}"[:64]
    check_rate(uow, name, ip, utc_now())
    account = uow.portal.account_by_login(login) if login else None
    patient = None if account is None else uow.patients.get(account.patient_id)
    matched = account is not None and account.active and patient is not None and patient.birth_date == birth_date
    uow.login_attempts.add(LoginAttempt(username=name, ip=ip, success=False))
    uow.audit.append(
        actor=name[:128],
        action="password_reset_requested" if matched else "password_reset_refused",
        entity_type="patient_account",
        entity_id=account.id if matched and account is not None else None,
        patient_id=account.patient_id if matched and account is not None else None,
        source=ip,
    )
    if not matched or account is None:
        return None
    token = credentials.new_token()
    account.activation_digest = credentials.token_digest(token)
    account.activation_expires_at = utc_now() + RESET_VALID
    return ResetRequest(account, token)


def _open_session(uow: UnitOfWork, account: PatientAccount, ip: str | None) -> str:
    token = credentials.new_token()
    uow.portal.add(
        PatientSession(
            id=credentials.token_digest(token),
            account_id=account.id,
            csrf_token=credentials.new_token(),
            expires_at=utc_now() + ABSOLUTE_TIMEOUT,
            ip=ip,
        )
    )
    return token


def _record(uow: UnitOfWork, login: str, ip: str | None, success: bool, account: PatientAccount | None) -> None:
    name = f"patient:{login}"[:64]
    uow.login_attempts.add(LoginAttempt(username=name, ip=ip, success=success))
    uow.audit.append(
        actor=name[:128] or "patient:(empty)",
        action="login" if success else "login_failed",
        entity_type="patient_account",
        entity_id=None if account is None else account.id,
        patient_id=None if account is None else account.patient_id,
        source=ip,
    )


def sign_in(uow: UnitOfWork, *, login: str, password: str, ip: str | None) -> str:
    """Check a reference number (or e-mail address) and password; return a new session token.

    The message is the same for an unknown login and a wrong password; 5 failures for one login or 20
    from one address in 15 minutes lock sign-in for 15 minutes (the staff limits).
    """
    login = login.strip().lower()[:254]
    check_rate(uow, f"patient:{login}"[:64], ip, utc_now())
    account = uow.portal.account_by_login(login)
    stored = None if account is None else account.password_hash
    ok = credentials.password_matches(stored, password)
    if account is None or not ok or not account.active:
        _record(uow, login, ip, False, account)
        raise NotAuthenticated("the reference number (or e-mail) or the password is not right", field="password")
    _record(uow, login, ip, True, account)
    return _open_session(uow, account, ip)


def signed_in(uow: UnitOfWork, token: str | None) -> PatientSession | None:
    """Return the live portal session for a token (marking it seen), or None; idle 60 min or 12 h ends it."""
    if not token:
        return None
    now = utc_now()
    web_session = uow.portal.session_with_account(credentials.token_digest(token))
    if web_session is None or web_session.revoked_at is not None:
        return None
    if (
        web_session.expires_at < now
        or web_session.last_seen_at + PATIENT_IDLE_TIMEOUT < now
        or not web_session.account.active
    ):
        web_session.revoked_at = now
        account = web_session.account
        uow.audit.append(
            actor=f"patient:{account.reference}",
            action="logout_timeout",
            entity_type="patient_account",
            entity_id=account.id,
            patient_id=account.patient_id,
        )
        return None
    if now - web_session.last_seen_at > SEEN_RESOLUTION:
        web_session.last_seen_at = now
    return web_session


def sign_out(uow: UnitOfWork, web_session: PatientSession, actor: PatientActor) -> None:
    """End a portal session."""
    web_session.revoked_at = utc_now()
    audit(uow, actor, "logout", "patient_account", actor.account_id)
