"""Clinic wall-clock time: the one place where a clinical interval is added to or taken from a time.

Every time the clinical core returns (a last dose, a fasting time, a restart, the end of the
escort) is a *naive wall-clock time in the clinic's time zone* (``ClinicPolicy.time_zone``). The
intervals themselves are elapsed time: "8 hours before" an 08:00 procedure on the morning the clocks
go forward is 23:00 the evening before, not midnight (only 7 hours before). :func:`shifted` does the
arithmetic in UTC and gives the result back as clinic wall-clock time, so the chart, the handout,
the portal and the API, which all read these values, show the same time. Calendar-day intervals
("last dose 5 days before the procedure day") are date arithmetic and never pass through here.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Europe/London"


@lru_cache(maxsize=16)
def zone_of(name: str) -> ZoneInfo:
    """Return the time zone called ``name`` (an IANA name such as 'Europe/London'); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}; use a name such as 'Europe/London'") from error


def shifted(moment: dt.datetime, zone_name: str, **delta: float) -> dt.datetime:
    """Return the clinic wall-clock time ``delta`` of elapsed time after ``moment`` (negative: before).

    ``moment`` is a naive clinic wall-clock time (an aware one is first expressed in the clinic's zone);
    the result is naive, in the same zone, exactly ``delta`` of real time away, across clock changes.
    """
    zone = zone_of(zone_name)
    local = moment.astimezone(zone) if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    result = (local.astimezone(dt.UTC) + dt.timedelta(**delta)).astimezone(zone)
    return result.replace(tzinfo=None)


def aware(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """Return a naive clinic wall-clock time as an aware time in the clinic's zone (for display with the zone)."""
    if moment.tzinfo is not None:
        return moment.astimezone(zone_of(zone_name))
    return moment.replace(tzinfo=zone_of(zone_name))


def elapsed(first: dt.datetime, last: dt.datetime, zone_name: str) -> dt.timedelta:
    """Return the real time between two clinic wall-clock times (``last - first``)."""
    return aware(last, zone_name).astimezone(dt.UTC) - aware(first, zone_name).astimezone(dt.UTC)


def wall_clock(moment: dt.datetime, zone_name: str) -> dt.datetime:
    """Return an aware moment (a booked slot, 'now') as naive clinic wall-clock time, comparable with the core's times.

    A naive ``moment`` is taken to be clinic wall-clock time already and returned unchanged.
    """
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone_of(zone_name)).replace(tzinfo=None)
