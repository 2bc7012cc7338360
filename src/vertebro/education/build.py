"""Render every education page, the index and the word list to static HTML files."""

from __future__ import annotations

from pathlib import Path

from vertebro.education.content import pages
from vertebro.education.render import glossary_html, index_html, page_html


def build_site(out_dir: Path) -> list[Path]:
    """Write ``index.html``, ``glossary.html`` and one ``<slug>.html`` per page; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    all_pages = pages()
    written: list[Path] = []
    for name, html in (
        ("index.html", index_html(all_pages)),
        ("glossary.html", glossary_html()),
        *((f"{p.slug}.html", page_html(p)) for p in all_pages),
    ):
        target = out_dir / name
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written
