"""The rule registry: every clinical rule vertebro applies, with its id, statement and sources.

A rule is declared once, at import time of the module that applies it, with :func:`rule`. The
ruleset version (stored with every assessment) is a human version plus a hash of every rule's id,
statement and sources, so a change to any rule changes the version that is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vertebro.clinical.evidence import Confirmation, source

RULESET_RELEASE = "2026.11"

_WEAKEST_FIRST = (
    Confirmation.UNVERIFIED,
    Confirmation.SECONDARY,
    Confirmation.LOCAL_POLICY,
    Confirmation.CONFIRMED,
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One encoded clinical rule: what it says and which sources it rests on."""

    id: str
    statement: str
    sources: tuple[str, ...]
    confirmation: Confirmation

    @property
    def unverified(self) -> bool:
        """True when any source behind the rule has not been checked in its primary document."""
        return self.confirmation is Confirmation.UNVERIFIED


RULES: dict[str, Rule] = {}


def rule(rule_id: str, statement: str, *sources: str) -> Rule:
    """Register a rule and return it; its confirmation is that of its weakest source."""
    if rule_id in RULES:
        raise ValueError(f"rule {rule_id!r} is declared twice")
    if not sources:
        raise ValueError(f"rule {rule_id!r} has no source")
    confirmations = {source(s).confirmation for s in sources}
    weakest = next(c for c in _WEAKEST_FIRST if c in confirmations)
    declared = Rule(rule_id, statement, tuple(sources), weakest)
    RULES[rule_id] = declared
    return declared


def ruleset_version() -> str:
    """Return the ruleset version: the release plus a short hash of every registered rule."""
    digest = hashlib.sha256()
    for rule_id in sorted(RULES):
        r = RULES[rule_id]
        digest.update(f"{r.id}\x1f{r.statement}\x1f{','.join(r.sources)}\x1e".encode())
    return f"{RULESET_RELEASE}+{digest.hexdigest()[:12]}"
