"""Record ids as they arrive from outside: every id is a positive 64-bit integer, or it names nothing.

The database keys are 64-bit signed integers (``BIGINT`` on PostgreSQL, ``INTEGER`` on SQLite). A larger number
in a path or a query (``/api/cases/99999999999999999999``) cannot name a record; passed on to the database it
would fail in the driver (an error 500). So every route that takes an id declares it with :data:`RecordId`
(FastAPI answers an id out of range with 422, and ``/openapi.json`` documents the bounds), and every FHIR id
or reference (a string) is read with :func:`record_id` (None: the resource does not exist, 404).
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import StringConstraints

MAX_RECORD_ID = 2**63 - 1  # the largest 64-bit signed integer: the largest key the database can hold

RecordId = Annotated[int, Ge(1), Le(MAX_RECORD_ID)]
"""A record id in a path or query parameter: 1 to 2**63 - 1 (outside: 422)."""


def record_id(text: str) -> int | None:
    """Return the record id a FHIR id or reference names (ASCII digits, 1 to 2**63 - 1), None when it names none.

    ``str.isdecimal`` alone would accept other scripts' digits (``int("٣")`` is 3), so only ASCII digits count.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_RECORD_ID else None


FhirId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9\-.]{1,64}$")]
"""A FHIR logical id in a path (the R4 ``id`` datatype: letters, digits, ``-`` and ``.``, 1 to 64); outside: 400."""
