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
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vertebro.store.base import Base, BigIntPK, JSONDocument, UTCDateTime, utc_now


class Patient(Base):
    """A patient, identified by the clinic's own identifier (e.g. the MRN)."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
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
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
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
