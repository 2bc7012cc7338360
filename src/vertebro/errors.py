"""Domain errors that carry an HTTP-like status code.

Services raise these; a boundary (CLI command, web request) turns them into an exit code or an
HTTP response. ``field`` names the input that caused the error, in dotted form such as
``patient.identifier``, so a form or a CLI message can point at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class VertebroError(Exception):
    """Base of every domain error; ``status_code`` follows HTTP semantics."""

    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        """The message after its field, once: a message that already starts with its field is not prefixed again."""
        if not self.field or self.message.startswith(f"{self.field}: "):
            return self.message
        return f"{self.field}: {self.message}"


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


def listed(problems: dict[str, str]) -> str:
    """Return every problem in one line, each after its field: "scope: ...; jwks: ..."."""
    return "; ".join(f"{name}: {message}" for name, message in problems.items())


@dataclass
class Problems:
    """Collects the problems of a form's fields so that all of them are reported at once (GOV.UK style), in the
    services as in the web forms.

    ``value = problems.check(form.number, "inr", 0.5, 15)`` (or ``problems.check(lambda: ...)``) returns the parsed
    value, or None after noting the field's problem; ``raise_any()`` raises :class:`InvalidFields` with every
    problem noted.
    """

    found: dict[str, str] = field(default_factory=dict)

    def check(self, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """Return what ``parse(*args, **kwargs)`` returns, or None when it refuses the input (the problem is noted)."""
        try:
            return parse(*args, **kwargs)
        except InvalidFields as error:  # several problems of its own: each noted beside its field
            for name, message in error.problems.items():
                self.found.setdefault(name, message)
            return None
        except InvalidInput as error:
            self.found.setdefault(error.field or "form", error.message)
            return None

    def add(self, name: str, message: str) -> None:
        """Note a problem found by a check across fields."""
        self.found.setdefault(name, message)

    def raise_any(self) -> None:
        """Raise :class:`InvalidFields` when any problem was noted."""
        if self.found:
            raise InvalidFields(listed(self.found), self.found)
