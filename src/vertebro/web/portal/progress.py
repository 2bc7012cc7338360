"""Pain and function over time, as chart coordinates (the template draws a server-side SVG and a table)."""

from __future__ import annotations

from dataclasses import dataclass

from vertebro.store.portal.cases import MyCase
from vertebro.store.portal.outbox import VISIT_WORDS

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 320, 150, 36, 10, 120


@dataclass(frozen=True, slots=True)
class Point:
    """One answered time point: its label, value and position on the chart."""

    label: str
    value: float
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Series:
    """One measure over time (pain 0-10, ODI 0-100 %, RDQ 0-24): lower is better for all three."""

    key: str
    title: str
    unit: str
    top: int
    points: tuple[Point, ...]
    ticks: tuple[tuple[int, float], ...]

    @property
    def polyline(self) -> str:
        """The line's points as SVG coordinates."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def description(self) -> str:
        """The chart in words (its text alternative)."""
        parts = [f"{p.label}: {p.value:g}{self.unit}" for p in self.points]
        return f"{self.title}, lower is better. " + "; ".join(parts) + "."


def _series(key: str, title: str, unit: str, top: int, values: list[tuple[str, float | None]]) -> Series | None:
    known = [(label, v) for label, v in values if v is not None]
    if not known:
        return None
    step = (WIDTH - LEFT - 34) / max(len(values) - 1, 1)  # room for the last label
    positions = {label: LEFT + i * step for i, (label, _) in enumerate(values)}

    def y(value: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * value / top

    ticks = tuple((t, y(t)) for t in range(0, top + 1, max(top // 5, 1)))
    points = tuple(Point(label, float(v), positions[label], y(float(v))) for label, v in known)
    return Series(key, title, unit, top, points, ticks)


def progress_series(case: MyCase) -> tuple[Series, ...]:
    """Return pain, ODI and RDQ from the first answers (before treatment) to each follow-up answered."""
    done = [f for f in case.follow_ups if f.completed_at is not None]
    labels = ["Before", *(f"After {VISIT_WORDS[f.visit]}" for f in done)]
    base = case.baseline
    found = (
        _series(
            "pain", "Pain (0 to 10)", "", 10, list(zip(labels, [base["nrs"], *(f.nrs for f in done)], strict=True))
        ),
        _series(
            "odi",
            "Oswestry disability (0 to 100 %)",
            " %",
            100,
            list(zip(labels, [base["odi_percent"], *(f.odi_percent for f in done)], strict=True)),
        ),
        _series(
            "rdq",
            "Roland-Morris (0 to 24)",
            "",
            24,
            list(zip(labels, [base["rdq"], *(f.rdq for f in done)], strict=True)),
        ),
    )
    return tuple(s for s in found if s is not None)
