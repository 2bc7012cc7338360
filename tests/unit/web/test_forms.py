"""Form parsing: whatever a browser sends, a field gives a typed value or an error naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.errors import InvalidFields, InvalidInput, Problems
from vertebro.web.forms import FormData


@given(st.text(max_size=8))
def test_any_typed_whole_number_is_a_value_in_range_or_a_named_problem(text: str) -> None:
    form = FormData({"levels": text}, {})
    fields: list[str | None] = []
    try:
        number = form.integer("levels", 1, 5)
    except InvalidInput as problem:
        fields.append(problem.field)
        number = None
    assert fields in ([], ["levels"])
    assert number is None or 1 <= number <= 5


@pytest.mark.parametrize("text", ["²", "--3", "3.0", "1e1", "٣", " - 2"])
def test_text_that_is_not_written_as_ascii_digits_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a whole number"):
        FormData({"levels": text}, {}).integer("levels", -5, 5)


@given(st.text(max_size=8))
def test_any_typed_number_is_a_value_in_range_or_a_named_problem(text: str) -> None:
    form = FormData({"volume": text}, {})
    fields: list[str | None] = []
    try:
        number = form.number("volume", 0, 10)
    except InvalidInput as problem:
        fields.append(problem.field)
        number = None
    assert fields in ([], ["volume"])
    assert number is None or 0 <= number <= 10


def test_problems_note_every_refused_field_once_and_raise_them_together() -> None:
    form = FormData({"inr": "high", "platelets": "150", "L1.approach": "sideways"}, {})
    problems = Problems()
    assert problems.check(form.number, "platelets", 0, 2000) == 150
    assert problems.check(form.number, "inr", 0.5, 15) is None
    assert problems.check(lambda: form.choice("L1.approach", ("unipedicular", "bipedicular"))) is None
    problems.add("inr", "a second problem of the same field is not listed")
    with pytest.raises(InvalidFields) as raised:
        problems.raise_any()
    assert raised.value.problems == {
        "inr": "'high' is not a number",
        "L1.approach": "choose one of: unipedicular, bipedicular",
    }
    assert raised.value.field == "inr"
