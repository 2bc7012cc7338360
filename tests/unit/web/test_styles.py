"""The stylesheet's accessibility promises (issue 15): a focus ring of at least 3:1 on white (WCAG 2.2
1.4.11 non-text contrast), chart labels of at least 12 px, and a print stylesheet without navigation or forms."""

from __future__ import annotations

import re
from pathlib import Path

from vertebro.clinical.statistics import MeanEstimate, Proportion
from vertebro.registry.schemas import Course, Rate, TimePoint
from vertebro.web.registry import charts

CSS = (Path(__file__).resolve().parents[3] / "src" / "vertebro" / "web" / "static" / "app.css").read_text()
_TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "vertebro" / "web" / "templates"
# the chart and the partials it includes by stage (decision 0033)
CHART = "".join(p.read_text() for p in [_TEMPLATES / "chart.html", *sorted(_TEMPLATES.glob("_chart_*.html"))])


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour written #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _variable(name: str) -> str:
    match = re.search(rf"{name}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert match, name
    return match.group(1)


def test_contrast_by_hand() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#f5b400", "#ffffff"), 1) == 1.8  # the old amber ring (issue 15: about 1.8:1)


def test_every_focus_ring_has_at_least_3_to_1_on_white_and_on_the_page_background() -> None:
    rings = re.findall(r"focus(?:-visible)?[^{]*\{[^}]*outline:\s*\d+px solid ([^;]+);", CSS)
    assert rings, "no focus ring found"
    for colour in rings:
        resolved = _variable("--focus") if colour.strip() == "var(--focus)" else colour.strip()
        assert contrast(resolved, "#ffffff") >= 3.0, colour
        assert contrast(resolved, _variable("--bg")) >= 3.0, colour


def _sizes(svg: str) -> list[float]:
    return [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)]


def test_registry_chart_labels_are_at_least_12_px() -> None:
    point = MeanEstimate(20, 11.0, 4.0, 9.0, 13.0)
    course = Course(
        "rdq", "Disability (RDQ 0-24)", tuple(TimePoint(v, point, point, None) for v in ("0", "2w", "3m", "12m"))
    )
    svgs = [charts.course_chart(course, 24.0), charts.responder_chart([course], lambda _: None)]
    for svg in svgs:
        assert _sizes(svg)
        assert min(_sizes(svg)) >= 12


def test_follow_up_trend_labels_are_at_least_12_px() -> None:
    sizes = re.findall(r"\.trend \.[a-z-]+ \{[^}]*font-size:\s*(\d+)px", CSS)
    assert sizes
    assert min(int(s) for s in sizes) >= 12
    assert 'class="trend"' in CHART


def test_printing_hides_navigation_forms_and_buttons() -> None:
    block = CSS.split("@media print", 1)[1]
    hidden = block.split("{", 2)[1]
    for selector in ("header.top nav", "form", "button", "nav"):
        assert selector in hidden
    assert "display: none" in block.split("}", 1)[0]


def test_a_rate_label_near_the_right_edge_turns_left_instead_of_being_clipped() -> None:
    """A share at the top of its row's scale: its label ends left of the mark, inside the 760-unit chart."""
    rate = Rate("complication", "Any complication", Proportion(199, 200, 0.995, 0.97, 1.0), "procedures", "Wilson")
    svg = charts.rate_chart([rate], lambda _: None)
    label = re.search(r'<text x="([\d.]+)" y="[\d.]+" (text-anchor="end" )?fill="[^"]+">99.5 %', svg)
    assert label
    assert label.group(2)
    assert float(label.group(1)) <= 760
