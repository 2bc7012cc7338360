"""Verdict vocabulary shared by every guideline profile: categories, reasons and the verdict itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from vertebro.clinical.rules import Rule


class Category(StrEnum):
    """A profile's verdict on vertebral augmentation, from most to least favourable."""

    APPROPRIATE = "appropriate"
    UNCERTAIN = "uncertain"
    NOT_APPROPRIATE = "not_appropriate"
    CONTRAINDICATED = "contraindicated"


FAVOURABILITY: dict[Category, int] = {
    Category.APPROPRIATE: 3,
    Category.UNCERTAIN: 2,
    Category.NOT_APPROPRIATE: 1,
    Category.CONTRAINDICATED: 0,
}


def least_favourable(a: Category, b: Category) -> Category:
    """Return the less favourable of two categories."""
    return a if FAVOURABILITY[a] <= FAVOURABILITY[b] else b


class Effect(StrEnum):
    """What a reason does to the verdict."""

    SUPPORTS = "supports"
    AGAINST = "against"
    CAUTION = "caution"
    CONTRAINDICATION = "contraindication"
    MISSING = "missing"
    NOTE = "note"


class Reason(NamedTuple):
    """One rule applied to this case: the rule, what it did, and the case-specific detail.

    A named tuple rather than a frozen dataclass: immutable too, and several times cheaper to create,
    which matters when a registry of 100,000 cases is re-assessed.
    """

    rule: Rule
    effect: Effect
    detail: str


@dataclass(frozen=True, slots=True)
class ProfileVerdict:
    """One guideline profile's verdict: category, the profile's own label, reasons and gaps."""

    profile: str
    title: str
    category: Category
    label: str
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]


@dataclass(slots=True)
class VerdictBuilder:
    """Collects reasons while a profile evaluates; the category only ever moves down from a cap."""

    profile: str
    title: str
    ceiling: Category = Category.APPROPRIATE
    reasons: list[Reason] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def note(self, rule: Rule, effect: Effect, detail: str) -> None:
        """Record a reason that does not change the category by itself."""
        self.reasons.append(Reason(rule, effect, detail))

    def cap(self, category: Category, rule: Rule, effect: Effect, detail: str) -> None:
        """Record a reason and lower the ceiling to ``category`` (never raises it)."""
        self.reasons.append(Reason(rule, effect, detail))
        if FAVOURABILITY[category] < FAVOURABILITY[self.ceiling]:
            self.ceiling = category

    def need(self, rule: Rule, what: str) -> None:
        """Record missing data: the verdict cannot be better than uncertain without it."""
        self.missing.append(what)
        self.cap(Category.UNCERTAIN, rule, Effect.MISSING, f"not recorded: {what}")

    def verdict(self, labels: dict[Category, str], scope_label: str | None = None) -> ProfileVerdict:
        """Return the verdict at the current ceiling, labelled in the profile's own words.

        ``scope_label`` replaces an *uncertain* label when the case lies outside the profile's scope.
        """
        label = labels[self.ceiling]
        if scope_label is not None and self.ceiling is Category.UNCERTAIN:
            label = scope_label
        return ProfileVerdict(
            profile=self.profile,
            title=self.title,
            category=self.ceiling,
            label=label,
            reasons=tuple(self.reasons),
            missing=tuple(dict.fromkeys(self.missing)),
        )
