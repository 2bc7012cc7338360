"""Where each fact of a case read from FHIR came from, as the chart shows it (issue 13 item 3, decision 0031).

The reading report of ``intake.fhir_bundle`` is stored with the case (``case_fact_sources``, document
``vertebro-fact-sources/1``). The chart puts each fact's value as read beside its value now: a fact edited on the
chart since is shown as changed, never as still what the resource said (hazard H90).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from vertebro.store.models import CaseFactSources

FORMAT = "vertebro-fact-sources/1"
VIA = frozenset({"fhir-import", "fhir-assess"})
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def value_at(document: Any, path: str) -> Any:
    """Return the value at a case path such as ``labs.inr`` or ``fractures[0].onset_weeks`` (None if absent)."""
    value = document
    for name, index in _STEP.findall(path):
        if name:
            value = value.get(name) if isinstance(value, dict) else None
        else:
            position = int(index)
            value = value[position] if isinstance(value, list) and position < len(value) else None
        if value is None:
            return None
    return value


def shown(value: Any) -> str:
    """Return a fact's value as the chart prints it: not recorded, yes/no, a medicine's name, or the value."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        for key in ("name", "text", "code"):
            if value.get(key) is not None:
                return str(value[key])
        return ", ".join(f"{k} {shown(v)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        return "reviewed: none" if not value else "; ".join(shown(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class SourcedFact:
    """One fact of a case with the FHIR resources it was read from."""

    path: str
    read: str  # the value as read from FHIR, shown
    now: str  # the value on the case now, shown
    changed: bool  # edited since it was read: the resources no longer say what the case holds
    source: str  # the reader's words: resource, element and any note (e.g. "the latest")
    resources: tuple[tuple[str, str], ...]  # (Type/id, code as "System code") of each resource named


@dataclass(frozen=True, slots=True)
class FactSourcesView:
    """The provenance of a case read from FHIR, as the chart shows it."""

    via: str
    recorded_at: dt.datetime
    facts: tuple[SourcedFact, ...]
    not_recorded: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...]
    conflicts: tuple[str, ...]


def check_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return a fact sources document if it is one (``vertebro-fact-sources/1``); raise ValueError otherwise."""
    if document.get("format") != FORMAT:
        raise ValueError(f"fact sources: format must be {FORMAT!r}")
    for key in ("facts", "not_recorded", "ignored", "conflicts"):
        if not isinstance(document.get(key), list):
            raise ValueError(f"fact sources: {key} must be a list")
    return document


def new_row(case_id: int, via: str, document: dict[str, Any]) -> CaseFactSources:
    """Return the row that keeps a case's fact sources (checked; not added to any session)."""
    if via not in VIA:
        raise ValueError(f"fact sources: via must be one of {sorted(VIA)}")
    return CaseFactSources(case_id=case_id, via=via, document=check_document(document))


def view_of(row: CaseFactSources, current: dict[str, Any]) -> FactSourcesView:
    """Return the chart's view of a case's fact sources; ``current`` is the case's facts now (JSON form)."""
    document = row.document
    facts = []
    for fact in document["facts"]:
        read, now = fact.get("value"), value_at(current, fact["path"])
        facts.append(
            SourcedFact(
                path=fact["path"],
                read=shown(read),
                now=shown(now),
                changed=read != now,
                source=fact.get("source", ""),
                resources=tuple((r["reference"], r.get("code") or "no code") for r in fact.get("resources", [])),
            )
        )
    return FactSourcesView(
        via=row.via,
        recorded_at=row.recorded_at,
        facts=tuple(facts),
        not_recorded=tuple(document["not_recorded"]),
        ignored=tuple((i["resource"], i["reason"]) for i in document["ignored"]),
        conflicts=tuple(document["conflicts"]),
    )
