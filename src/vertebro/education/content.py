"""Patient-education pages: Markdown files with YAML front matter, citations and glossary links.

A page lives in ``content/<slug>.md``::

    ---
    title: What vertebroplasty is
    slug: what-is-vertebroplasty
    order: 1
    reviewed: 2026-11-22
    summary: One sentence shown in the index.
    sources: [vapour-2016, buchbinder-2009]
    ---
    Body in Markdown. A claim carries its source like this [@vapour-2016], or several [@a; @b].

Every citation id must be in the evidence registry (:data:`vertebro.clinical.evidence.SOURCES`) and in
the page's ``sources`` list, and every listed source must be cited: the page's numbered source list is
built from the citations, in the order they first appear. The first use of a glossary term on a page
links to its definition.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from vertebro.clinical.evidence import SOURCES, Source
from vertebro.education.glossary import GLOSSARY, Term

CONTENT_DIR = Path(__file__).resolve().with_name("content")
DISCLAIMER = (
    "This page explains; it does not replace your own doctor or nurse. Ask your care team about your own situation."
)
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_CITATION = re.compile(r"\[(@[a-z0-9][a-z0-9-]*(?:\s*;\s*@[a-z0-9][a-z0-9-]*)*)\]")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = ("title", "slug", "order", "reviewed", "summary", "sources")


class ContentError(ValueError):
    """A content file that breaks the content rules (front matter, citations, slugs)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One education page as written: front matter plus its Markdown body."""

    slug: str
    title: str
    order: int
    reviewed: dt.date
    summary: str
    sources: tuple[str, ...]
    body: str
    path: Path

    @property
    def cited(self) -> tuple[str, ...]:
        """Source ids in the order they are first cited in the body."""
        return cited_ids(self.body)


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of a page's numbered source list."""

    number: int
    source: Source


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page rendered to HTML: the body, its numbered sources and the glossary terms it links."""

    page: Page
    body_html: str
    references: tuple[Reference, ...]
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A page section (the text under one level-2 heading) as plain sentences, for readability checks."""

    heading: str
    text: str


def cited_ids(markdown: str) -> tuple[str, ...]:
    """Return the source ids cited in ``markdown`` in order of first appearance (no repeats)."""
    seen: dict[str, None] = {}
    for match in _CITATION.finditer(markdown):
        for part in match.group(1).split(";"):
            seen.setdefault(part.strip().lstrip("@"), None)
    return tuple(seen)


def parse_page(text: str, path: Path) -> Page:
    """Return the page in ``text`` (front matter and body); raise :class:`ContentError` if malformed."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ContentError(f"{path.name}: no YAML front matter between '---' lines at the top")
    meta: Any = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise ContentError(f"{path.name}: front matter must be a mapping")
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise ContentError(f"{path.name}: front matter lacks {', '.join(missing)}")
    reviewed = meta["reviewed"]
    if not isinstance(reviewed, dt.date):
        raise ContentError(f"{path.name}: reviewed must be a date (YYYY-MM-DD)")
    slug = str(meta["slug"])
    if not _SLUG.match(slug) or slug != path.stem:
        raise ContentError(f"{path.name}: slug {slug!r} must be lower-case words with hyphens and match the file name")
    sources = meta["sources"]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ContentError(f"{path.name}: sources must be a list of evidence ids")
    page = Page(
        slug=slug,
        title=str(meta["title"]),
        order=int(meta["order"]),
        reviewed=reviewed,
        summary=str(meta["summary"]),
        sources=tuple(sources),
        body=text[match.end() :],
        path=path,
    )
    check_citations(page)
    return page


def check_citations(page: Page) -> None:
    """Raise :class:`ContentError` unless every citation is registered and matches the front matter."""
    unknown = sorted({s for s in (*page.cited, *page.sources) if s not in SOURCES})
    if unknown:
        raise ContentError(f"{page.path.name}: unknown evidence source(s) {', '.join(unknown)}")
    listed, cited = set(page.sources), set(page.cited)
    if listed != cited:
        problems = []
        if cited - listed:
            problems.append(f"cited but not in front matter: {', '.join(sorted(cited - listed))}")
        if listed - cited:
            problems.append(f"in front matter but never cited: {', '.join(sorted(listed - cited))}")
        raise ContentError(f"{page.path.name}: " + "; ".join(problems))


@cache
def pages(directory: Path = CONTENT_DIR) -> tuple[Page, ...]:
    """Return every page in ``directory``, in reading order; slugs are unique."""
    found = tuple(sorted((parse_page(p.read_text(encoding="utf-8"), p) for p in directory.glob("*.md")), key=_key))
    slugs = [p.slug for p in found]
    if len(set(slugs)) != len(slugs):
        raise ContentError("two pages share a slug")
    return found


def _key(page: Page) -> tuple[int, str]:
    return page.order, page.slug


def page(slug: str) -> Page:
    """Return the page with this slug; raise KeyError if there is none."""
    for candidate in pages():
        if candidate.slug == slug:
            return candidate
    raise KeyError(f"no education page {slug!r}")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")
    md.core.ruler.push("glossary_links", _glossary_links)
    return md


def render_page(page: Page) -> RenderedPage:
    """Render a page's body to HTML with numbered citations and glossary links."""
    numbers = {sid: i for i, sid in enumerate(page.cited, start=1)}

    def cite(match: re.Match[str]) -> str:
        ids = [part.strip().lstrip("@") for part in match.group(1).split(";")]
        links = ", ".join(f'<a href="#source-{numbers[i]}">{numbers[i]}</a>' for i in ids)
        return f'<sup class="cite">[{links}]</sup>'

    env: dict[str, Any] = {"glossary_used": {}}
    body_html = _markdown().render(_CITATION.sub(cite, page.body), env)
    references = tuple(Reference(n, SOURCES[sid]) for sid, n in numbers.items())
    return RenderedPage(page, body_html, references, tuple(env["glossary_used"].values()))


def _glossary_links(state: StateCore) -> None:
    """Link the first use of each glossary term on the page (not in headings or existing links)."""
    used: dict[str, Term] = state.env.setdefault("glossary_used", {})
    in_heading = False
    for block in state.tokens:
        if block.type == "heading_open":
            in_heading = True
        elif block.type == "heading_close":
            in_heading = False
        elif block.type == "inline" and not in_heading and block.children is not None:
            block.children = list(_linked(block.children, used))


def _linked(children: list[Token], used: dict[str, Term]) -> Iterator[Token]:
    link_depth = 0
    for token in children:
        if token.type == "link_open":
            link_depth += 1
        elif token.type == "link_close":
            link_depth -= 1
        if token.type != "text" or link_depth:
            yield token
            continue
        yield from _split_text(token.content, used)


def _split_text(text: str, used: dict[str, Term]) -> Iterator[Token]:
    while text:
        found = _first_unused_term(text, used)
        if found is None:
            break
        term, start, end = found
        used[term.slug] = term
        if start:
            yield _text(text[:start])
        title = html.escape(term.definition, quote=True)
        yield _html(f'<a class="term" href="glossary.html#{term.slug}" title="{title}">')
        yield _text(text[start:end])
        yield _html("</a>")
        text = text[end:]
    if text:
        yield _text(text)


def _first_unused_term(text: str, used: dict[str, Term]) -> tuple[Term, int, int] | None:
    best: tuple[Term, int, int] | None = None
    for term in GLOSSARY:
        if term.slug in used:
            continue
        match = term.pattern.search(text)
        if match and (best is None or match.start() < best[1]):
            best = (term, match.start(), match.end())
    return best


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _html(content: str) -> Token:
    token = Token("html_inline", "", 0)
    token.content = content
    return token


def sections(page: Page) -> list[Section]:
    """Return the page's sections as plain text, one sentence per paragraph, list item or table cell.

    Headings, citations and Markdown syntax are left out; an item without an end mark gets a full stop,
    so that a list counts as the short sentences a reader sees. The text before the first level-2
    heading is the section "(introduction)".
    """
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(_CITATION.sub("", page.body))
    result: list[Section] = []
    heading = "(introduction)"
    parts: list[str] = []
    level2 = False
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level2 = token.tag == "h2"
            continue
        if token.type != "inline":
            continue
        text = " ".join(_plain(token).split())
        if tokens[i - 1].type == "heading_open":
            if level2:
                if parts:
                    result.append(Section(heading, " ".join(parts)))
                heading, parts = text, []
            continue
        if text:
            parts.append(text if text[-1] in ".!?:" else f"{text}.")
    if parts:
        result.append(Section(heading, " ".join(parts)))
    return result


def _plain(inline: Token) -> str:
    return "".join(
        child.content
        if child.type in ("text", "code_inline")
        else " "
        if child.type in ("softbreak", "hardbreak")
        else ""
        for child in inline.children or ()
    )
