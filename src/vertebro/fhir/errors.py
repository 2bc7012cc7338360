"""Errors of the FHIR layer that the domain errors (:mod:`vertebro.errors`) do not cover."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from starlette.routing import compile_path

from vertebro.errors import VertebroError


class InvalidResource(VertebroError):
    """The request body is not a valid FHIR resource of the expected type (400)."""

    status_code: ClassVar[int] = 400


class InvalidToken(VertebroError):
    """A bearer token was sent but is not (or no longer) valid: unknown, expired, ended, or its SMART app or
    client revoked (401, ``WWW-Authenticate: Bearer error="invalid_token"``, RFC 6750 section 3.1)."""

    status_code: ClassVar[int] = 401


class NotAllowed(VertebroError):
    """The interaction is not allowed on this resource, e.g. updating a derived resource (405)."""

    status_code: ClassVar[int] = 405


class NotAcceptable(VertebroError):
    """The client asks for a format this server does not answer in, e.g. XML or FHIR STU3 (406)."""

    status_code: ClassVar[int] = 406


class UnsupportedMediaType(VertebroError):
    """The body is in a format this server does not read, e.g. XML (415)."""

    status_code: ClassVar[int] = 415


def instant(value: str, parameter: str) -> dt.datetime:
    """Return a search parameter's instant (with a time zone); raise InvalidResource (400) naming it otherwise."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidResource(
            f"{parameter}={value!r} is not an instant (e.g. 2026-11-22T10:00:00Z)", field=parameter
        ) from None
    if parsed.tzinfo is None:
        raise InvalidResource(f"{parameter}={value!r} needs a time zone (e.g. Z or +01:00)", field=parameter)
    return parsed


def allowed_methods(openapi: Mapping[str, Any], path: str) -> list[str]:
    """Return the methods ``/openapi.json`` documents at a request path: the ``Allow`` header of a 405.

    (RFC 9110 section 15.5.6.) The most specific path wins (``/fhir/Patient/_history`` over
    ``/fhir/Patient/{resource_id}``). Empty when no documented path matches, e.g. a type vertebro does not serve.
    """
    matches: dict[int, set[str]] = {}  # by the number of parameters in the template: the fewest is the most specific
    for template, operations in openapi.get("paths", {}).items():
        if compile_path(template)[0].match(path):
            matches.setdefault(template.count("{"), set()).update(method.upper() for method in operations)
    return sorted(matches[min(matches)]) if matches else []
