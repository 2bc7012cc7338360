"""FHIR search parameters as the spec reads them: AND of repeats, comma OR lists, date prefixes, and
the parameters a server does not support (refused under ``Prefer: handling=strict``, else left out of the
self link). See https://hl7.org/fhir/R4/search.html (sections 3.1.1.4, 3.1.1.5.1 and 3.1.1.1.2).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from vertebro.fhir.errors import InvalidResource

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
# Parameters every search takes (result parameters), beside the type's own.
RESULT_PARAMETERS = ("_count", "_summary", "_elements", "_format")
SUMMARY_VALUES = ("count", "false")
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_SPLIT = re.compile(r"(?<!\\),")


@dataclass(slots=True)
class Parameters:
    """The query of one search: the parameters used (name to the AND list of OR lists) and those ignored."""

    used: dict[str, list[list[str]]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[list[str]]:
        """Return the AND list of OR lists of one parameter (empty when absent)."""
        return self.used.get(name, [])

    def single(self, name: str) -> str | None:
        """Return the one value of a parameter that takes one (400 when repeated or an OR list)."""
        found = self.values(name)
        if not found:
            return None
        if len(found) > 1 or len(found[0]) > 1:
            raise InvalidResource(f"{name} takes one value", field=name)
        return found[0][0]

    def query(self, **replace: str | None) -> str:
        """Return the query string of the parameters used (the self link), with some replaced or removed."""
        pairs: list[tuple[str, str]] = []
        for name, groups in self.used.items():
            if name in replace:
                continue
            pairs.extend((name, ",".join(group)) for group in groups)
        pairs.extend((k, v) for k, v in replace.items() if v is not None)
        return urlencode(pairs)


def strict(prefer: str | None) -> bool:
    """Return whether the client asked for ``Prefer: handling=strict``."""
    parts = (prefer or "").replace(";", ",").split(",")
    return any(part.strip().replace(" ", "") == "handling=strict" for part in parts)


def parse(items: Iterable[tuple[str, str]], supported: Sequence[str], *, prefer: str | None) -> Parameters:
    """Split a query into the parameters ``supported`` (with modifiers, e.g. ``name:exact``) and the others.

    Under ``Prefer: handling=strict`` an unsupported parameter is a 400 naming it; otherwise it is ignored
    (and left out of the self link, which is how the spec says a server reports what it did not use).
    """
    result = Parameters()
    for name, value in items:
        if value == "" and name not in ("_count", "_after", "_offset"):  # R4 search 3.1.1.1.2: ignored
            result.ignored.append(name)
            continue
        if name == "_summary" and name in supported:  # one code, never a list: "a,b" is a value not supported
            result.used.setdefault(name, []).append([value])
        elif name in supported:
            result.used.setdefault(name, []).append([v.replace("\\,", ",") for v in _SPLIT.split(value)])
        elif strict(prefer):
            raise InvalidResource(
                f"the search parameter {name!r} is not supported here (supported: {', '.join(supported)})",
                field=name,
            )
        else:
            result.ignored.append(name)
    summary = result.single("_summary")
    if summary is not None and summary not in SUMMARY_VALUES:
        if strict(prefer):
            raise InvalidResource(f"_summary={summary} is not supported here (count, false)", field="_summary")
        del result.used["_summary"]
        result.ignored.append("_summary")
    return result


def chosen(parameters: Parameters, name: str, supported: Sequence[str], *, prefer: str | None) -> list[str]:
    """Return the values of a result parameter that takes a list (``_sort`` keys, ``_revinclude`` paths) that
    ``supported`` names (a ``-`` before a ``_sort`` key, descending, is allowed whatever the key).

    Under ``Prefer: handling=strict`` any other value is a 400 naming it; otherwise it is dropped from the
    parameters used, so that the self link shows only what was used (R4 search 3.1.1.5.1 and 3.1.1.1.2).
    """
    if name == "_sort" and len(parameters.values(name)) > 1:
        raise InvalidResource("_sort takes one value (a comma list of keys)", field="_sort")
    kept: list[str] = []
    for group in parameters.values(name):
        for value in group:
            if value.removeprefix("-" if name == "_sort" else "") in supported:
                kept.append(value)
            elif strict(prefer):
                raise InvalidResource(
                    f"{name}={value!r} is not supported here (supported: {', '.join(supported) or 'none'})",
                    field=name,
                )
    if kept:
        parameters.used[name] = [kept]
    elif name in parameters.used:
        del parameters.used[name]
        parameters.ignored.append(name)
    return kept


def count(parameters: Parameters, default: int, maximum: int) -> int:
    """Return ``_count`` (0 asks for the total only), at most ``maximum``; 400 when it is not a number."""
    value = parameters.single("_count")
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidResource(f"_count={value!r} is not a whole number", field="_count")
    return min(int(value), maximum)


def elements(parameters: Parameters) -> list[str] | None:
    """Return the elements ``_elements`` keeps (None: the whole resource)."""
    found = parameters.values("_elements")
    if not found:
        return None
    return [e.strip() for group in found for e in group if e.strip()]


def only_elements(resource: dict[str, object], keep: list[str] | None) -> dict[str, object]:
    """Return the resource with only the elements of ``_elements`` (and the mandatory ones), tagged SUBSETTED."""
    if keep is None:
        return resource
    kept = {k: v for k, v in resource.items() if k in keep or k in ("resourceType", "id")}
    meta = dict(resource.get("meta") or {})  # type: ignore[call-overload]
    tag = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
    meta["tag"] = [*meta.get("tag", []), tag]
    kept["meta"] = meta
    return kept


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date search value or a resource's date as the half-open range it stands for [low, high)."""

    low: dt.datetime
    high: dt.datetime


def date_range(text: str, parameter: str) -> DateRange:
    """Return the range a FHIR date, dateTime or instant stands for (a year, month, day or instant)."""
    match = _PARTIAL.match(text)
    try:
        if match:
            year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
            low = dt.datetime(year, month, day, tzinfo=dt.UTC)
            if match.group(3):
                high = low + dt.timedelta(days=1)
            elif match.group(2):
                high = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
            else:
                high = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
            return DateRange(low, high)
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidResource(
            f"{parameter}={text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime), "
            f"optionally after a prefix ({', '.join(DATE_PREFIXES)})",
            field=parameter,
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return DateRange(instant, instant + dt.timedelta(seconds=1))


def date_value(value: str, parameter: str) -> tuple[str, DateRange]:
    """Return the prefix (``eq`` when none) and the range of one date search value."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    rest = value[2:] if value[:2] in DATE_PREFIXES else value
    return prefix, date_range(rest, parameter)


def date_matches(prefix: str, wanted: DateRange, found: DateRange, *, now: dt.datetime | None = None) -> bool:
    """Return whether a resource's date range ``found`` matches a prefixed search value (R4 search 3.1.1.4.3)."""
    within = wanted.low <= found.low and found.high <= wanted.high
    if prefix == "eq":
        return within
    if prefix == "ne":
        return not within
    if prefix == "gt":
        return found.high > wanted.high
    if prefix == "lt":
        return found.low < wanted.low
    if prefix == "ge":
        return found.high > wanted.high or within
    if prefix == "le":
        return found.low < wanted.low or within
    if prefix == "sa":
        return found.low >= wanted.high
    if prefix == "eb":
        return found.high <= wanted.low
    # ap: the ranges overlap once the search value is widened by 10% of its distance from now
    moment = now or dt.datetime.now(dt.UTC)
    gap = abs(moment - wanted.low) * 0.1
    return found.low < wanted.high + gap and found.high > wanted.low - gap


def date_bounds(prefix: str, wanted: DateRange) -> tuple[dt.date | None, dt.date | None, bool]:
    """Return how a whole-day date column (birth date) matches a prefixed value: ``(at_least, before, negate)``
    meaning ``at_least <= day < before`` (a bound None is open), the whole negated when ``negate``."""
    low = wanted.low.date()
    high = (wanted.high - dt.timedelta(microseconds=1)).date() + dt.timedelta(days=1)
    ap_gap = abs(dt.datetime.now(dt.UTC) - wanted.low) * 0.1
    table: dict[str, tuple[dt.date | None, dt.date | None, bool]] = {
        "eq": (low, high, False),
        "ne": (low, high, True),
        "gt": (high, None, False),
        "sa": (high, None, False),
        "lt": (None, low, False),
        "eb": (None, low, False),
        "ge": (low, None, False),
        "le": (None, high, False),
        "ap": ((wanted.low - ap_gap).date(), (wanted.high + ap_gap).date() + dt.timedelta(days=1), False),
    }
    return table[prefix]
