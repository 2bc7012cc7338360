"""The patient's progress chart: every answered point inside the drawing, described in words, lower is better."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from vertebro.pathway.machine import State
from vertebro.store.models import FollowUp
from vertebro.store.portal.cases import MyCase
from vertebro.web.portal.progress import BOTTOM, TOP, WIDTH, progress_series

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def _case(baseline: dict[str, float | None], follow_ups: list[FollowUp]) -> MyCase:
    return MyCase(
        case_id=1,
        state=State.FOLLOW_UP,
        levels=("L1",),
        created_at=NOW,
        booking=None,
        arrival=None,
        follow_ups=tuple(follow_ups),
        questionnaires={},
        request=None,
        baseline=baseline,
    )


def _done(visit: str, nrs: int | None, odi: float | None = None, rdq: int | None = None) -> FollowUp:
    return FollowUp(
        visit=visit,
        due_from=NOW.date(),
        due_until=NOW.date(),
        completed_at=NOW,
        nrs=nrs,
        odi_percent=odi,
        rdq=rdq,
    )


def test_the_description_gives_every_value_in_order() -> None:
    series = progress_series(_case({"nrs": 8, "odi_percent": 44.0, "rdq": None}, [_done("2w", 3, 20.0)]))
    assert [s.key for s in series] == ["pain", "odi"]
    assert series[0].description == "Pain (0 to 10), lower is better. Before: 8; After 2 weeks: 3."
    assert (
        series[1].description == "Oswestry disability (0 to 100 %), lower is better. Before: 44 %; After 2 weeks: 20 %."
    )


def test_unanswered_follow_ups_are_not_drawn() -> None:
    open_visit = FollowUp(visit="3m", due_from=NOW.date(), due_until=NOW.date())
    series = progress_series(_case({"nrs": 6, "odi_percent": None, "rdq": None}, [_done("2w", 4), open_visit]))
    assert [p.label for p in series[0].points] == ["Before", "After 2 weeks"]


@given(
    st.integers(0, 10),
    st.lists(st.tuples(st.integers(0, 10), st.integers(0, 24)), min_size=0, max_size=3),
)
def test_every_point_lies_inside_the_chart_and_higher_scores_sit_higher(
    baseline: int, answers: list[tuple[int, int]]
) -> None:
    visits = ["2w", "3m", "12m"]
    follow_ups = [_done(visits[i], nrs, rdq=rdq) for i, (nrs, rdq) in enumerate(answers)]
    for series in progress_series(_case({"nrs": baseline, "odi_percent": None, "rdq": 12}, follow_ups)):
        for point in series.points:
            assert 0 <= point.x <= WIDTH
            assert TOP <= point.y <= BOTTOM
        ordered = sorted(series.points, key=lambda p: p.value)
        assert all(a.y >= b.y for a, b in itertools.pairwise(ordered))
