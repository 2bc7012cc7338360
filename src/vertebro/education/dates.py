"""Dates and times as a patient reads them: local wall-clock time that is right across clock changes.

The clinical core computes every time as clinic wall-clock time with elapsed-time arithmetic in the
clinic's zone (:mod:`vertebro.clinical.clock`, ``ClinicPolicy.time_zone``): before an 08:00 procedure on
the morning the clocks go forward, "8 hours before" is 23:00 the evening before. :class:`LocalClock`
attaches that zone (or shows the time in another one), so the chart, the handout, the portal and the
API show the same times. Calendar dates (last dose on a day, no driving until a day) are not shifted.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, aware

_ZONEINFO_ROOTS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")


def clinic_zone(name: str | None = None) -> ZoneInfo | None:
    """Return the clinic's time zone: ``name`` if given, else ``$TZ``, else the machine's zone, else None.

    An unknown name raises ValueError. None means times are shown as the clinical core computed them.
    """
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}; use a name such as 'Europe/London'") from error
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        for root in _ZONEINFO_ROOTS:
            if target.startswith(root):
                try:
                    return ZoneInfo(target.removeprefix(root))
                except (ZoneInfoNotFoundError, ValueError):
                    return None
    return None


@dataclass(frozen=True, slots=True)
class LocalClock:
    """Shows the core's times (naive clinic wall-clock times, ``clinic_zone``) as aware times in ``zone``.

    The core already computes every interval as elapsed time in the clinic's zone
    (:mod:`vertebro.clinical.clock`), so this only attaches the zone (for its abbreviation on the page)
    or expresses the time in another zone; it never adds or subtracts an interval.
    """

    anchor: dt.datetime
    zone: ZoneInfo | None
    clinic_zone: str = DEFAULT_TIME_ZONE

    def __call__(self, moment: dt.datetime) -> dt.datetime:
        """Return ``moment`` as an aware time in the display zone (unchanged when there is none)."""
        if self.zone is None:
            return moment
        return aware(moment, self.clinic_zone).astimezone(self.zone)

    def clock_change_between(self, first: dt.datetime, last: dt.datetime) -> bool:
        """Return True when the clocks change between two of the core's times."""
        if self.zone is None:
            return False
        return self(first).utcoffset() != self(last).utcoffset()


def long_date(day: dt.date) -> str:
    """Return a date as 'Monday 14 December 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: dt.date) -> str:
    """Return a date as 'Mon 14 Dec'."""
    return f"{day:%a} {day.day} {day:%b}"


def clock_time(moment: dt.datetime | dt.time, *, zone_name: bool = False) -> str:
    """Return a time as '8:00 am' (with the zone's abbreviation, e.g. 'GMT', when asked)."""
    hour = moment.hour % 12 or 12
    text = f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"
    if moment.hour == 12 and moment.minute == 0:
        text = "12:00 noon"
    elif moment.hour == 0 and moment.minute == 0:
        text = "12:00 midnight"
    if zone_name and isinstance(moment, dt.datetime) and moment.tzinfo is not None:
        text += f" {moment.tzname()}"
    return text


def date_time(moment: dt.datetime, *, zone_name: bool = False) -> str:
    """Return a moment as '8:00 am on Monday 14 December 2026'.

    Midnight is named by the night it ends, which no reader can take for the wrong day:
    '12:00 midnight, the night of Sunday 13 to Monday 14 December 2026'.
    """
    if moment.hour == 0 and moment.minute == 0:
        before = moment.date() - dt.timedelta(days=1)
        night = f"the night of {before:%A} {before.day} to {long_date(moment.date())}"
        return f"{clock_time(moment, zone_name=zone_name)}, {night}"
    return f"{clock_time(moment, zone_name=zone_name)} on {long_date(moment.date())}"
