"""PDF output through WeasyPrint (HTML and CSS to PDF; needs Pango, installed by
``scripts/ensure-system-packages.sh``)."""

from __future__ import annotations

from pathlib import Path

from vertebro.education.render import TEMPLATES


def html_to_pdf(html: str, *, base_url: Path = TEMPLATES) -> bytes:
    """Return the PDF of a complete HTML document (A4, page numbers from the style sheet)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # imported late: loading Pango takes ~0.5 s

    pdf: bytes = HTML(string=html, base_url=str(base_url)).write_pdf()
    return pdf
