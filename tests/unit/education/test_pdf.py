"""The PDFs themselves: the patient's own dates and drugs are in the text, no template hole is left, and
page 1 of each document is kept as a PNG under test-artifacts/education/ so the layout can be looked at."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from vertebro.education.pdf import html_to_pdf
from vertebro.education.render import discharge_html, preparation_html, procedure_report_html

from .cases import LONDON, WARFARIN_AND_ASPIRIN, discharge, make_case, prep
from .test_report import a_report

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "education"
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{%|%\}|\bNone\b|Undefined|\bnan\b|TODO|XXX|\[@")


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def keep_first_page(pdf: bytes, name: str) -> Path:
    """Write the PDF and a PNG of its first page under test-artifacts/education/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / f"{name}.pdf"
    pdf_path.write_bytes(pdf)
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is installed by scripts/ensure-system-packages.sh"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(ARTIFACTS / name)],
        check=True,
        timeout=60,
    )
    png = ARTIFACTS / f"{name}.png"
    assert png.stat().st_size > 5_000
    return png


@pytest.fixture(scope="module")
def preparation_pdf() -> bytes:
    case = make_case(medications=WARFARIN_AND_ASPIRIN, allergies=["latex"])
    return html_to_pdf(preparation_html(prep(case, zone=LONDON)))


def test_the_preparation_pdf_has_the_patient_s_own_dates_and_drugs(preparation_pdf: bytes) -> None:
    text = pdf_text(preparation_pdf)
    for expected in (
        "Rosa Example",
        "EDU-0001",
        "warfarin",
        "aspirin",
        "alendronate",
        "last dose on Tuesday 8 December 2026",
        "last dose on Monday 7 December 2026",
        "8:00 am on Monday 14 December 2026",
        "7:45 am on Monday 14 December 2026",
        "latex",
        "12 hours",
        "Europe/London",
    ):
        assert expected in text, expected
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
    keep_first_page(preparation_pdf, "preparation")


def test_the_discharge_pdf_has_the_patient_s_own_dates() -> None:
    sheet = discharge(make_case(medications=WARFARIN_AND_ASPIRIN, procedure_date="2026-12-30"), zone=LONDON)
    pdf = html_to_pdf(discharge_html(sheet))
    text = pdf_text(pdf)
    for expected in (
        "Rosa Example",
        "Wednesday 30 December 2026",
        "Friday 1 January 2027",
        "Wednesday 31 March 2027",
        "warfarin",
        "Call emergency services now",
        "Wednesday 13 January 2027",
    ):
        assert expected in text, expected
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
    keep_first_page(pdf, "discharge")


def test_the_procedure_report_pdf() -> None:
    pdf = html_to_pdf(procedure_report_html(a_report()))
    text = pdf_text(pdf)
    for expected in ("Vertebroplasty, T12, L1", "Dr A. Radiologist", "7.5", "intradiscal", "2026-12-14"):
        assert expected in text, expected
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
    keep_first_page(pdf, "procedure-report")


def test_every_pdf_page_is_numbered(preparation_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(preparation_pdf))
    total = len(reader.pages)
    assert total >= 1
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {total}" in (page.extract_text() or "")
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4


def test_a_pdf_is_produced_on_the_day_it_says(preparation_pdf: bytes) -> None:
    assert f"produced {dt.date(2026, 11, 22):%A} 22 November 2026" in pdf_text(preparation_pdf)
