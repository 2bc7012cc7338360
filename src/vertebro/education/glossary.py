"""The glossary: plain-language definitions of the terms the education pages cannot avoid.

Terms live in ``content/glossary.yaml`` (``term``, optional ``also`` for other spellings and plurals,
``definition``). A page links the first use of each term to its definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GLOSSARY_FILE = Path(__file__).resolve().with_name("content") / "glossary.yaml"


@dataclass(frozen=True, slots=True)
class Term:
    """One glossary entry and the words that count as a use of it."""

    slug: str
    term: str
    also: tuple[str, ...]
    definition: str
    pattern: re.Pattern[str]


def _slug(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")


def load_glossary(path: Path = GLOSSARY_FILE) -> tuple[Term, ...]:
    """Return the glossary in alphabetical order; raise ValueError for a malformed entry."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: must be a list of terms")
    terms: list[Term] = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("term") or not entry.get("definition"):
            raise ValueError(f"{path.name}: every entry needs a term and a definition: {entry!r}")
        term = str(entry["term"])
        also = tuple(str(a) for a in entry.get("also", ()))
        words = sorted((term, *also), key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
        terms.append(Term(_slug(term), term, also, " ".join(str(entry["definition"]).split()), pattern))
    slugs = [t.slug for t in terms]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"{path.name}: a term is listed twice")
    return tuple(sorted(terms, key=lambda t: t.term.lower()))


GLOSSARY: tuple[Term, ...] = load_glossary()
