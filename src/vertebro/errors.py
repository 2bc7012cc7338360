"""Domain errors that carry an HTTP-like status code.

Services raise these; a boundary (CLI command, web request) turns them into an exit code or an
HTTP response. ``field`` names the input that caused the error, in dotted form such as
``patient.identifier``, so a form or a CLI message can point at it.
"""

from __future__ import annotations

from typing import ClassVar


class VertebroError(Exception):
    """Base of every domain error; ``status_code`` follows HTTP semantics."""

    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(VertebroError):
    """The requested record does not exist (404)."""

    status_code: ClassVar[int] = 404


class Conflict(VertebroError):
    """The request clashes with the current state, e.g. a duplicate record (409)."""

    status_code: ClassVar[int] = 409


class PreconditionFailed(VertebroError):
    """The record changed since the client read it: a stale version or ETag (412)."""

    status_code: ClassVar[int] = 412


class InvalidInput(VertebroError):
    """The input is well-formed but cannot be processed as given (422)."""

    status_code: ClassVar[int] = 422


class PreconditionRequired(VertebroError):
    """A conditional request was required, e.g. a clinical update without If-Match (428)."""

    status_code: ClassVar[int] = 428


class NotMigrated(VertebroError):
    """The database schema is not at the revision this code expects (503)."""

    status_code: ClassVar[int] = 503


class InvalidFields(InvalidInput):
    """Several inputs are wrong at once (422): ``problems`` maps each field to its message, in form order.

    A form shows every message beside its field and all of them in one summary, instead of one at a time.
    """

    def __init__(self, message: str, problems: dict[str, str]) -> None:
        super().__init__(message, field=next(iter(problems), None))
        self.problems = dict(problems)
