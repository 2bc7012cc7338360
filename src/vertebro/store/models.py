"""SQLAlchemy models: patients, cases, fractures, assessments and the append-only audit log.

Every relationship is ``lazy="raise"``: a query must say what it loads (``selectinload``,
``joinedload``), so a forgotten eager load fails loudly instead of issuing hidden queries.
Mutable clinical records carry a ``version`` column used for optimistic locking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vertebro.store.base import Base, BigIntPK, JSONDocument, UTCDateTime, utc_now


class Patient(Base):
    """A patient, identified by the clinic's own identifier (e.g. the MRN)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    identifier_system: Mapped[str | None] = mapped_column(String(255))  # None: vertebro's own system
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    sex: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(40))  # how the team reaches the patient (staff referral)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer)

    cases: Mapped[list[Case]] = relationship(back_populates="patient", lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Case(Base):
    """One presentation of vertebral fracture(s); ``facts`` is the validated input as JSON."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    procedure_date: Mapped[dt.date | None] = mapped_column(Date)
    referrer_name: Mapped[str | None] = mapped_column(String(200))  # who referred this case (staff referral form)
    referrer_organisation: Mapped[str | None] = mapped_column(String(200))
    referrer_contact: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    version: Mapped[int] = mapped_column(Integer)

    patient: Mapped[Patient] = relationship(back_populates="cases", lazy="raise")
    fractures: Mapped[list[Fracture]] = relationship(
        back_populates="case",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    assessments: Mapped[list[Assessment]] = relationship(back_populates="case", lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseFactSources(Base):
    """Where each fact of a case read from FHIR came from (resource, element, code), what the reading left out
    and why, and the conflicts it found: the reading report of ``intake.fhir_bundle`` (decision 0031).

    ``document`` is ``vertebro-fact-sources/1``: ``facts`` (path, value as read, source, resources with their
    codes), ``not_recorded``, ``ignored`` (resource, reason) and ``conflicts``. Written once, when the case is
    stored; the value as read lets the chart tell a fact changed since from one still as the resource said.
    """

    __tablename__ = "case_fact_sources"

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), primary_key=True)
    via: Mapped[str] = mapped_column(String(32))  # fhir-import, fhir-assess
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


class Fracture(Base):
    """One fractured vertebra of a case; a level appears at most once per case."""

    __tablename__ = "fractures"
    __table_args__ = (
        UniqueConstraint("case_id", "level"),
        CheckConstraint("genant_grade BETWEEN 0 AND 3", name="genant_grade_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(3))
    cause: Mapped[str] = mapped_column(String(32))
    onset_weeks: Mapped[float | None] = mapped_column(Double)
    mri_edema: Mapped[bool | None] = mapped_column(Boolean)
    bone_scan_uptake: Mapped[bool | None] = mapped_column(Boolean)
    height_loss_percent: Mapped[float | None] = mapped_column(Double)
    genant_grade: Mapped[int | None] = mapped_column(SmallInteger)

    case: Mapped[Case] = relationship(back_populates="fractures", lazy="raise")


class Assessment(Base):
    """The result of running the clinical rules on a case, as one JSON document.

    ``ruleset_version``, ``default_profile``, ``default_category`` and ``treatment`` are
    copied out of the document so that worklists can be queried without reading it.
    """

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_case_id_created_at", "case_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"))
    ruleset_version: Mapped[str] = mapped_column(String(64))
    default_profile: Mapped[str] = mapped_column(String(32))
    default_category: Mapped[str] = mapped_column(String(32))
    treatment: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)

    case: Mapped[Case] = relationship(back_populates="assessments", lazy="raise")


class AuditEntry(Base):
    """One audited event: who did what to which record, when and from where.

    The table is append-only: database triggers (see the initial migration) reject UPDATE
    and DELETE, and TRUNCATE on PostgreSQL. ``patient_id`` is deliberately not a foreign key
    so the trail outlives the records it describes. ``detail`` holds ids and metadata only,
    never clinical values or names.
    """

    __tablename__ = "audit_log"
    __table_args__ = (CheckConstraint("length(actor) > 0", name="actor_not_empty"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    source: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))  # the web request (X-Request-ID) or job behind it


# --- staff, sessions and the workflow of a case ---------------------------------------------------

ROLES = ("coordinator", "nurse", "radiologist", "service_lead", "admin")
STATES = (
    "requested",
    "screening",
    "declined",
    "eligible",
    "prepared",
    "scheduled",
    "in_procedure",
    "monitoring",
    "discharged",
    "follow_up",
    "closed",
)
INSURANCE_STATUSES = ("unknown", "not_required", "pending", "approved", "denied", "self_pay")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """A member of staff: one role, an argon2 password hash and a TOTP secret."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a TOTP code is accepted once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WebSession(Base):
    """A signed-in browser or API client; only the SHA-256 of the session token is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    scope: Mapped[str | None] = mapped_column(String(1000))  # SMART-style scopes of an API token; None: the role's
    launch_patient_id: Mapped[int | None] = mapped_column(BigInteger)  # the patient of ``patient/`` scopes
    # the SMART app whose token this is (None: the member of staff's own session); revoking the app ends it
    smart_client_id: Mapped[str | None] = mapped_column(String(128), index=True)

    user: Mapped[User] = relationship(lazy="raise")


class LoginAttempt(Base):
    """One sign-in attempt, kept for rate limiting and the audit of authentication."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_occurred_at", "username", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    success: Mapped[bool] = mapped_column(Boolean)


class CaseWorkflow(Base):
    """Where a case stands on the patient's path, with the decisions and checks that moved it."""

    __tablename__ = "case_workflows"
    __table_args__ = (
        Index("ix_case_workflows_updated_at", "updated_at"),
        Index("ix_case_workflows_state_updated_at", "state", "updated_at"),
        CheckConstraint(_one_of("state", STATES), name="state_known"),
        CheckConstraint(_one_of("insurance_status", INSURANCE_STATUSES), name="insurance_status_known"),
    )

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), index=True, default="requested")
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    insurance_payer: Mapped[str | None] = mapped_column(String(200))
    insurance_status: Mapped[str] = mapped_column(String(16), default="unknown")
    insurance_reference: Mapped[str | None] = mapped_column(String(200))
    treatment: Mapped[str | None] = mapped_column(String(64))  # of the latest assessment (worklist)
    default_category: Mapped[str | None] = mapped_column(String(32))
    decision_category: Mapped[str | None] = mapped_column(String(32))  # default profile's verdict when decided
    default_profile: Mapped[str | None] = mapped_column(String(32))  # whose verdict default_category is
    channel: Mapped[str] = mapped_column(String(8), default="staff", server_default="staff")  # portal, staff, fhir
    # what another role must record before the case can go on (pathway.handover, decision 0033), from the latest
    # assessment: the roles ("nurse,radiologist") for the worklist's "for you", and the words
    handover_roles: Mapped[str | None] = mapped_column(String(64))
    handover: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer)

    case: Mapped[Case] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CaseStateCount(Base):
    """How many cases are in one state; kept exact by database triggers on ``case_workflows``."""

    __tablename__ = "case_state_counts"

    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class Slot(Base):
    """A bookable block of time in one procedure room."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("room", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    room: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Booking(Base):
    """A case booked into consecutive slots of one room; cancelled bookings stay as history."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'cancelled')", name="status_known"),
        # one active booking per case, whatever the entry point or the concurrency (decision 0019)
        Index(
            "uq_bookings_one_active_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    room: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    booked_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The patient's calendar event (decision 0038): a booking made by a move keeps the moved one's UID, and each
    # calendar file sent carries a higher SEQUENCE, so the patient's calendar updates the event it already holds.
    calendar_uid: Mapped[str | None] = mapped_column(String(128))  # None: named after this booking's id
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SlotReservation(Base):
    """A slot held by a booking. The primary key on ``slot_id`` is what makes double booking impossible."""

    __tablename__ = "slot_reservations"

    slot_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("slots.id"), primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bookings.id"), index=True)


class SchedulePlan(Base):
    """A proposed schedule made by the planner: its instance, the CP-SAT plan and the first-come-first-served
    baseline (documents in the scheduling formats), until the service lead accepts or discards it."""

    __tablename__ = "schedule_plans"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'accepted', 'discarded')", name="status_known"),
        CheckConstraint("weeks BETWEEN 1 AND 12", name="weeks_range"),
        Index("ix_schedule_plans_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    weeks: Mapped[int] = mapped_column(SmallInteger)
    time_limit_seconds: Mapped[float] = mapped_column(Double)
    instance: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # vertebro-schedule-instance/1
    plan: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # vertebro-schedule-plan/1 (cp-sat, maybe edited)
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # the first-come-first-served plan
    references: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # instance ids -> case ids and room names
    edits: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


TECHNIQUES = ("vertebroplasty", "kyphoplasty")


class ProcedureRecord(Base):
    """The procedure as performed: one per case, signed by the radiologist."""

    __tablename__ = "procedures"
    __table_args__ = (CheckConstraint(_one_of("technique", TECHNIQUES), name="technique_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), unique=True)
    operator: Mapped[str] = mapped_column(String(128))
    technique: Mapped[str] = mapped_column(String(16), server_default="vertebroplasty")
    sedation: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # False while a draft has no start time typed yet: ``started_at`` then holds when the draft was first saved.
    start_recorded: Mapped[bool | None] = mapped_column(Boolean, default=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    complications: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    notes: Mapped[str | None] = mapped_column(String(4000))
    # Radiation dose (decision 0018): fluoroscopy time, dose-area product or reference air kerma; CT dose indices.
    fluoroscopy_minutes: Mapped[float | None] = mapped_column(Double)
    dap_gy_cm2: Mapped[float | None] = mapped_column(Double)
    air_kerma_mgy: Mapped[float | None] = mapped_column(Double)
    ctdivol_mgy: Mapped[float | None] = mapped_column(Double)
    dlp_mgy_cm: Mapped[float | None] = mapped_column(Double)
    date_change_reason: Mapped[str | None] = mapped_column(String(500))
    signed_by: Mapped[str | None] = mapped_column(String(128))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    levels: Mapped[list[ProcedureLevel]] = relationship(
        back_populates="procedure", lazy="raise", cascade="all, delete-orphan", order_by="ProcedureLevel.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


LEAKAGE = ("none", "venous", "disc", "epidural", "foraminal", "paravertebral")


class ProcedureLevel(Base):
    """What was done at one vertebral level."""

    __tablename__ = "procedure_levels"
    __table_args__ = (
        UniqueConstraint("procedure_id", "level"),
        CheckConstraint("approach IN ('unipedicular', 'bipedicular')", name="approach_known"),
        CheckConstraint("guidance IN ('fluoroscopy', 'ct')", name="guidance_known"),
        CheckConstraint(_one_of("leakage", LEAKAGE), name="leakage_known"),
        CheckConstraint("cement_volume_ml > 0 AND cement_volume_ml <= 20", name="cement_volume_plausible"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("procedures.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(3))
    approach: Mapped[str] = mapped_column(String(16))
    guidance: Mapped[str] = mapped_column(String(16))
    contrast: Mapped[bool] = mapped_column(Boolean)
    cement_product: Mapped[str | None] = mapped_column(String(64))  # None only in a draft
    cement_volume_ml: Mapped[float | None] = mapped_column(Double)  # None only in a draft
    leakage: Mapped[str] = mapped_column(String(16))  # the first leak site, or "none"
    leaks: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # every leak site (LEAKAGE values)
    leakage_symptomatic: Mapped[bool] = mapped_column(Boolean, default=False)
    # The cement timer of this level (decision 0034): mixing start, pauses, and the injection's start and end.
    cement_mixed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_paused_seconds: Mapped[int | None] = mapped_column(Integer)
    injection_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    injection_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    procedure: Mapped[ProcedureRecord] = relationship(back_populates="levels", lazy="raise")


class Observation(Base):
    """A recorded observation: vitals and neuro checks while monitoring, questionnaires at follow-up."""

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_by: Mapped[str] = mapped_column(String(128))
    value: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class Discharge(Base):
    """The discharge of a case: criteria met, escort confirmed, aftercare issued."""

    __tablename__ = "discharges"

    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), primary_key=True)
    discharged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    discharged_by: Mapped[str] = mapped_column(String(128))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    driver_name: Mapped[str | None] = mapped_column(String(200))
    companion_name: Mapped[str | None] = mapped_column(String(200))
    aftercare_issued: Mapped[bool] = mapped_column(Boolean, default=False)
    # A radiologist's written reason to discharge although a monitoring guard refused (decision 0018).
    override_reason: Mapped[str | None] = mapped_column(String(2000))
    override_by: Mapped[str | None] = mapped_column(String(128))
    overridden: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # the refusals the override set aside


class FollowUp(Base):
    """A follow-up questionnaire: when it is due and, once done, the scores."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("case_id", "visit"),
        CheckConstraint("visit IN ('2w', '3m', '12m')", name="visit_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    visit: Mapped[str] = mapped_column(String(8))
    due_from: Mapped[dt.date] = mapped_column(Date)
    due_until: Mapped[dt.date] = mapped_column(Date, index=True)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    nrs: Mapped[int | None] = mapped_column(SmallInteger)
    odi_percent: Mapped[float | None] = mapped_column(Double)
    rdq: Mapped[int | None] = mapped_column(SmallInteger)
    recorded_by: Mapped[str | None] = mapped_column(String(128))


class Complication(Base):
    """A complication recorded after the procedure (new fracture, infection, cement embolism, ...)."""

    __tablename__ = "complications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


# --- the patient portal: accounts, sessions, requests, questionnaires, the outbox --------------------

QUESTIONNAIRE_KINDS = ("intake", "follow_up_2w", "follow_up_3m", "follow_up_12m")


class PatientAccount(Base):
    """A patient's own sign-in to the portal: never a staff user, linked to exactly one patient.

    The activation token is single-use: only its SHA-256 is stored, and it is cleared once used.
    """

    __tablename__ = "patient_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    activation_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer)

    patient: Mapped[Patient] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PatientSession(Base):
    """A signed-in patient's browser; only the SHA-256 of the session token is stored."""

    __tablename__ = "patient_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patient_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[PatientAccount] = relationship(lazy="raise")


class AppointmentRequest(Base):
    """What a patient wrote when asking for an appointment (the case it opened holds the clinical facts)."""

    __tablename__ = "appointment_requests"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), unique=True)
    referring_doctor: Mapped[str] = mapped_column(String(200))
    where_it_hurts: Mapped[str] = mapped_column(String(32))
    pain_since: Mapped[dt.date] = mapped_column(Date)
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    # the random id of the form the patient filled in: the same form sent twice opens one request
    form_id: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)


class QuestionnaireResponse(Base):
    """A patient's answers to one questionnaire of a case, kept as a draft until sent (resumable anywhere)."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        CheckConstraint(_one_of("kind", QUESTIONNAIRE_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class OutboxMessage(Base):
    """A message to a patient, queued in the transaction that caused it and delivered by an ``Outbox``.

    ``dedupe_key`` makes queuing idempotent: a reminder queued twice is stored once.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    attachment: Mapped[str | None] = mapped_column(Text)  # an iCalendar file (appointment.ics), decision 0026


class AppointmentChangeRequest(Base):
    """A patient asking, from the portal, to cancel or move their appointment: staff act on it (decision 0026).

    Nothing is cancelled automatically: the request shows on the case's chart as open until staff record a
    closing answer (``AppointmentChangeAnswer``, decision 0040).
    """

    __tablename__ = "appointment_change_requests"
    __table_args__ = (CheckConstraint("kind IN ('cancel', 'reschedule')", name="kind_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    booking_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bookings.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


# how staff answered a patient's request; "unreachable" (the patient could not be reached) leaves it open
CHANGE_OUTCOMES = ("moved", "cancelled", "kept", "unreachable")


class AppointmentChangeAnswer(Base):
    """How staff answered a patient's request to cancel or move an appointment: who, when, what, a note (0040).

    "moved", "cancelled" and "kept" (kept as booked after a call) close the request, and the database holds at most
    one closing answer per request, whatever the concurrency; "unreachable" records a call that did not reach the
    patient and may repeat. Append-only: the answers are the request's history.
    """

    __tablename__ = "appointment_change_answers"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", CHANGE_OUTCOMES), name="outcome_known"),
        Index(
            "uq_appointment_change_answers_one_closing",
            "request_id",
            unique=True,
            postgresql_where=text("outcome <> 'unreachable'"),
            sqlite_where=text("outcome <> 'unreachable'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("appointment_change_requests.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    answered_by: Mapped[str] = mapped_column(String(128))
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


# --- FHIR: resources written through /fhir, their versions, bulk export jobs ---------------------------


class FhirResource(Base):
    """The current version of a resource written through /fhir that our records do not hold otherwise
    (e.g. a coded problem such as osteoporosis, or an Observation sent by the EHR)."""

    __tablename__ = "fhir_resources"

    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    version_id: Mapped[int] = mapped_column(Integer)
    last_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class FhirResourceVersion(Base):
    """Every version of a resource written through /fhir (Patients and stored resources), for vread and history.

    ``patient_id`` is not a foreign key, so the history outlives the record; append-only by convention.
    """

    __tablename__ = "fhir_resource_versions"
    __table_args__ = (Index("ix_fhir_resource_versions_type_updated", "resource_type", "last_updated"),)

    resource_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(8))
    last_updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


EXPORT_STATUSES = ("queued", "running", "complete", "failed", "cancelled")


class FhirExportJob(Base):
    """A Bulk Data ``$export`` request: who asked for what, how far it got, and the files it wrote."""

    __tablename__ = "fhir_export_jobs"
    __table_args__ = (CheckConstraint(_one_of("status", EXPORT_STATUSES), name="status_known"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(128), index=True)
    source: Mapped[str | None] = mapped_column(String(255))
    request_url: Mapped[str] = mapped_column(String(2000))
    level: Mapped[str] = mapped_column(String(16))  # system, patient or group
    group_id: Mapped[str | None] = mapped_column(String(64))
    types: Mapped[list[Any] | None] = mapped_column(JSONDocument)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)  # resource type -> count
    ignored: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # kick-off parameters not implemented, ignored
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- SMART on FHIR (decision 0030) ------------------------------------------------------------------


SMART_CLIENT_KINDS = ("system", "app")


class SmartClient(Base):
    """A registered SMART client: a Backend Services ``system`` client (public JWKS, scopes, role) or an ``app``
    that staff authorize (redirect URIs; a JWKS for a confidential app, none for a public one)."""

    __tablename__ = "smart_clients"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role_known"),
        CheckConstraint(_one_of("kind", SMART_CLIENT_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="system")
    name: Mapped[str] = mapped_column(String(200))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)  # public keys only; None: a public app
    redirect_uris: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # an app's exact redirect URIs
    allowed_origins: Mapped[list[Any] | None] = mapped_column(JSONDocument)  # an app's web origins (CORS)
    scope: Mapped[str] = mapped_column(String(1000))  # the system/ scopes the client may be granted
    role: Mapped[str | None] = mapped_column(String(32))  # a system client's staff role (apps act as the user)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # when it was first revoked
    revoked_by: Mapped[str | None] = mapped_column(String(128))  # and by whom (the audit trail has every revocation)


class SmartAccessToken(Base):
    """An access token issued to a SMART client; only the SHA-256 of the token is stored."""

    __tablename__ = "smart_access_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), ForeignKey("smart_clients.client_id"), index=True)
    scope: Mapped[str] = mapped_column(String(1000))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str | None] = mapped_column(String(64))


class SmartAuthorizationCode(Base):
    """An authorization code given to an app for a member of staff (SHA-256 only; one exchange, one minute)."""

    __tablename__ = "smart_authorization_codes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), ForeignKey("smart_clients.client_id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SmartAssertionId(Base):
    """The ``jti`` of a client assertion already used, kept until the assertion expires (replay refused)."""

    __tablename__ = "smart_assertion_ids"
    __table_args__ = (PrimaryKeyConstraint("client_id", "jti"),)

    client_id: Mapped[str] = mapped_column(String(128))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SmartLaunch(Base):
    """An EHR launch of vertebro (vertebro the SMART app), from the launch to the chart it opens.

    Keyed by the SHA-256 of the ``state`` sent to the EHR. After the callback it holds the EHR's patient and the
    identifier it was matched by, and ``open_id``: the SHA-256 of the one-use link that opens the chart once a
    member of staff is signed in to vertebro.
    """

    __tablename__ = "smart_launches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    iss: Mapped[str] = mapped_column(String(500))
    token_endpoint: Mapped[str] = mapped_column(String(500))
    code_verifier: Mapped[str | None] = mapped_column(String(128))  # cleared once the code is exchanged
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    open_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    ehr_patient: Mapped[str | None] = mapped_column(String(128))
    identifier_system: Mapped[str | None] = mapped_column(String(255))
    identifier_value: Mapped[str | None] = mapped_column(String(255))
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_by: Mapped[str | None] = mapped_column(String(128))


# --- the outcomes registry -------------------------------------------------------------------------

VISITS = ("2w", "3m", "12m")


class RegistryEntry(Base):
    """One treated case as the outcomes registry sees it: a derived row, never edited by hand.

    Rebuilt per case from the source tables (patients, cases, fractures, case_workflows, procedures,
    procedure_levels, follow_ups, complications) by one SQL definition in ``vertebro.registry``; database
    triggers on those tables queue the case in ``registry_stale`` and the registry rebuilds queued cases
    before every read, in the reading transaction. See docs/decisions/0010-outcomes-registry.md.
    """

    __tablename__ = "registry_entries"
    __table_args__ = (
        Index("ix_registry_entries_procedure_on", "procedure_on"),
        Index("ix_registry_entries_operator_procedure_on", "operator", "procedure_on"),
        Index("ix_registry_entries_cohort", "cause_group", "age_band", "technique", "procedure_on"),
        Index("ix_registry_entries_patient_id", "patient_id"),
        # the overdue list: open questionnaires of each visit by the end of their window
        *[
            Index(
                f"ix_registry_entries_open_{visit}",
                f"due_until_{visit}",
                postgresql_where=text(f"done_on_{visit} IS NULL"),
                sqlite_where=text(f"done_on_{visit} IS NULL"),
            )
            for visit in ("2w", "3m", "12m")
        ],
    )

    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    procedure_on: Mapped[dt.date] = mapped_column(Date)
    wait_days: Mapped[int] = mapped_column(Integer)
    cause_group: Mapped[str] = mapped_column(String(16))
    fracture_age_weeks: Mapped[float | None] = mapped_column(Double)
    age_band: Mapped[str] = mapped_column(String(16))
    levels: Mapped[int] = mapped_column(SmallInteger)
    technique: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str | None] = mapped_column(String(32))
    leak_levels: Mapped[int] = mapped_column(SmallInteger)
    leak_symptomatic: Mapped[int] = mapped_column(SmallInteger)
    complications: Mapped[int] = mapped_column(Integer)
    serious_complications: Mapped[int] = mapped_column(Integer)
    embolism: Mapped[int] = mapped_column(SmallInteger)
    new_fracture_1y: Mapped[int] = mapped_column(SmallInteger)
    nrs_0: Mapped[int | None] = mapped_column(SmallInteger)
    odi_0: Mapped[float | None] = mapped_column(Double)
    rdq_0: Mapped[int | None] = mapped_column(SmallInteger)
    due_from_2w: Mapped[dt.date | None] = mapped_column(Date)
    due_until_2w: Mapped[dt.date | None] = mapped_column(Date)
    done_on_2w: Mapped[dt.date | None] = mapped_column(Date)
    nrs_2w: Mapped[int | None] = mapped_column(SmallInteger)
    odi_2w: Mapped[float | None] = mapped_column(Double)
    rdq_2w: Mapped[int | None] = mapped_column(SmallInteger)
    due_from_3m: Mapped[dt.date | None] = mapped_column(Date)
    due_until_3m: Mapped[dt.date | None] = mapped_column(Date)
    done_on_3m: Mapped[dt.date | None] = mapped_column(Date)
    nrs_3m: Mapped[int | None] = mapped_column(SmallInteger)
    odi_3m: Mapped[float | None] = mapped_column(Double)
    rdq_3m: Mapped[int | None] = mapped_column(SmallInteger)
    due_from_12m: Mapped[dt.date | None] = mapped_column(Date)
    due_until_12m: Mapped[dt.date | None] = mapped_column(Date)
    done_on_12m: Mapped[dt.date | None] = mapped_column(Date)
    nrs_12m: Mapped[int | None] = mapped_column(SmallInteger)
    odi_12m: Mapped[float | None] = mapped_column(Double)
    rdq_12m: Mapped[int | None] = mapped_column(SmallInteger)


class RegistryStale(Base):
    """A case whose registry entry must be rebuilt before the next read (queued by database triggers)."""

    __tablename__ = "registry_stale"

    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


_MOMENTS = ("n", "s", "ss")
WAIT_BUCKET_COLUMNS = ("wait_0_7", "wait_8_14", "wait_15_28", "wait_29_56", "wait_57_90", "wait_91_plus")
CELL_DIMENSIONS = ("month", "cause_group", "age_band", "levels_band", "technique", "operator", "verdict")
CELL_MEASURES = (
    "procedures",
    *[f"{m}_0_{k}" for m in ("nrs", "odi", "rdq") for k in _MOMENTS],
    *[f"{m}_{v}_{k}" for m in ("nrs", "odi", "rdq") for v in VISITS for k in _MOMENTS],
    *[f"{m}_{v}_chg_{k}" for m in ("nrs", "odi", "rdq") for v in VISITS for k in _MOMENTS],
    *[f"{m}_{v}_resp" for m in ("nrs", "odi", "rdq") for v in VISITS],
    "nrs_2w_below4",
    "complicated",
    "serious",
    "embolism",
    "leak_symptomatic_cases",
    "levels",
    "leak_levels",
    "new_fracture_1y",
    "wait_n",
    "wait_s",
    "wait_ss",
    *WAIT_BUCKET_COLUMNS,
    *[f"{k}_{v}" for v in VISITS for k in ("planned", "answered", "open")],
)
"""Additive sums kept per cell (sums of the registry entries of the cell)."""


def _cells(name: str, *, by_operator: bool) -> Table:
    dimensions = [d for d in CELL_DIMENSIONS if by_operator or d != "operator"]
    return Table(
        name,
        Base.metadata,
        Column("month", Date, nullable=False),
        Column("cause_group", String(16), nullable=False),
        Column("age_band", String(16), nullable=False),
        Column("levels_band", SmallInteger, nullable=False),
        Column("technique", String(16), nullable=False),
        *([Column("operator", String(128), nullable=False)] if by_operator else []),
        Column("verdict", String(32), nullable=False),
        *[Column(measure, Double, nullable=False) for measure in CELL_MEASURES],
        Column("settles_on", Date, nullable=True),
        PrimaryKeyConstraint(*dimensions, name=f"pk_{name}"),
    )


registry_cells = _cells("registry_cells", by_operator=True)
registry_month_cells = _cells("registry_month_cells", by_operator=False)
"""The registry summed by procedure month and every cohort dimension: a materialised aggregate of
``registry_entries``, maintained in the same statements that rebuild entries (subtract the old rows'
sums, add the new ones'). ``settles_on`` is the latest follow-up window end of the cell (an upper
bound): from that day on, the cell's due and overdue counts no longer change with the date.
``registry_month_cells`` holds the same sums without the operator dimension (16 times fewer rows),
for every cohort that does not choose operators."""


class JobResult(Base):
    """A background job that finished its work: the key makes a retried job (after a crash) a no-op.

    The job writes this row in the same transaction as its result, so a job retried after ``kill -9``
    either finds the row (its work was committed) or redoes work that was rolled back (decision 0022).
    """

    __tablename__ = "job_results"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


# --- the procedure room over DICOM: performed procedure steps and dose reports (decision 0023) ----------------

MPPS_STATUSES = ("IN PROGRESS", "COMPLETED", "DISCONTINUED")


class ModalityStep(Base):
    """A Modality Performed Procedure Step the room's modality reported (MPPS N-CREATE, then N-SET).

    It never moves the pathway: the chart shows it, and a completed step's times and dose are offered to the
    radiologist as the procedure record's values "from the modality" until a person confirms them.
    """

    __tablename__ = "modality_steps"
    __table_args__ = (CheckConstraint(_one_of("status", MPPS_STATUSES), name="status_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    booking_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bookings.id"))
    calling_ae: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    fluoroscopy_minutes: Mapped[float | None] = mapped_column(Double)
    dap_gy_cm2: Mapped[float | None] = mapped_column(Double)
    air_kerma_mgy: Mapped[float | None] = mapped_column(Double)
    ctdivol_mgy: Mapped[float | None] = mapped_column(Double)
    dlp_mgy_cm: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


class DoseReport(Base):
    """A Radiation Dose Structured Report the modality stored (C-STORE), with its accumulated values."""

    __tablename__ = "dose_reports"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    booking_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bookings.id"))
    calling_ae: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))  # "xray" (fluoroscopy) or "ct"
    fluoroscopy_minutes: Mapped[float | None] = mapped_column(Double)
    dap_gy_cm2: Mapped[float | None] = mapped_column(Double)
    air_kerma_mgy: Mapped[float | None] = mapped_column(Double)
    ctdivol_mgy: Mapped[float | None] = mapped_column(Double)  # the highest CTDIvol of the events
    dlp_mgy_cm: Mapped[float | None] = mapped_column(Double)
    events: Mapped[int] = mapped_column(Integer, default=0)  # irradiation events in the report
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


# --- clinic settings edited by the admin, secure messages between patients and the team (decision 0035) ---

THREAD_STATUSES = ("open", "done")
AUTHOR_KINDS = ("patient", "staff")


class ClinicSettingsRow(Base):
    """The clinic's contact details as the admin set them (one row; absent: the environment's values apply)."""

    __tablename__ = "clinic_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(120))
    site: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    opening_hours: Mapped[str] = mapped_column(String(200))
    out_of_hours: Mapped[str | None] = mapped_column(String(200))
    directions: Mapped[str | None] = mapped_column(String(1000))
    time_zone: Mapped[str] = mapped_column(String(64))
    team_email: Mapped[str | None] = mapped_column(String(254))  # told "a patient message is waiting" (no content)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class MessageThread(Base):
    """A conversation between one patient and the team, started by the patient from the portal.

    ``staff_unread`` is set when the patient writes and cleared when anyone in the team opens the thread;
    ``patient_unread`` the other way round. The assignee is a staff user or a role (not both).
    """

    __tablename__ = "message_threads"
    __table_args__ = (
        CheckConstraint(_one_of("status", THREAD_STATUSES), name="status_known"),
        CheckConstraint("assignee_user IS NULL OR assignee_role IS NULL", name="one_assignee"),
        Index("ix_message_threads_inbox", "status", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"))  # "about my appointment"
    subject: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(8), default="open")
    assignee_user: Mapped[str | None] = mapped_column(String(64))
    assignee_role: Mapped[str | None] = mapped_column(String(32))
    staff_unread: Mapped[bool] = mapped_column(Boolean, default=True)
    patient_unread: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_message_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer)

    patient: Mapped[Patient] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ThreadMessage(Base):
    """One message of a thread, written by the patient or a member of staff; never edited."""

    __tablename__ = "thread_messages"
    __table_args__ = (CheckConstraint(_one_of("author_kind", AUTHOR_KINDS), name="author_kind_known"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("message_threads.id"), index=True)
    author_kind: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(128))  # a staff username, or patient:<reference>
    author_name: Mapped[str] = mapped_column(String(200))  # as the other side sees it ("Nurse Jo Bloggs", "You")
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
