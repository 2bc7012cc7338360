"""Vertebral morphometry: ratios, reference heights, shape, Genant grade, vertebra plana, plausibility."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.clinical.builders import make_case
from vertebro.clinical.morphometry import (
    HeightReference,
    Heights,
    Morphology,
    MorphometryError,
    checked_heights,
    genant_grade,
    is_vertebra_plana,
    measure,
    reported,
)

NORMAL = Heights(30.0, 30.0, 30.0)


# --- ratios -------------------------------------------------------------------------------------


@pytest.mark.rule("morphometry.ratios")
def test_wedge_and_biconcavity_ratios_use_the_same_vertebras_posterior_height() -> None:
    """EPOS-style QM: "Wedge ratio = Ha/Hp; biconcavity ratio = Hm/Hp"."""
    m = measure(Heights(anterior=24.0, middle=27.0, posterior=30.0))
    assert m.wedge_ratio == 0.8
    assert m.biconcavity_ratio == 0.9
    assert m.crush_ratio_above is None
    assert m.crush_ratio_below is None


@pytest.mark.rule("morphometry.ratios")
def test_crush_ratios_use_the_posterior_heights_above_and_below() -> None:
    """EPOS-style QM: "Crush ratios = Hp/Hp′ and Hp/Hp″ (Hp′ = posterior height of vertebra above, Hp″ = below)"."""
    m = measure(
        Heights(20.0, 20.0, 20.0),
        above=Heights(29.0, 29.0, 30.0),
        below=Heights(27.0, 27.0, 28.0),
    )
    assert m.crush_ratio_above == pytest.approx(0.667)
    assert m.crush_ratio_below == pytest.approx(0.714)
    assert m.wedge_ratio == 1.0
    assert m.biconcavity_ratio == 1.0


@pytest.mark.rule("morphometry.ratios")
def test_only_the_given_neighbour_has_a_crush_ratio() -> None:
    """EPOS-style QM: "Crush ratios = Hp/Hp′ and Hp/Hp″" — one per adjacent vertebra measured."""
    above_only = measure(Heights(24.0, 24.0, 24.0), above=Heights(30.0, 30.0, 30.0))
    below_only = measure(Heights(24.0, 24.0, 24.0), below=Heights(32.0, 32.0, 32.0))
    assert (above_only.crush_ratio_above, above_only.crush_ratio_below) == (0.8, None)
    assert (below_only.crush_ratio_above, below_only.crush_ratio_below) == (None, 0.75)


# --- reference height ---------------------------------------------------------------------------


@pytest.mark.rule("morphometry.reference")
def test_height_loss_uses_the_mean_of_the_vertebrae_above_and_below() -> None:
    """Reference height: "use the mean of the corresponding height of the nearest normal vertebra above and below"."""
    m = measure(
        Heights(21.0, 21.0, 21.0),
        above=Heights(30.0, 30.0, 30.0),
        below=Heights(26.0, 26.0, 26.0),
    )
    # mean reference 28 mm; 1 - 21/28 = 25 %
    assert m.reference is HeightReference.ADJACENT_MEAN
    assert m.height_loss_percent == 25.0
    assert m.genant_grade == 2


@pytest.mark.rule("morphometry.reference")
def test_height_loss_against_the_vertebra_above_only() -> None:
    """Reference height: "crush uses adjacent vertebrae (above/below) or population-predicted height"."""
    m = measure(Heights(21.0, 21.0, 21.0), above=Heights(30.0, 30.0, 30.0))
    assert m.reference is HeightReference.ADJACENT_ABOVE
    assert m.height_loss_percent == 30.0


@pytest.mark.rule("morphometry.reference")
def test_height_loss_against_the_vertebra_below_only() -> None:
    """Reference height: "crush uses adjacent vertebrae (above/below) or population-predicted height"."""
    m = measure(Heights(21.0, 21.0, 21.0), below=Heights(28.0, 28.0, 28.0))
    assert m.reference is HeightReference.ADJACENT_BELOW
    assert m.height_loss_percent == 25.0


@pytest.mark.rule("morphometry.reference")
def test_adjacent_reference_compares_corresponding_heights() -> None:
    """Reference height: "the mean of the corresponding height of the nearest normal vertebra above and below".

    Anterior is compared with anterior: 27 mm against a 30 mm mean anterior height is a 10 % loss,
    even though the neighbours' posterior heights are 36 mm.
    """
    m = measure(
        Heights(27.0, 33.0, 36.0),
        above=Heights(29.0, 33.0, 36.0),
        below=Heights(31.0, 33.0, 36.0),
    )
    assert m.height_loss_percent == 10.0
    assert m.genant_grade == 0


@pytest.mark.rule("morphometry.reference")
def test_without_neighbours_the_same_vertebras_posterior_height_is_the_reference() -> None:
    """Reference height: "wedge and biconcave use the same vertebra's posterior height"."""
    m = measure(Heights(18.0, 27.0, 30.0))
    assert m.reference is HeightReference.SAME_VERTEBRA_POSTERIOR
    assert m.height_loss_percent == 40.0
    assert m.genant_grade == 2


@pytest.mark.rule("morphometry.reference")
def test_the_same_vertebra_reference_cannot_show_a_crush() -> None:
    """Reference height: "crush uses adjacent vertebrae (above/below)"; a uniformly short body measured only
    against itself shows no loss — which is why the reference used is recorded."""
    alone = measure(Heights(15.0, 15.0, 15.0))
    assert alone.height_loss_percent == 0.0
    assert alone.morphology is Morphology.NONE
    with_neighbours = measure(Heights(15.0, 15.0, 15.0), above=NORMAL, below=NORMAL)
    assert with_neighbours.height_loss_percent == 50.0
    assert with_neighbours.morphology is Morphology.CRUSH


@pytest.mark.rule("morphometry.reference")
def test_a_reported_percentage_is_recorded_as_reported() -> None:
    """Reference height: "Record which reference was used."."""
    m = reported(32.5)
    assert m.reference is HeightReference.REPORTED
    assert m.height_loss_percent == 32.5
    assert m.genant_grade == 2
    assert m.morphology is None
    assert m.wedge_ratio is None
    assert m.biconcavity_ratio is None


# --- shape --------------------------------------------------------------------------------------


@pytest.mark.rule("morphometry.shape")
def test_wedge_when_the_anterior_height_is_most_reduced() -> None:
    """Genant shape types: "wedge (anterior height reduced)"."""
    m = measure(Heights(21.0, 27.0, 30.0))
    assert m.morphology is Morphology.WEDGE
    assert m.height_loss_percent == 30.0


@pytest.mark.rule("morphometry.shape")
def test_biconcave_when_the_middle_height_is_most_reduced() -> None:
    """Genant shape types: "biconcave/endplate (middle height reduced)"."""
    m = measure(Heights(28.0, 21.0, 30.0))
    assert m.morphology is Morphology.BICONCAVE
    assert m.height_loss_percent == 30.0


@pytest.mark.rule("morphometry.shape")
def test_crush_when_the_posterior_height_is_reduced_too() -> None:
    """Genant shape types: "crush/compression (whole body incl. posterior height reduced)"."""
    m = measure(Heights(15.0, 20.0, 23.0), above=NORMAL, below=NORMAL)
    # anterior 50 %, middle 33 %, posterior 23 % reduced: the whole body is involved
    assert m.morphology is Morphology.CRUSH
    assert m.height_loss_percent == 50.0


@pytest.mark.rule("morphometry.shape")
def test_no_deformity_below_20_percent() -> None:
    """Genant SQ: "grade 0 < 20 %" — no deformity shape is assigned below the grade-1 threshold."""
    m = measure(Heights(24.3, 30.0, 30.0))
    assert m.height_loss_percent == 19.0
    assert m.morphology is Morphology.NONE
    assert m.genant_grade == 0


# --- Genant grade -------------------------------------------------------------------------------


@pytest.mark.rule("morphometry.genant")
@pytest.mark.parametrize(
    ("loss", "grade"),
    [
        (0.0, 0),
        (19.9, 0),
        (20.0, 1),
        (24.9, 1),
        (25.0, 2),
        (40.0, 2),
        (40.1, 3),
        (69.9, 3),
        (100.0, 3),
    ],
)
def test_genant_grade_boundaries(loss: float, grade: int) -> None:
    """Genant SQ: "grade 0 < 20 %; 1 = 20–25 %; 2 = 25–40 %; 3 = > 40 % height loss"; implementation choice
    "<20 → 0; 20≤x<25 → 1; 25≤x≤40 → 2; >40 → 3"."""
    assert genant_grade(loss) == grade
    assert reported(loss).genant_grade == grade


@pytest.mark.rule("morphometry.genant")
@pytest.mark.parametrize(
    ("anterior", "loss", "grade"),
    [(24.03, 19.9, 0), (24.0, 20.0, 1), (22.53, 24.9, 1), (22.5, 25.0, 2), (18.0, 40.0, 2), (17.97, 40.1, 3)],
)
def test_genant_grade_from_measured_heights(anterior: float, loss: float, grade: int) -> None:
    """Genant SQ: "1 = 20–25 %; 2 = 25–40 %; 3 = > 40 %" measured from the heights of a 30 mm vertebra."""
    m = measure(Heights(anterior, 30.0, 30.0))
    assert m.height_loss_percent == loss
    assert m.genant_grade == grade


@pytest.mark.rule("morphometry.genant")
@settings(max_examples=300)
@given(
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)
def test_genant_grade_never_decreases_as_height_loss_grows(a: float, b: float) -> None:
    """Genant SQ: "grade 0 < 20 %; 1 = 20–25 %; 2 = 25–40 %; 3 = > 40 %" — a monotone scale."""
    low, high = sorted((a, b))
    assert genant_grade(low) <= genant_grade(high)


@pytest.mark.rule("morphometry.genant")
@settings(max_examples=300)
@given(
    st.floats(min_value=0.5, max_value=30.0, allow_nan=False),
    st.floats(min_value=0.5, max_value=30.0, allow_nan=False),
    st.booleans(),
)
def test_measured_grade_never_decreases_as_the_anterior_height_shrinks(a: float, b: float, neighbours: bool) -> None:
    """Genant SQ: "3 = > 40 % height loss" — the less anterior height is left, the higher (or equal) the grade."""
    taller, shorter = max(a, b), min(a, b)
    refs: dict[str, Any] = {"above": NORMAL, "below": NORMAL} if neighbours else {}
    m_taller = measure(Heights(taller, 30.0, 30.0), **refs)
    m_shorter = measure(Heights(shorter, 30.0, 30.0), **refs)
    assert m_shorter.height_loss_percent >= m_taller.height_loss_percent
    assert m_shorter.genant_grade >= m_taller.genant_grade


# --- vertebra plana -----------------------------------------------------------------------------


@pytest.mark.rule("morphometry.vertebra_plana")
@pytest.mark.parametrize(("loss", "plana"), [(40.1, False), (69.9, False), (70.0, True), (85.0, True)])
def test_vertebra_plana_from_70_percent(loss: float, plana: bool) -> None:
    """Vertebra plana: "commonly > ~70–75 % height loss"; "Collapse > 70 % is cited as a relative
    contraindication" — vertebro flags it at 70 % or more."""
    assert is_vertebra_plana(loss) is plana
    assert reported(loss).vertebra_plana is plana


@pytest.mark.rule("morphometry.vertebra_plana")
def test_vertebra_plana_from_measured_heights() -> None:
    """Vertebra plana: "near-complete uniform collapse ("pancake vertebra")" — 9 mm left of 30 mm is 70 %."""
    plana = measure(Heights(9.0, 9.0, 9.0), above=NORMAL, below=NORMAL)
    assert plana.height_loss_percent == 70.0
    assert plana.vertebra_plana is True
    assert plana.genant_grade == 3
    assert plana.morphology is Morphology.CRUSH
    nearly = measure(Heights(9.03, 9.03, 9.03), above=NORMAL, below=NORMAL)
    assert nearly.height_loss_percent == 69.9
    assert nearly.vertebra_plana is False


# --- plausibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anterior", "middle", "posterior", "field", "words"),
    [
        (0.0, 30.0, 30.0, "anterior", "greater than 0"),
        (30.0, 0.0, 30.0, "middle", "greater than 0"),
        (30.0, 30.0, 0.0, "posterior", "greater than 0"),
        (-5.0, 30.0, 30.0, "anterior", "greater than 0"),
        (30.0, -0.1, 30.0, "middle", "greater than 0"),
        (30.0, 30.0, -30.0, "posterior", "greater than 0"),
        (80.1, 60.0, 60.0, "anterior", "at most 80"),
        (60.0, 95.0, 60.0, "middle", "at most 80"),
        (60.0, 60.0, 81.0, "posterior", "at most 80"),
        (61.0, 30.0, 30.0, "anterior", "twice the posterior"),
        (30.0, 60.5, 30.0, "middle", "twice the posterior"),
    ],
)
def test_checked_heights_rejects_implausible_heights_naming_the_field(
    anterior: float, middle: float, posterior: float, field: str, words: str
) -> None:
    with pytest.raises(MorphometryError) as caught:
        checked_heights(anterior, middle, posterior)
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("anterior", "middle", "posterior"),
    [(80.0, 80.0, 80.0), (60.0, 60.0, 30.0), (0.1, 0.1, 0.1), (12.0, 30.0, 30.0)],
)
def test_checked_heights_accepts_the_boundaries(anterior: float, middle: float, posterior: float) -> None:
    assert checked_heights(anterior, middle, posterior) == Heights(anterior, middle, posterior)


@pytest.mark.parametrize(
    ("heights", "field"),
    [
        ({"anterior": 0, "middle": 30, "posterior": 30}, "anterior"),
        ({"anterior": -4.0, "middle": 30, "posterior": 30}, "anterior"),
        ({"anterior": 30, "middle": 0, "posterior": 30}, "middle"),
        ({"anterior": 30, "middle": 30, "posterior": -1.5}, "posterior"),
        ({"anterior": 85.0, "middle": 60, "posterior": 60}, "anterior"),
        ({"anterior": 60, "middle": 60, "posterior": 80.5}, "posterior"),
        ({"anterior": 250.0, "middle": 60, "posterior": 60}, "anterior"),
        ({"anterior": 61.0, "middle": 30, "posterior": 30}, "anterior"),
        ({"anterior": 30, "middle": 61.0, "posterior": 30}, "middle"),
    ],
)
def test_the_case_model_rejects_implausible_heights_naming_the_field(heights: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_case(fracture={"heights_mm": heights})
    message = str(caught.value)
    assert "heights_mm" in message
    assert field in message
    locs = [e["loc"] for e in caught.value.errors()]
    assert any("heights_mm" in loc for loc in locs)
    assert any(field in loc or field in e["msg"] for loc, e in zip(locs, caught.value.errors(), strict=True))


def test_the_case_model_rejects_implausible_reference_heights() -> None:
    with pytest.raises(ValidationError) as caught:
        make_case(
            fracture={
                "heights_mm": {"anterior": 20, "middle": 26, "posterior": 28},
                "reference_heights_mm": {"above": {"anterior": 90, "middle": 30, "posterior": 30}},
            }
        )
    message = str(caught.value)
    assert "reference_heights_mm" in message
    assert "anterior" in message


def test_the_case_model_accepts_plausible_heights() -> None:
    case = make_case(fracture={"heights_mm": {"anterior": 21.0, "middle": 27.0, "posterior": 30.0}})
    heights = case.fractures[0].heights_mm
    assert heights is not None
    assert (heights.anterior, heights.middle, heights.posterior) == (21.0, 27.0, 30.0)
