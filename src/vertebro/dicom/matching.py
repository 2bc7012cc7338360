"""DICOM attribute matching (PS3.4 C.2.2.2) for the worklist keys modalities send, and the names we format.

Pure functions: single value, wildcard (``*`` any run, ``?`` one character), date and time range matching,
universal matching on an empty key. Person names are matched without regard to case, as most archives do.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

ACCESSION_PREFIX = "VB"


def accession_number(booking_id: int) -> str:
    """The accession number of a booking: stable for the booking's life, at most 16 characters (SH)."""
    return f"{ACCESSION_PREFIX}{booking_id:010d}"


def booking_id_of(accession: str) -> int | None:
    """The booking id an accession number names, or None when it is not one of ours."""
    text = accession.strip()
    if not text.startswith(ACCESSION_PREFIX) or not text[len(ACCESSION_PREFIX) :].isdigit():
        return None
    return int(text[len(ACCESSION_PREFIX) :])


def person_name(full_name: str | None) -> str:
    """A DICOM person name ``Family^Given`` from a stored ``Given Family`` name (the last word is the family)."""
    words = (full_name or "").replace("^", " ").split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{words[-1]}^{' '.join(words[:-1])}"


@lru_cache(maxsize=256)
def _wildcard(pattern: str, fold: bool) -> re.Pattern[str]:
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE | re.DOTALL if fold else re.DOTALL)


def matches_text(query: str | None, value: str | None, *, fold: bool = False) -> bool:
    """Single value or wildcard matching; an empty query (or ``*``) matches everything."""
    wanted = (query or "").strip()
    if wanted in ("", "*"):
        return True
    have = (value or "").strip()
    if "*" in wanted or "?" in wanted:
        return _wildcard(wanted, fold).match(have) is not None
    return have.casefold() == wanted.casefold() if fold else have == wanted


def matches_name(query: str | None, value: str | None) -> bool:
    """Person name matching: wildcards allowed, case folded; ``Family`` alone matches ``Family^Given``."""
    wanted = (query or "").strip()
    if wanted and "^" not in wanted and "*" not in wanted and "?" not in wanted:
        wanted = wanted + "^*"  # a bare family name: any given name
        return matches_text(wanted, value, fold=True) or matches_text(query, value, fold=True)
    return matches_text(wanted, value, fold=True)


def parse_date(text: str) -> dt.date:
    """A DICOM DA value (``YYYYMMDD``); raises ValueError otherwise."""
    return dt.datetime.strptime(text.strip(), "%Y%m%d").date()


def date_range(query: str | None) -> tuple[dt.date | None, dt.date | None] | None:
    """The bounds of a DA query: ``D`` (one day), ``D1-D2``, ``-D2``, ``D1-``; None for universal matching.

    Raises ValueError for a value that is not a date or a range of dates.
    """
    text = (query or "").strip()
    if not text:
        return None
    if "-" not in text:
        day = parse_date(text)
        return day, day
    low, _, high = text.partition("-")
    return (parse_date(low) if low.strip() else None, parse_date(high) if high.strip() else None)


def matches_date(bounds: tuple[dt.date | None, dt.date | None] | None, day: dt.date) -> bool:
    """True when ``day`` falls inside the (inclusive) bounds of :func:`date_range`."""
    if bounds is None:
        return True
    low, high = bounds
    return (low is None or day >= low) and (high is None or day <= high)


def parse_time(text: str) -> dt.time:
    """A DICOM TM value (``HH``, ``HHMM``, ``HHMMSS`` with an optional fraction); raises ValueError otherwise."""
    digits = text.strip().split(".")[0]
    if len(digits) not in (2, 4, 6) or not digits.isdigit():
        raise ValueError(f"not a DICOM time: {text!r}")
    hour, minute, second = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return dt.time(hour, minute, second)


def time_range(query: str | None) -> tuple[dt.time | None, dt.time | None] | None:
    """The bounds of a TM query, like :func:`date_range`."""
    text = (query or "").strip()
    if not text:
        return None
    if "-" not in text:
        moment = parse_time(text)
        return moment, moment
    low, _, high = text.partition("-")
    return (parse_time(low) if low.strip() else None, parse_time(high) if high.strip() else None)


def matches_time(bounds: tuple[dt.time | None, dt.time | None] | None, moment: dt.time) -> bool:
    """True when ``moment`` (to the second) falls inside the bounds of :func:`time_range`."""
    if bounds is None:
        return True
    low, high = bounds
    moment = moment.replace(microsecond=0)
    return (low is None or moment >= low) and (high is None or moment <= high)


def station_ae_title(room: str) -> str:
    """The default station AE title of a room: its letters and digits, upper case, at most 16 characters."""
    return re.sub(r"[^A-Za-z0-9]", "", room).upper()[:16]
