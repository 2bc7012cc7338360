"""Education pages: front matter, citations against the evidence registry, readability, links, disclaimer."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import textstat

from vertebro.clinical.evidence import SOURCES
from vertebro.education.build import build_site
from vertebro.education.content import (
    DISCLAIMER,
    ContentError,
    Page,
    cited_ids,
    pages,
    parse_page,
    render_page,
    sections,
)
from vertebro.education.glossary import GLOSSARY
from vertebro.education.render import page_html

MAX_GRADE = 8.0
TOPICS = {
    "what-is-vertebroplasty",
    "who-can-it-help",
    "evidence",
    "risks",
    "preparing",
    "the-day",
    "after-the-procedure",
    "bone-health",
    "vertebroplasty-or-kyphoplasty",
    "cost-and-insurance",
    "questions-and-answers",
}
ALL_PAGES = pages()


def _ids(page: Page) -> str:
    return page.slug


def test_every_required_topic_has_a_page() -> None:
    assert {p.slug for p in ALL_PAGES} >= TOPICS


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids)
def test_every_citation_is_in_the_evidence_registry(page: Page) -> None:
    assert page.cited, "a page without a single source"
    for source_id in (*page.cited, *page.sources):
        assert source_id in SOURCES, f"{page.slug}: {source_id} is not registered"
    assert set(page.sources) == set(page.cited)


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids)
def test_every_section_reads_at_grade_8_or_lower(page: Page) -> None:
    found = sections(page)
    assert found
    grades = {s.heading: textstat.flesch_kincaid_grade(s.text) for s in found}
    too_hard = {heading: grade for heading, grade in grades.items() if grade > MAX_GRADE}
    assert not too_hard, f"{page.slug}: Flesch-Kincaid grade above {MAX_GRADE}: {too_hard}"


def test_glossary_definitions_read_at_grade_8_or_lower() -> None:
    assert len(GLOSSARY) >= 15
    too_hard = {t.term: g for t in GLOSSARY if (g := textstat.flesch_kincaid_grade(t.definition)) > MAX_GRADE}
    assert not too_hard


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids)
def test_every_page_carries_the_disclaimer_and_its_review_date(page: Page) -> None:
    html = page_html(page)
    assert DISCLAIMER in html
    assert "Last reviewed:" in html
    assert f"{page.reviewed.day} {page.reviewed:%B %Y}" in html
    assert page.reviewed <= dt.date.today()


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids)
def test_citations_are_numbered_in_order_with_a_source_list(page: Page) -> None:
    rendered = render_page(page)
    assert [r.number for r in rendered.references] == list(range(1, len(page.cited) + 1))
    assert [r.source.id for r in rendered.references] == list(page.cited)
    used = {int(n) for n in re.findall(r'<a href="#source-(\d+)">', rendered.body_html)}
    assert used == {r.number for r in rendered.references}
    assert "[@" not in rendered.body_html


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids)
def test_no_price_is_shown_without_a_source(page: Page) -> None:
    """Every price carries a citation in the same paragraph (DESIGN: never invent one), with its year."""
    for paragraph in page.body.split("\n\n"):
        if re.search(r"[$€£₹]\s?\d", paragraph):
            assert "[@" in paragraph, paragraph
            assert re.search(r"\b(19|20)\d\d\b", paragraph), f"a price without its year: {paragraph}"


def test_cost_page_gives_sourced_estimates_by_region() -> None:
    page = next(p for p in ALL_PAGES if p.slug == "cost-and-insurance")
    assert "estimates" in page.body
    assert "United States" in page.body
    assert "UK, Europe" in page.body


def test_a_glossary_term_links_once_per_page_and_not_in_headings() -> None:
    rendered = render_page(next(p for p in ALL_PAGES if p.slug == "risks"))
    links = re.findall(r'<a class="term" href="glossary.html#([a-z0-9-]+)"', rendered.body_html)
    assert "cement-leak" in links
    assert len(links) == len(set(links))
    assert not re.search(r"<h2>[^<]*<a class=\"term\"", rendered.body_html)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if values.get("id"):
            self.ids.add(str(values["id"]))


def test_every_internal_link_of_the_built_site_resolves(tmp_path: Path) -> None:
    written = build_site(tmp_path)
    assert {p.name for p in written} >= {"index.html", "glossary.html", *(f"{s}.html" for s in TOPICS)}
    parsed: dict[str, _Links] = {}
    for path in written:
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        parsed[path.name] = parser
    for name, parser in parsed.items():
        for href in parser.hrefs:
            if href.startswith(("http://", "https://")):
                continue
            target, _, anchor = href.partition("#")
            target = target or name
            assert target in parsed, f"{name}: broken link {href}"
            if anchor:
                assert anchor in parsed[target].ids, f"{name}: missing anchor {href}"


def test_a_citation_of_an_unregistered_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    text = (
        "---\ntitle: X\nslug: x\norder: 1\nreviewed: 2026-11-22\nsummary: s\nsources: [made-up-2020]\n---\n"
        "A claim [@made-up-2020].\n"
    )
    with pytest.raises(ContentError, match="unknown evidence source"):
        parse_page(text, path)


def test_front_matter_must_list_exactly_the_cited_sources(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    text = (
        "---\ntitle: X\nslug: x\norder: 1\nreviewed: 2026-11-22\nsummary: s\nsources: [vapour-2016, nice-ta279]\n---\n"
        "A claim [@vapour-2016].\n"
    )
    with pytest.raises(ContentError, match="never cited: nice-ta279"):
        parse_page(text, path)


def test_a_page_without_front_matter_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="front matter"):
        parse_page("# Just text\n", tmp_path / "x.md")


def test_several_sources_in_one_citation_are_all_counted() -> None:
    assert cited_ids("One [@a-1; @b-2] and [@a-1] again, then [@c].") == ("a-1", "b-2", "c")
