"""SMART-style scopes of API tokens: ``(patient|user|system)/(Type|*).(read|write|*|cruds)``.

A bearer token from ``POST /api/token`` may carry scopes; the /fhir routes then allow only what they grant,
per resource type and per read (``read``, SMART v2 ``r``/``s``) or write (``write``, v2 ``c``/``u``).
``patient/`` scopes need the token's patient (its launch context) and reach only that patient's data.
A token without scopes, and a browser session, may do whatever the member of staff's role allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vertebro.errors import InvalidInput
from vertebro.store.db import UnitOfWork
from vertebro.store.models import WebSession
from vertebro.store.staff_service import Forbidden

Mode = Literal["read", "write"]
_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")


@dataclass(frozen=True, slots=True)
class Scope:
    """One granted scope: the context (patient, user, system), the resource type (or ``*``) and the modes."""

    context: str
    resource_type: str
    read: bool
    write: bool
    text: str

    def grants(self, resource_type: str, mode: Mode) -> bool:
        """Return whether this scope covers ``mode`` on ``resource_type``."""
        return self.resource_type in ("*", resource_type) and (self.read if mode == "read" else self.write)

    def covers(self, asked: Scope) -> bool:
        """Return whether this scope grants everything ``asked`` asks for: its resource type and each of its modes."""
        return (
            self.resource_type in ("*", asked.resource_type)
            and (self.read or not asked.read)
            and (self.write or not asked.write)
        )


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """Return the scopes of a space-separated scope string; raise InvalidInput naming the first bad one.

    Scopes that are not about resources (``openid``, ``launch``, ``offline_access``, ...) are refused:
    vertebro issues only resource scopes.
    """
    scopes: list[Scope] = []
    for word in text.split():
        match = _SCOPE.match(word)
        if match is None or match.group(3) == "":
            raise InvalidInput(
                f"{word!r} is not a scope vertebro grants (e.g. user/*.read, patient/Observation.rs, system/*.*)",
                field="scope",
            )
        context, resource_type, modes = match.groups()
        if modes in ("read", "write", "*"):  # SMART v1
            read, write = modes != "write", modes != "read"
        else:  # SMART v2: c r u d s
            read, write = bool(set(modes) & {"r", "s"}), bool(set(modes) & {"c", "u", "d"})
        scopes.append(Scope(context, resource_type, read, write, word))
    if not scopes:
        raise InvalidInput("the scope is empty: leave it out for the role's full access", field="scope")
    return tuple(scopes)


@dataclass(frozen=True, slots=True)
class Grant:
    """What one request may do: ``scopes`` None means everything the role allows (browser sessions too)."""

    scopes: tuple[Scope, ...] | None = None
    patient_id: int | None = None  # the launch patient of patient/ scopes

    @property
    def text(self) -> str:
        """The scopes as given, for messages."""
        if self.scopes is None:
            return "(all the role allows)"
        return " ".join(s.text for s in self.scopes)

    def allows(self, resource_type: str, mode: Mode, patient_id: int | None = None) -> bool:
        """Return whether the scopes allow ``mode`` on ``resource_type`` of ``patient_id``.

        ``patient_id`` None means the request is not about one patient (a search or export across patients):
        then ``patient/`` scopes do not cover it.
        """
        if self.scopes is None:
            return True
        return any(
            scope.grants(resource_type, mode)
            and (scope.context != "patient" or (patient_id is not None and patient_id == self.patient_id))
            for scope in self.scopes
        )

    def require(self, resource_type: str, mode: Mode, patient_id: int | None = None) -> None:
        """Raise Forbidden (403) naming the scopes unless they allow ``mode`` on ``resource_type`` of ``patient_id``."""
        if not self.allows(resource_type, mode, patient_id):
            where = f" of Patient/{patient_id}" if patient_id is not None else " across patients"
            raise Forbidden(
                f"the token's scopes ({self.text}) do not allow {mode} of {resource_type}{where}", field="scope"
            )

    def only_patient(self, resource_type: str, mode: Mode) -> int | None:
        """Return the launch patient when only ``patient/`` scopes allow this (the search must keep to that
        patient); None when user or system scopes allow it for every patient. Raises Forbidden otherwise."""
        if self.scopes is None:
            return None
        matching = [s for s in self.scopes if s.grants(resource_type, mode)]
        if any(s.context != "patient" for s in matching):
            return None
        if matching and self.patient_id is not None:
            return self.patient_id
        raise Forbidden(f"the token's scopes ({self.text}) do not allow {mode} of {resource_type}", field="scope")


def checked_scope(uow: UnitOfWork, scope: str | None, patient: int | None) -> tuple[str | None, int | None]:
    """Return the normalised scope string and launch patient a token asks for (None: the role's full access).

    ``patient/`` scopes need ``patient`` (an existing Patient id); ``patient`` without them is refused.
    """
    if scope is None:
        if patient is not None:
            raise InvalidInput("patient is the context of patient/ scopes: ask for some", field="patient")
        return None, None
    scopes = parse_scopes(scope)
    needs_patient = any(s.context == "patient" for s in scopes)
    if needs_patient and patient is None:
        raise InvalidInput("patient/ scopes need the patient they are about (patient: a Patient id)", field="patient")
    if not needs_patient and patient is not None:
        raise InvalidInput("patient is the context of patient/ scopes: none was asked for", field="patient")
    if patient is not None and uow.patients.get(patient) is None:
        raise InvalidInput(f"Patient/{patient} does not exist", field="patient")
    return " ".join(scope.split()), patient


def grant_scope(web_session: WebSession, scope: str | None, patient: int | None) -> None:
    """Give a freshly signed-in API session its scopes (from :func:`checked_scope`)."""
    web_session.scope = scope
    web_session.launch_patient_id = patient
