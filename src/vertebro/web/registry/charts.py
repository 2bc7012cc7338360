"""Server-rendered, accessible SVG charts for the outcomes dashboard (no JavaScript, no CDN).

Every chart is ``role="img"`` (``role="group"`` when it holds links) with a title and a description
that says what it shows and its n; the page puts a data table beside each one, so nothing is conveyed
by the picture alone. Shapes as well as colours tell series apart (circles for our figures, diamonds
and bars for published ones).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Sequence

from markupsafe import Markup

from vertebro.registry.schemas import Bucket, Course, Funnel, Rate

INK = "#1b1f24"
MUTED = "#4d5562"
OURS = "#0b5cad"
BAND = "#0b5cad"
THEIRS = "#8a4b00"
GRID = "#d5dae1"
ALERT = "#a1261a"
_ids = itertools.count(1)
LABEL_CHAR_WIDTH = 8.6  # a generous average advance of a 14 px system-ui digit or letter, for placing labels

Link = Callable[[str], str | None]
"""Returns the URL of the patients behind a figure key, or None when the role may not see patients."""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _svg(width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    n = next(_ids)
    # a picture is role="img"; one that holds links (to the patients behind a bar) is a group, since an
    # image's children are not reachable by assistive technology
    role = "group" if any("<a href" in part for part in body) else "img"
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="{role}" aria-labelledby="svg-t{n} svg-d{n}" class="chart" font-family="system-ui, sans-serif" '
        f'font-size="14"><title id="svg-t{n}">{_e(title)}</title><desc id="svg-d{n}">{_e(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _label_beside(x: float, y: float, text: str, width: int) -> str:
    """A label right of a mark, or left of it when it would run past the chart's right edge (never clipped)."""
    if x + 8 + LABEL_CHAR_WIDTH * len(text) <= width - 4:
        return f'<text x="{x + 8:.1f}" y="{y:.1f}" fill="{INK}">{_e(text)}</text>'
    return f'<text x="{x - 8:.1f}" y="{y:.1f}" text-anchor="end" fill="{INK}">{_e(text)}</text>'


def percent(value: float | None, digits: int = 1) -> str:
    """Return a share as a percentage ("-" when there is none)."""
    return "-" if value is None else f"{100 * value:.{digits}f} %"


def course_chart(course: Course, top: float) -> Markup:
    """The mean of one instrument at baseline, 2 weeks, 3 months and 12 months with its 95 % CI band."""
    width, height, left, right, upper, lower = 560, 260, 56, 48, 20, 44
    xs = [left + i * (width - left - right) / (len(course.points) - 1) for i in range(len(course.points))]

    def y(value: float) -> float:
        return upper + (1 - value / top) * (height - upper - lower)

    body = []
    for tick in (0, top / 2, top):
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick:g}</text>'
        )
    labels = {"0": "baseline", "2w": "2 weeks", "3m": "3 months", "12m": "12 months"}
    for x, point in zip(xs, course.points, strict=True):
        body.append(
            f'<text x="{x:.1f}" y="{height - 24}" text-anchor="middle" fill="{INK}">{labels[point.visit]}</text>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="{MUTED}">n = {point.level.n:,}</text>'
        )
    banded = [(x, p.level) for x, p in zip(xs, course.points, strict=True) if p.level.low is not None]
    if len(banded) >= 2:
        upper_edge = " ".join(f"{x:.1f},{y(m.high or 0):.1f}" for x, m in banded)
        lower_edge = " ".join(f"{x:.1f},{y(m.low or 0):.1f}" for x, m in reversed(banded))
        body.append(f'<polygon points="{upper_edge} {lower_edge}" fill="{BAND}" fill-opacity="0.18" stroke="none"/>')
    line = [(x, p.level.mean) for x, p in zip(xs, course.points, strict=True) if p.level.mean is not None]
    if len(line) >= 2:
        path = " ".join(f"{x:.1f},{y(mean):.1f}" for x, mean in line)
        body.append(f'<polyline points="{path}" fill="none" stroke="{OURS}" stroke-width="2.5"/>')
    for x, mean in line:
        body.append(f'<circle cx="{x:.1f}" cy="{y(mean):.1f}" r="5" fill="{OURS}"/>')
        body.append(f'<text x="{x + 8:.1f}" y="{y(mean) - 8:.1f}" fill="{INK}">{mean:.1f}</text>')
    summary = "; ".join(
        f"{labels[p.visit]}: mean {p.level.mean:.1f} (95 % CI {p.level.low or p.level.mean:.1f} to "
        f"{p.level.high or p.level.mean:.1f}), n = {p.level.n}"
        for p in course.points
        if p.level.mean is not None
    )
    return _svg(width, height, f"{course.label} over time", summary or "no scores yet", body)


def _row_scale(values: Sequence[float]) -> float:
    largest = max([*values, 0.01])
    for step in (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 1.0):
        if largest <= step:
            return step
    return 1.0


def rate_chart(rates: Sequence[Rate], link: Link) -> Markup:
    """Each rate with its 95 % CI (circle and whisker) beside the published rates (diamonds, range bars).

    Each row has its own scale (shown at its right end), so that a 1 % rate and a 55 % rate are both legible.
    """
    row_height, left, right = 54, 230, 70
    width = 760
    height = row_height * len(rates) + 30
    body = [
        f'<circle cx="{left}" cy="12" r="5" fill="{OURS}"/><text x="{left + 10}" y="16" fill="{INK}">ours, '
        f'95 % CI</text><path d="M{left + 130},12 l6,-6 l6,6 l-6,6 z" fill="{THEIRS}"/>'
        f'<text x="{left + 148}" y="16" fill="{INK}">published (range as a bar)</text>'
    ]
    descriptions = []
    for i, rate in enumerate(rates):
        p = rate.proportion
        top = _row_scale([p.high or 0.0, *[b.high for b in rate.benchmarks]])
        y0 = 30 + i * row_height + row_height / 2

        def x(value: float, top: float = top) -> float:
            return left + value / top * (width - left - right)

        body.append(
            f'<text x="8" y="{y0 + 4:.1f}" fill="{INK}">{_e(rate.label)}</text>'
            f'<line x1="{left}" x2="{width - right}" y1="{y0:.1f}" y2="{y0:.1f}" stroke="{GRID}"/>'
            f'<text x="{width - right + 6}" y="{y0 + 4:.1f}" fill="{MUTED}">0-{percent(top, 0)}</text>'
        )
        for b in rate.benchmarks:
            if b.high > b.low:
                body.append(
                    f'<rect x="{x(b.low):.1f}" y="{y0 + 8:.1f}" width="{x(b.high) - x(b.low):.1f}" height="6" '
                    f'fill="{THEIRS}" fill-opacity="0.5"><title>{_e(b.label)}: {percent(b.low)} to '
                    f"{percent(b.high)}</title></rect>"
                )
            else:
                body.append(
                    f'<path d="M{x(b.low):.1f},{y0 + 5:.1f} l6,6 l-6,6 l-6,-6 z" fill="{THEIRS}">'
                    f"<title>{_e(b.label)}: {percent(b.low)}</title></path>"
                )
        if p.share is not None and p.low is not None and p.high is not None:
            text = f"{percent(p.share)} ({p.events:,}/{p.n:,})"
            mark = (
                f'<line x1="{x(p.low):.1f}" x2="{x(p.high):.1f}" y1="{y0 - 6:.1f}" y2="{y0 - 6:.1f}" '
                f'stroke="{OURS}" stroke-width="2"/><circle cx="{x(p.share):.1f}" cy="{y0 - 6:.1f}" r="5" '
                f'fill="{OURS}"/>{_label_beside(x(p.share), y0 - 12, text, width)}'
            )
            url = link(rate.key)
            if url:
                mark = f'<a href="{_e(url)}" aria-label="patients: {_e(rate.label)}">{mark}</a>'
            body.append(mark)
            descriptions.append(f"{rate.label} {percent(p.share)} (95 % CI {percent(p.low)} to {percent(p.high)})")
        else:
            body.append(f'<text x="{left + 8}" y="{y0 - 8:.1f}" fill="{MUTED}">no cases yet</text>')
    return _svg(width, height, "Complications and leakage beside published rates", "; ".join(descriptions), body)


def responder_chart(courses: Sequence[Course], link: Link) -> Markup:
    """Share of responders (MCID) per instrument at 2 weeks, 3 months and 12 months, with 95 % CIs."""
    width, height, left, bottom = 620, 250, 50, 50
    group = (width - left - 10) / len(courses)
    bar = group / 4.2

    def y(value: float) -> float:
        return 14 + (1 - value) * (height - bottom - 14)

    body = []
    for tick in (0, 0.5, 1.0):
        body.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}">{percent(tick, 0)}</text>'
        )
    descriptions = []
    for g, course in enumerate(courses):
        x0 = left + g * group + bar * 0.4
        body.append(
            f'<text x="{left + g * group + group / 2:.1f}" y="{height - 10}" text-anchor="middle" '
            f'fill="{INK}">{_e(course.measure.upper())}</text>'
        )
        for j, point in enumerate(course.points[1:]):
            p = point.responders
            xb = x0 + j * bar * 1.25
            body.append(
                f'<text x="{xb + bar / 2:.1f}" y="{height - 30}" text-anchor="middle" fill="{MUTED}" '
                f'font-size="12">{_e(point.visit)}</text>'
            )
            if p is None or p.share is None:
                continue
            shape = (
                f'<rect x="{xb:.1f}" y="{y(p.share):.1f}" width="{bar:.1f}" height="{y(0) - y(p.share):.1f}" '
                f'fill="{OURS}" fill-opacity="{0.45 + 0.25 * j:.2f}"/>'
                f'<line x1="{xb + bar / 2:.1f}" x2="{xb + bar / 2:.1f}" y1="{y(p.low or 0):.1f}" '
                f'y2="{y(p.high or 0):.1f}" stroke="{INK}" stroke-width="1.5"/>'
            )
            url = link(f"responder:{course.measure}:{point.visit}")
            if url:
                name = f"patients: {course.measure} responders at {point.visit}"
                shape = f'<a href="{_e(url)}" aria-label="{_e(name)}">{shape}</a>'
            body.append(shape)
            descriptions.append(f"{course.measure.upper()} {point.visit}: {percent(p.share)} of {p.n}")
    return _svg(width, height, "Responders (MCID) over time", "; ".join(descriptions) or "no pairs yet", body)


def funnel_chart(funnel: Funnel) -> Markup:
    """Complication rate by operator against the number of procedures, with 95 % and 99.8 % limits."""
    width, height, left, bottom, top_pad = 620, 300, 56, 40, 14
    largest = max([p.n for p in funnel.points] + [1])
    x_top = largest * 1.1
    highest = max([p.share for p in funnel.points] + [lim[4] for lim in funnel.limits[2:]] + [0.05])
    y_top = min(1.0, highest * 1.15)

    def x(n: float) -> float:
        return left + n / x_top * (width - left - 12)

    def y(v: float) -> float:
        return top_pad + (1 - v / y_top) * (height - bottom - top_pad)

    body = []
    for tick in (0, y_top / 2, y_top):
        body.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="{MUTED}">{percent(tick, 0)}</text>'
        )
    body.append(
        f'<text x="{(left + width) / 2:.0f}" y="{height - 8}" text-anchor="middle" fill="{INK}">procedures per '
        f"operator (0 to {round(x_top):,})</text>"
    )
    if funnel.limits:
        for index, dash in ((1, "6 4"), (3, "6 4"), (0, "2 3"), (4, "2 3")):
            points = " ".join(f"{x(lim[0]):.1f},{y(min(y_top, lim[index])):.1f}" for lim in funnel.limits)
            body.append(f'<polyline points="{points}" fill="none" stroke="{MUTED}" stroke-dasharray="{dash}"/>')
    overall = funnel.overall.share or 0.0
    body.append(f'<line x1="{left}" x2="{width - 12}" y1="{y(overall):.1f}" y2="{y(overall):.1f}" stroke="{INK}"/>')
    for p in funnel.points:
        tip = f"{p.operator}: {p.events} of {p.n} ({percent(p.share)}) {p.outside}".strip()
        if p.outside.startswith("above"):
            body.append(
                f'<path d="M{x(p.n):.1f},{y(p.share) - 7:.1f} l7,12 l-14,0 z" fill="{ALERT}"><title>{_e(tip)}'
                "</title></path>"
            )
        else:
            body.append(
                f'<circle cx="{x(p.n):.1f}" cy="{y(p.share):.1f}" r="5" fill="{OURS}"><title>{_e(tip)}</title></circle>'
            )
    outliers = [p.operator for p in funnel.points if p.outside.startswith("above")]
    description = f"{len(funnel.points)} operators around an overall rate of {percent(overall)}; " + (
        f"above the limits: {', '.join(outliers)}" if outliers else "none above the 95 % limit"
    )
    return _svg(width, height, "Funnel plot: complication rate by operator", description, body)


def histogram(buckets: Sequence[Bucket], title: str, link: Link, prefix: str) -> Markup:
    """Bars of counts per bucket, labelled with the count and the share."""
    width, height, bottom = 620, 230, 46
    total = sum(b.n for b in buckets) or 1
    peak = max([b.n for b in buckets] + [1])
    slot = (width - 20) / len(buckets)
    body = []
    for i, b in enumerate(buckets):
        bar_h = b.n / peak * (height - bottom - 30)
        x0 = 10 + i * slot + slot * 0.12
        shape = (
            f'<rect x="{x0:.1f}" y="{height - bottom - bar_h:.1f}" width="{slot * 0.76:.1f}" height="{bar_h:.1f}" '
            f'fill="{OURS}" fill-opacity="0.75"/>'
        )
        url = link(f"{prefix}:{b.key}")
        if url and b.n:
            shape = f'<a href="{_e(url)}" aria-label="patients: {_e(b.label)}">{shape}</a>'
        body.append(shape)
        body.append(
            f'<text x="{x0 + slot * 0.38:.1f}" y="{height - bottom - bar_h - 6:.1f}" text-anchor="middle" '
            f'fill="{INK}">{b.n:,} ({100 * b.n / total:.0f} %)</text>'
            f'<text x="{x0 + slot * 0.38:.1f}" y="{height - bottom + 18:.1f}" text-anchor="middle" '
            f'fill="{INK}">{_e(b.label)}</text>'
        )
    description = "; ".join(f"{b.label}: {b.n}" for b in buckets)
    return _svg(width, height, title, description, body)
