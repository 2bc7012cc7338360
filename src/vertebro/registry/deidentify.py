"""De-identification of registry rows for research (method: docs/registry-deidentification.md).

* Keys are pseudonyms: keyed BLAKE2b (RFC 7693's MAC mode; the key is the SHA-256 of the secret salt), so
  they cannot be recomputed without the salt, and the same salt gives the same pseudonyms (exports can be
  linked over time by whoever holds it).
* Dates move by one offset per patient, drawn from the second half of the patient's keyed hash (-182 to +182 days,
  never 0): every interval between one patient's events is kept; calendar dates are not.
* Ages are whole years at the procedure, computed from the true dates; 90 and over become "90+".
* Aggregate cells counting 1 to ``SMALL_CELL - 1`` patients are suppressed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any

from vertebro.clinical.facts import age_on

MAX_SHIFT_DAYS = 182
AGE_TOP = 90
SMALL_CELL = 5
SUPPRESSED = f"<{SMALL_CELL}"


@functools.lru_cache(maxsize=8)
def _keyed(salt: bytes) -> Any:
    return hashlib.blake2b(key=salt, digest_size=16)


def _digest(salt: bytes, purpose: str, key: object) -> bytes:
    h = _keyed(salt).copy()  # the key is absorbed once; copying the state is cheaper than re-keying
    h.update(f"{purpose}:{key}".encode())
    digest: bytes = h.digest()
    return digest


def salt_bytes(salt: str) -> bytes:
    """Return the hashing key derived from the salt (SHA-256 of it); refuse a salt under 16 characters."""
    if len(salt) < 16:
        raise ValueError("salt: use at least 16 characters (set VERTEBRO_REGISTRY_SALT)")
    return hashlib.sha256(salt.encode()).digest()


def pseudonym(salt: bytes, kind: str, key: object) -> str:
    """Return a stable pseudonym for a key (a patient, case or operator): the kind's letter and 16 hex digits."""
    return f"{kind[0].upper()}{_digest(salt, kind, key)[:8].hex()}"


def _offset(digest: bytes) -> int:
    value = int.from_bytes(digest[8:16], "big") % (2 * MAX_SHIFT_DAYS)
    return value - MAX_SHIFT_DAYS if value < MAX_SHIFT_DAYS else value - MAX_SHIFT_DAYS + 1


def date_offset_days(salt: bytes, patient_id: int) -> int:
    """Return the patient's date shift in days: -182 to -1 or 1 to 182, the same for every date of the patient.

    Drawn from the second half of the patient's keyed hash, whose first half is the pseudonym.
    """
    return _offset(_digest(salt, "patient", patient_id))


def patient_key(salt: bytes, patient_id: int) -> tuple[str, int]:
    """Return the patient's pseudonym and date shift from one keyed hash."""
    digest = _digest(salt, "patient", patient_id)
    return f"P{digest[:8].hex()}", _offset(digest)


def age_group(birth_date: dt.date | None, on: dt.date) -> str:
    """Return the age in whole years on a date, "90+" from 90 on, "" when the birth date is unknown."""
    if birth_date is None:
        return ""
    years = age_on(birth_date, on)
    return f"{AGE_TOP}+" if years >= AGE_TOP else str(years)


def small_cell(n: int) -> str:
    """Return a count for an aggregate table, with 1 to 4 suppressed as "<5"."""
    return SUPPRESSED if 0 < n < SMALL_CELL else str(n)
