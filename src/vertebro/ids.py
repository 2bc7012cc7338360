"""Record ids as they arrive from outside: every id is a positive integer of at most 2**53 - 1, or it names nothing.

The database keys are 64-bit signed integers (``BIGINT`` on PostgreSQL, ``INTEGER`` on SQLite). A larger number
in a path or a query (``/api/cases/99999999999999999999``) cannot name a record; passed on to the database it
fails in the driver (an error 500). The bound is set lower still, at 2**53 - 1: the largest integer that every
JSON reader holds exactly (I-JSON, RFC 7493 section 2.2; JavaScript's ``Number.MAX_SAFE_INTEGER``), so an id the
API hands out is the same id in every client, and the bound itself is exact in a JSON Schema number. Keys are
allocated from 1 upwards; a clinic does not reach 2**53.

Every route that takes an id declares it with :data:`RecordId` (FastAPI answers an id out of range with 422, and
``/openapi.json`` documents the bounds); every FHIR id or reference (a string) is read with :func:`record_id`
(None: the resource does not exist, 404). A FHIR logical id in a path is a :data:`FhirId`.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BeforeValidator, StringConstraints

MAX_RECORD_ID = 2**53 - 1  # below the database's 2**63 - 1, and exact in every JSON reader


def whole_number(value: object) -> object:
    """Return a JSON number without a fraction (``5.0``) as the integer it is; anything else unchanged.

    JSON has one number type: 5 and 5.0 are the same integer (RFC 8259 section 6; JSON Schema's ``integer``), so
    strict integer fields take both, while a fraction (5.5), a string or a boolean is still refused.
    """
    return int(value) if isinstance(value, float) and value.is_integer() else value


RecordId = Annotated[int, Ge(1), Le(MAX_RECORD_ID), BeforeValidator(whole_number)]
"""A record id in a path, a query parameter or a body: 1 to 2**53 - 1 (outside: 422)."""


def record_id(text: str) -> int | None:
    """Return the record id a FHIR id or reference names (ASCII digits, 1 to 2**53 - 1), None when it names none.

    ``str.isdecimal`` alone would accept other scripts' digits (``int("٣")`` is 3), so only ASCII digits count.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_RECORD_ID else None


FhirId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
"""A FHIR logical id in a path (the R4 ``id`` datatype: letters, digits, ``-`` and ``.``, 1 to 64); outside: 400."""
