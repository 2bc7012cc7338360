"""Vertebral levels: parsing, ordering and the spinal region each belongs to."""

from __future__ import annotations

import re

_REGIONS = {
    "C": ("cervical", 7),
    "T": ("thoracic", 12),
    "L": ("lumbar", 5),
    "S": ("sacral", 5),
}
_OFFSET = {"C": 0, "T": 7, "L": 19, "S": 24}
_LEVEL = re.compile(r"^([CTLS])([1-9]|1[0-2])$")


def level_error(level: str) -> str | None:
    """Return why ``level`` is not a vertebral level such as ``T12`` or ``L1``, or None if it is."""
    match = _LEVEL.match(level)
    if match is None:
        return f"{level!r} is not a vertebral level; write it like 'T12' or 'L1'"
    letter, number = match.group(1), int(match.group(2))
    _, count = _REGIONS[letter]
    if number > count:
        return f"{level!r} does not exist: the {_REGIONS[letter][0]} spine has {count} vertebrae"
    return None


def level_index(level: str) -> int:
    """Return the position of a (valid) level from the skull down: C1 = 1 ... L5 = 24, S1 = 25."""
    return _OFFSET[level[0]] + int(level[1:])


def region(level: str) -> str:
    """Return the spinal region of a (valid) level: cervical, thoracic, lumbar or sacral."""
    return _REGIONS[level[0]][0]


def adjacent(a: str, b: str) -> bool:
    """Return True when two (valid) levels are next to each other."""
    return abs(level_index(a) - level_index(b)) == 1


def within(level: str, highest: str, lowest: str) -> bool:
    """Return True when a (valid) level lies between ``highest`` and ``lowest`` (inclusive, skull down)."""
    return level_index(highest) <= level_index(level) <= level_index(lowest)
