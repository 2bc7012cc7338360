"""Outcome scores: NRS change, Oswestry Disability Index, Roland-Morris, responders by MCID.

Every function refuses booleans where a number is expected (``False`` is not a pain score) and
values outside the instrument's range, naming the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vertebro.clinical.rules import Rule, rule

R_ODI = rule(
    "outcomes.odi",
    "ODI: 10 sections scored 0-5; score % = sum / (5 x sections answered) x 100, i.e. the "
    "denominator drops by 5 for each section not answered. vertebro does not score a form with more "
    "than 2 sections missing (configurable).",
    "fairbank-2000",
)
R_RDQ = rule(
    "outcomes.rdq",
    "RDQ: 24 yes/no items; the score is the number of items ticked (0-24).",
    "roland-fairbank-2000",
)
R_MCID_NRS = rule(
    "outcomes.mcid_nrs",
    "NRS responder: a reduction of at least 2 points or at least 30 % from baseline.",
    "farrar-2001",
    "ostelo-2008",
)
R_MCID_ODI = rule(
    "outcomes.mcid_odi",
    "ODI responder: a reduction of at least 10 points (0-100).",
    "ostelo-2008",
)
R_MCID_RDQ = rule(
    "outcomes.mcid_rdq",
    "RDQ responder: a reduction of at least 5 points (0-24).",
    "ostelo-2008",
)

ODI_SECTIONS = 10
RDQ_ITEMS = 24
NRS_MCID_POINTS = 2
NRS_MCID_PERCENT = 30
ODI_MCID_POINTS = 10.0
RDQ_MCID_POINTS = 5


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: {value!r} is outside {low:g}-{high:g}")
    return float(value)


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name}: {value!r} is outside {low}-{high}")
    return value


def odi_percent(sections: Sequence[int | None], max_missing: int = 2) -> float | None:
    """Return the ODI score (0-100 %) from 10 section scores, or None when too many are missing.

    Rule outcomes.odi (Fairbank & Pynsent 2000): unanswered sections (None) reduce the denominator.
    """
    if len(sections) != ODI_SECTIONS:
        raise ValueError(f"sections: the ODI has {ODI_SECTIONS} sections, got {len(sections)}")
    answered = [_integer(f"sections[{i}]", s, 0, 5) for i, s in enumerate(sections) if s is not None]
    if ODI_SECTIONS - len(answered) > max_missing:
        return None
    return round(100.0 * sum(answered) / (5 * len(answered)), 1)


def rdq_score(items: Sequence[bool]) -> int:
    """Return the Roland-Morris score: the number of the 24 statements ticked (rule outcomes.rdq)."""
    if len(items) != RDQ_ITEMS:
        raise ValueError(f"items: the RDQ has {RDQ_ITEMS} items, got {len(items)}")
    for i, item in enumerate(items):
        if not isinstance(item, bool):
            raise TypeError(f"items[{i}]: expected true or false, got {item!r}")
    return sum(items)


@dataclass(frozen=True, slots=True)
class Change:
    """A change from baseline on one instrument and whether it reaches the MCID."""

    measure: str
    baseline: float
    follow_up: float
    change: float
    percent_change: float | None
    responder: bool
    rule: Rule


def nrs_change(baseline: int, follow_up: int) -> Change:
    """Return the NRS change; responder at a 2-point or 30 % reduction (rule outcomes.mcid_nrs)."""
    b = _integer("baseline", baseline, 0, 10)
    f = _integer("follow_up", follow_up, 0, 10)
    drop = b - f
    percent = None if b == 0 else round(100.0 * drop / b, 1)
    # integer arithmetic: 0.3 * 10 is 3.0000000000000004 in floating point
    responder = drop >= NRS_MCID_POINTS or (b > 0 and drop * 100 >= NRS_MCID_PERCENT * b)
    return Change("NRS", b, f, -drop, None if percent is None else -percent, responder, R_MCID_NRS)


def odi_change(baseline: float, follow_up: float) -> Change:
    """Return the ODI change; responder at a 10-point reduction (rule outcomes.mcid_odi)."""
    b = _number("baseline", baseline, 0, 100)
    f = _number("follow_up", follow_up, 0, 100)
    drop = round(b - f, 1)
    percent = None if b == 0 else round(-100.0 * drop / b, 1)
    return Change("ODI", b, f, -drop, percent, drop >= ODI_MCID_POINTS, R_MCID_ODI)


def rdq_change(baseline: int, follow_up: int) -> Change:
    """Return the RDQ change; responder at a 5-point reduction (rule outcomes.mcid_rdq)."""
    b = _integer("baseline", baseline, 0, 24)
    f = _integer("follow_up", follow_up, 0, 24)
    drop = b - f
    percent = None if b == 0 else round(-100.0 * drop / b, 1)
    return Change("RDQ", b, f, -drop, percent, drop >= RDQ_MCID_POINTS, R_MCID_RDQ)


@dataclass(frozen=True, slots=True)
class OutcomeTargets:
    """The follow-up values at or below which a patient counts as a responder."""

    nrs_baseline: int
    nrs_responder_at_most: int | None
    odi_baseline: float | None
    odi_responder_at_most: float | None
    rdq_baseline: int | None
    rdq_responder_at_most: int | None
    rules: tuple[Rule, ...]


def outcome_targets(nrs: int, odi: float | None, rdq: int | None) -> OutcomeTargets:
    """Return the responder thresholds for a patient's baseline scores."""
    # the smallest responding drop: 2 points, or 30 % rounded up (integer arithmetic)
    nrs_at_most = nrs - min(NRS_MCID_POINTS, -(-NRS_MCID_PERCENT * nrs // 100)) if nrs > 0 else None
    odi_at_most = None if odi is None or odi < ODI_MCID_POINTS else round(odi - ODI_MCID_POINTS, 1)
    rdq_at_most = None if rdq is None or rdq < RDQ_MCID_POINTS else rdq - RDQ_MCID_POINTS
    return OutcomeTargets(
        nrs,
        nrs_at_most,
        odi,
        odi_at_most,
        rdq,
        rdq_at_most,
        (R_MCID_NRS, R_MCID_ODI, R_MCID_RDQ),
    )
