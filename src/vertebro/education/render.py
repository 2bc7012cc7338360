"""Jinja2 rendering of education pages and personal documents to self-contained HTML.

Templates live in ``templates/``; the style sheet is inlined so that one HTML string is a complete
document for the browser, the portal and WeasyPrint alike. Undefined template variables are errors
(``StrictUndefined``), so a document never ships with a hole where a value should be.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from vertebro.education.content import DISCLAIMER, Page, render_page
from vertebro.education.dates import date_time, long_date
from vertebro.education.glossary import GLOSSARY
from vertebro.education.handouts import DischargeSheet, PreparationHandout
from vertebro.education.report import ProcedureReport

TEMPLATES = Path(__file__).resolve().with_name("templates")
CONFIRMATION_NOTES = {
    "secondary": "read in a summary of the original, not yet checked in the original",
    "unverified": "not yet checked in the original document",
    "local_policy": "this clinic's own practice",
}


def duration(minutes: int) -> str:
    """Return minutes as '3 hours', '2 hours 30 minutes' or '45 minutes'."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minutes")
    return " ".join(parts)


def first_upper(text: str) -> str:
    """Return ``text`` with its first letter in upper case and the rest unchanged."""
    return text[:1].upper() + text[1:]


def _date_time(moment: dt.datetime, zone_name: bool = False) -> str:
    return date_time(moment, zone_name=zone_name)


@cache
def environment() -> Environment:
    """Return the Jinja2 environment for every education template."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = long_date
    env.filters["date_time"] = _date_time
    env.filters["duration"] = duration
    env.filters["first_upper"] = first_upper
    env.globals["disclaimer"] = DISCLAIMER
    env.globals["confirmation_note"] = CONFIRMATION_NOTES
    return env


def page_html(page: Page) -> str:
    """Return one education page as a complete HTML document."""
    return environment().get_template("page.html").render(rendered=render_page(page))


def index_html(pages: tuple[Page, ...]) -> str:
    """Return the list of education pages."""
    return environment().get_template("index.html").render(pages=pages)


def glossary_html() -> str:
    """Return the word list."""
    return environment().get_template("glossary.html").render(terms=GLOSSARY)


def preparation_html(doc: PreparationHandout) -> str:
    """Return the personal preparation handout as HTML."""
    return environment().get_template("preparation.html").render(doc=doc)


def discharge_html(doc: DischargeSheet) -> str:
    """Return the discharge and aftercare sheet as HTML."""
    return environment().get_template("discharge.html").render(doc=doc)


def procedure_report_html(report: ProcedureReport) -> str:
    """Return the structured procedure report as HTML."""
    return environment().get_template("procedure_report.html").render(r=report)
