"""The chart by stage, and the evidence before the decision (decision 0033).

A case's chart is split into the stages of the path: referral, assessment, preparation, procedure, recovery and
follow-up. The stage of the case's state is open and the only one with forms; an earlier stage is a read-only
summary; a later one says which steps, by whom, come first. The assessment stage shows the evidence (the imaging
findings and every profile's reasons side by side, with the sources they cite as links) before the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vertebro.clinical.evidence import SOURCES
from vertebro.pathway.handover import NEXT_STEP, Handover
from vertebro.pathway.machine import State, who_can

STAGES: tuple[tuple[str, str], ...] = (
    ("referral", "Referral"),
    ("assessment", "Assessment"),
    ("preparation", "Preparation"),
    ("procedure", "Procedure"),
    ("recovery", "Recovery"),
    ("follow-up", "Follow-up"),
)
STAGE_OF: dict[State, str] = {
    State.REQUESTED: "referral",
    State.SCREENING: "assessment",
    State.DECLINED: "assessment",
    State.ELIGIBLE: "preparation",
    State.PREPARED: "preparation",
    State.SCHEDULED: "preparation",
    State.IN_PROCEDURE: "procedure",
    State.MONITORING: "recovery",
    State.DISCHARGED: "recovery",
    State.FOLLOW_UP: "follow-up",
    State.CLOSED: "follow-up",
}
# the path in order (a declined case leaves it after the assessment)
PATH: tuple[State, ...] = (
    State.REQUESTED,
    State.SCREENING,
    State.ELIGIBLE,
    State.PREPARED,
    State.SCHEDULED,
    State.IN_PROCEDURE,
    State.MONITORING,
    State.DISCHARGED,
    State.FOLLOW_UP,
    State.CLOSED,
)
_ORDER = {name: index for index, (name, _) in enumerate(STAGES)}


@dataclass(frozen=True, slots=True)
class Tab:
    """One stage of a case as its tab shows it."""

    name: str
    title: str
    status: str  # "done", "current" or "later"
    selected: bool
    needed_first: tuple[str, ...] = ()


def stage_of(state: str) -> str:
    """Return the stage a case in ``state`` is at."""
    return STAGE_OF[State(state)]


def needed_before(state: str, stage: str) -> tuple[str, ...]:
    """Return the steps, with who takes each, between the case's state and the first state of a later ``stage``."""
    current = State(state)
    if current not in PATH:
        return (f"the case is {current.value}: it does not reach this stage",)
    steps: list[str] = []
    for step_state in PATH[PATH.index(current) :]:
        if STAGE_OF[step_state] == stage:
            break
        step = NEXT_STEP.get(step_state)
        if step is not None:
            steps.append(f"{step.what} ({who_can(step.roles)})")
    return tuple(steps)


def tabs(state: str, selected: str | None) -> tuple[Tab, ...]:
    """Return the stage tabs of a case: the current stage selected unless another is asked for."""
    current = stage_of(state)
    chosen = selected if selected in _ORDER else current
    declined = State(state) is State.DECLINED
    made: list[Tab] = []
    for name, title in STAGES:
        if _ORDER[name] < _ORDER[current]:
            status = "done"
        elif name == current:
            status = "current"
        else:
            status = "later"
        first = ("the case was declined: it does not reach this stage",) if declined else needed_before(state, name)
        made.append(Tab(name, title, status, name == chosen, first if status == "later" else ()))
    return tuple(made)


def handover_lines(waiting: tuple[Handover, ...]) -> tuple[str, ...]:
    """Return the hand-over in words, one line per role group ("needs the radiologist: ...")."""
    return tuple(h.summary for h in waiting)


@dataclass(frozen=True, slots=True)
class Cited:
    """A source as the evidence table cites it: id, short label, link (None when no public locator is held)."""

    id: str
    label: str
    url: str | None
    confirmation: str


@dataclass(frozen=True, slots=True)
class Criterion:
    """One reason of one profile: what it says about this case, its rule, and the sources it cites."""

    detail: str
    effect: str
    rule: str
    statement: str
    unverified: bool
    sources: tuple[Cited, ...]


@dataclass(frozen=True, slots=True)
class ProfileEvidence:
    """One profile's row of the evidence table."""

    id: str
    title: str
    category: str
    label: str
    supports: tuple[Criterion, ...]
    against: tuple[Criterion, ...]
    missing: tuple[str, ...]
    notes: tuple[Criterion, ...]


def source_url(source_id: str) -> str | None:
    """Return a link for a registered source: its DOI, its PubMed record, or its web address (None otherwise)."""
    found = SOURCES.get(source_id)
    if found is None:
        return None
    if found.doi:
        return f"https://doi.org/{found.doi}"
    if found.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{found.pmid}/"
    locator = found.public_locator
    return locator if locator.startswith(("https://", "http://")) else None


def _cited(source_id: str) -> Cited:
    found = SOURCES.get(source_id)
    if found is None:
        return Cited(source_id, source_id, None, "unknown")
    label = found.citation if len(found.citation) <= 110 else found.citation[:107].rsplit(" ", 1)[0] + "…"
    year = f" ({found.year})" if found.year else ""
    return Cited(source_id, f"{label}{year}", source_url(source_id), found.confirmation.value)


def evidence(assessment: Mapping[str, Any]) -> tuple[ProfileEvidence, ...]:
    """Return each profile's reasons sorted into supports / against / missing (the rules' own words and sources)."""
    rules: Mapping[str, Any] = assessment.get("rules") or {}
    rows: list[ProfileEvidence] = []
    for pid, verdict in (assessment.get("profiles") or {}).items():
        sorted_reasons: dict[str, list[Criterion]] = {"supports": [], "against": [], "missing": [], "notes": []}
        for reason in verdict.get("reasons") or ():
            effect = str(reason.get("effect"))
            rule = str(reason.get("rule"))
            criterion = Criterion(
                detail=str(reason.get("detail") or ""),
                effect=effect,
                rule=rule,
                statement=str((rules.get(rule) or {}).get("statement") or rule),
                unverified=bool(reason.get("unverified")),
                sources=tuple(_cited(str(s)) for s in reason.get("sources") or ()),
            )
            if effect == "supports":
                sorted_reasons["supports"].append(criterion)
            elif effect in ("against", "contraindication", "caution"):
                sorted_reasons["against"].append(criterion)
            elif effect == "missing":
                sorted_reasons["missing"].append(criterion)
            else:
                sorted_reasons["notes"].append(criterion)
        missing = tuple(c.detail for c in sorted_reasons["missing"]) + tuple(
            str(m) for m in verdict.get("missing") or () if str(m) not in {c.detail for c in sorted_reasons["missing"]}
        )
        rows.append(
            ProfileEvidence(
                id=str(pid),
                title=str(verdict.get("title") or pid),
                category=str(verdict.get("category")),
                label=str(verdict.get("label") or ""),
                supports=tuple(sorted_reasons["supports"]),
                against=tuple(sorted_reasons["against"]),
                missing=missing,
                notes=tuple(sorted_reasons["notes"]),
            )
        )
    return tuple(rows)


def cited_sources(rows: tuple[ProfileEvidence, ...]) -> tuple[Cited, ...]:
    """Return the sources the reasons cite, once each, in order of first citation (only those, not every source)."""
    seen: dict[str, Cited] = {}
    for row in rows:
        for criterion in (*row.supports, *row.against, *row.notes):
            for cited in criterion.sources:
                seen.setdefault(cited.id, cited)
    return tuple(seen.values())
