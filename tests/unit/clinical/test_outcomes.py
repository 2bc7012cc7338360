"""Outcome scores: ODI, RDQ, and responders by minimal clinically important change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.clinical.builders import assessed
from vertebro.clinical.outcomes import (
    Change,
    nrs_change,
    odi_change,
    odi_percent,
    outcome_targets,
    rdq_change,
    rdq_score,
)

# --- ODI ----------------------------------------------------------------------------------------


@pytest.mark.rule("outcomes.odi")
def test_odi_with_every_section_answered() -> None:
    """ODI scoring: "10 items × 0–5; score % = sum / (5 × items answered) × 100"."""
    assert odi_percent([3, 2, 4, 1, 0, 5, 3, 2, 1, 2]) == 46.0  # 23 / 50
    assert odi_percent([0] * 10) == 0.0
    assert odi_percent([5] * 10) == 100.0


@pytest.mark.rule("outcomes.odi")
def test_odi_with_one_section_missing() -> None:
    """ODI scoring: "score % = sum / (5 × items answered) × 100"."""
    assert odi_percent([3, 2, 4, 1, None, 5, 3, 2, 1, 2]) == 51.1  # 23 / 45


@pytest.mark.rule("outcomes.odi")
def test_odi_with_two_sections_missing() -> None:
    """ODI scoring: "score % = sum / (5 × items answered) × 100"."""
    assert odi_percent([3, 2, 4, 1, None, 5, None, 2, 1, 2]) == 50.0  # 20 / 40


@pytest.mark.rule("outcomes.odi")
def test_odi_with_three_sections_missing_is_not_scored() -> None:
    """ODI scoring: "score % = sum / (5 × items answered) × 100" — vertebro scores at most 2 missing sections."""
    assert odi_percent([3, None, 4, 1, None, 5, None, 2, 1, 2]) is None
    assert odi_percent([None] * 10) is None
    assert odi_percent([3, None, 4, 1, None, 5, None, 2, 1, 2], max_missing=3) == 51.4  # 18 / 35


@pytest.mark.rule("outcomes.odi")
@pytest.mark.parametrize("length", [0, 9, 11])
def test_odi_needs_exactly_ten_sections(length: int) -> None:
    """ODI scoring: "10 items × 0–5"."""
    with pytest.raises(ValueError, match=f"the ODI has 10 sections, got {length}"):
        odi_percent([1] * length)


@pytest.mark.rule("outcomes.odi")
@pytest.mark.parametrize("bad", [True, False])
def test_odi_rejects_booleans(bad: bool) -> None:
    """ODI scoring: "10 items × 0–5" — each section is a number, not true/false."""
    sections: list[Any] = [1] * 10
    sections[3] = bad
    with pytest.raises(TypeError, match=r"sections\[3\]: expected a whole number"):
        odi_percent(sections)


@pytest.mark.rule("outcomes.odi")
@pytest.mark.parametrize("bad", [6, -1, 2.5, "3"])
def test_odi_rejects_values_outside_0_to_5(bad: Any) -> None:
    """ODI scoring: "10 items × 0–5"."""
    sections: list[Any] = [1] * 10
    sections[9] = bad
    with pytest.raises((TypeError, ValueError), match=r"sections\[9\]"):
        odi_percent(sections)


# --- RDQ ----------------------------------------------------------------------------------------


@pytest.mark.rule("outcomes.rdq")
def test_rdq_counts_the_ticked_items() -> None:
    """Ostelo 2008: "RDQ 5 (0–24)" — the RDQ score is the count of 24 yes/no items, 0–24."""
    assert rdq_score([True] * 7 + [False] * 17) == 7
    assert rdq_score([False] * 24) == 0
    assert rdq_score([True] * 24) == 24


@pytest.mark.rule("outcomes.rdq")
@pytest.mark.parametrize("length", [0, 23, 25])
def test_rdq_needs_exactly_24_items(length: int) -> None:
    """Ostelo 2008: "RDQ 5 (0–24)"."""
    with pytest.raises(ValueError, match=f"the RDQ has 24 items, got {length}"):
        rdq_score([True] * length)


@pytest.mark.rule("outcomes.rdq")
@pytest.mark.parametrize("bad", [1, 0, "yes", None])
def test_rdq_items_must_be_true_or_false(bad: Any) -> None:
    """Ostelo 2008: "RDQ 5 (0–24)" — each of the 24 items is ticked or not."""
    items: list[Any] = [True] * 24
    items[5] = bad
    with pytest.raises(TypeError, match=r"items\[5\]: expected true or false"):
        rdq_score(items)


# --- NRS responder ------------------------------------------------------------------------------


@pytest.mark.rule("outcomes.mcid_nrs")
@pytest.mark.parametrize(
    ("baseline", "follow_up", "responder"),
    [
        (10, 8, True),  # 2 points
        (10, 9, False),  # 1 point, 10 %
        (8, 6, True),
        (8, 7, False),
        (7, 5, True),
        (5, 4, False),  # 1 point, 20 %
        (4, 3, False),  # 1 point, 25 %
        (4, 2, True),
        (3, 2, True),  # 1 point, 33 %
        (2, 1, True),  # 50 %
        (1, 0, True),  # 100 %
        (0, 0, False),
        (5, 5, False),
        (5, 7, False),
    ],
)
def test_nrs_responder_at_2_points_or_30_percent(baseline: int, follow_up: int, responder: bool) -> None:
    """Farrar 2001: "NRS: ≈ 2 points or ≈ 30 % reduction"."""
    change = nrs_change(baseline, follow_up)
    assert change.responder is responder
    assert change.change == follow_up - baseline
    assert change.rule.id == "outcomes.mcid_nrs"


@pytest.mark.rule("outcomes.mcid_nrs")
def test_nrs_change_percent() -> None:
    """Farrar 2001: "≈ 30 % reduction" — measured from baseline."""
    assert nrs_change(3, 2).percent_change == -33.3
    assert nrs_change(5, 4).percent_change == -20.0
    assert nrs_change(0, 2).percent_change is None


@pytest.mark.rule("outcomes.mcid_nrs")
@pytest.mark.parametrize(("baseline", "follow_up"), [(11, 5), (5, -1), (True, 0), (5, False), (7.0, 5), ("7", 5)])
def test_nrs_change_rejects_impossible_scores(baseline: Any, follow_up: Any) -> None:
    """Farrar 2001: NRS "2 points" on a 0–10 scale — booleans, strings and values outside 0–10 are not scores."""
    with pytest.raises((TypeError, ValueError), match=r"baseline|follow_up"):
        nrs_change(baseline, follow_up)


# --- ODI and RDQ responders ---------------------------------------------------------------------


@pytest.mark.rule("outcomes.mcid_odi")
@pytest.mark.parametrize(
    ("baseline", "follow_up", "responder"),
    [(56.0, 46.0, True), (56.0, 46.1, False), (50.0, 40.0, True), (50.0, 41.0, False), (80.0, 20.0, True)],
)
def test_odi_responder_at_10_points(baseline: float, follow_up: float, responder: bool) -> None:
    """Ostelo 2008 consensus MIC: "ODI 10 (0–100)"."""
    change = odi_change(baseline, follow_up)
    assert change.responder is responder
    assert change.change == pytest.approx(follow_up - baseline)
    assert change.rule.id == "outcomes.mcid_odi"


@pytest.mark.rule("outcomes.mcid_odi")
@pytest.mark.parametrize(("baseline", "follow_up"), [(20.0, 14.0), (30.0, 21.0), (12.0, 8.0)])
def test_odi_responder_counts_points_not_percent(baseline: float, follow_up: float) -> None:
    """Summary table: "MCID | NRS 2 points or 30 %; RMDQ 5; ODI 10". Ostelo's alternative "or 30 % from
    baseline" is applied to NRS only (docs/decisions/0002), so a 30 % drop under 10 points does not count."""
    change = odi_change(baseline, follow_up)
    assert change.responder is False
    assert change.percent_change is not None
    assert change.percent_change <= -30.0


@pytest.mark.rule("outcomes.mcid_odi")
@pytest.mark.parametrize(("baseline", "follow_up"), [(101.0, 50.0), (50.0, -1.0), (True, 0.0), ("50", 40.0)])
def test_odi_change_rejects_impossible_scores(baseline: Any, follow_up: Any) -> None:
    """Ostelo 2008: "ODI 10 (0–100)"."""
    with pytest.raises((TypeError, ValueError), match=r"baseline|follow_up"):
        odi_change(baseline, follow_up)


@pytest.mark.rule("outcomes.mcid_rdq")
@pytest.mark.parametrize(
    ("baseline", "follow_up", "responder"),
    [(19, 14, True), (19, 15, False), (24, 0, True), (10, 5, True), (10, 6, False)],
)
def test_rdq_responder_at_5_points(baseline: int, follow_up: int, responder: bool) -> None:
    """Ostelo 2008 consensus MIC: "RDQ 5 (0–24)"; summary: "RMDQ 5"."""
    change = rdq_change(baseline, follow_up)
    assert change.responder is responder
    assert change.change == follow_up - baseline
    assert change.rule.id == "outcomes.mcid_rdq"


@pytest.mark.rule("outcomes.mcid_rdq")
@pytest.mark.parametrize(("baseline", "follow_up"), [(10, 7), (12, 8)])
def test_rdq_responder_counts_points_not_percent(baseline: int, follow_up: int) -> None:
    """Summary table: "MCID | NRS 2 points or 30 %; RMDQ 5; ODI 10". Ostelo's alternative "or 30 % from
    baseline" is applied to NRS only (docs/decisions/0002), so a 30 % drop under 5 points does not count."""
    change = rdq_change(baseline, follow_up)
    assert change.responder is False
    assert change.percent_change is not None
    assert change.percent_change <= -30.0


@pytest.mark.rule("outcomes.mcid_rdq")
@pytest.mark.parametrize(("baseline", "follow_up"), [(25, 10), (10, -1), (True, 0), (10.0, 5)])
def test_rdq_change_rejects_impossible_scores(baseline: Any, follow_up: Any) -> None:
    """Ostelo 2008: "RDQ 5 (0–24)"."""
    with pytest.raises((TypeError, ValueError), match=r"baseline|follow_up"):
        rdq_change(baseline, follow_up)


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.rule("outcomes.mcid_nrs")
@pytest.mark.rule("outcomes.mcid_odi")
@pytest.mark.rule("outcomes.mcid_rdq")
def test_responder_targets_for_the_base_case() -> None:
    """Summary: "MCID | NRS 2 points or 30 %; RMDQ 5; ODI 10"."""
    targets = assessed().outcome_targets
    assert (targets.nrs_baseline, targets.nrs_responder_at_most) == (8, 6)
    assert (targets.odi_baseline, targets.odi_responder_at_most) == (56.0, 46.0)
    assert (targets.rdq_baseline, targets.rdq_responder_at_most) == (19, 14)
    assert [r.id for r in targets.rules] == ["outcomes.mcid_nrs", "outcomes.mcid_odi", "outcomes.mcid_rdq"]


@pytest.mark.rule("outcomes.mcid_nrs")
@pytest.mark.parametrize(("nrs", "at_most"), [(10, 8), (5, 3), (4, 2), (3, 2), (2, 1), (1, 0), (0, None)])
def test_nrs_target(nrs: int, at_most: int | None) -> None:
    """Farrar 2001: "NRS: ≈ 2 points or ≈ 30 % reduction"."""
    assert outcome_targets(nrs, None, None).nrs_responder_at_most == at_most


# --- monotonicity -------------------------------------------------------------------------------


def _monotone(change: Callable[[Any, Any], Change], baseline: Any, a: Any, b: Any) -> None:
    worse, better = max(a, b), min(a, b)
    if change(baseline, worse).responder:
        assert change(baseline, better).responder


@pytest.mark.rule("outcomes.mcid_nrs")
@given(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10))
def test_a_larger_nrs_improvement_never_loses_responder_status(baseline: int, a: int, b: int) -> None:
    """Farrar 2001: "≈ 2 points or ≈ 30 % reduction" — at least that much is enough."""
    _monotone(nrs_change, baseline, a, b)


@pytest.mark.rule("outcomes.mcid_odi")
@given(
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
)
def test_a_larger_odi_improvement_never_loses_responder_status(baseline: float, a: float, b: float) -> None:
    """Ostelo 2008: "ODI 10 (0–100)" — at least that much is enough."""
    _monotone(odi_change, baseline, a, b)


@pytest.mark.rule("outcomes.mcid_rdq")
@given(st.integers(0, 24), st.integers(0, 24), st.integers(0, 24))
def test_a_larger_rdq_improvement_never_loses_responder_status(baseline: int, a: int, b: int) -> None:
    """Ostelo 2008: "RDQ 5 (0–24)" — at least that much is enough."""
    _monotone(rdq_change, baseline, a, b)
