"""Form parsing: whatever a browser sends, a field gives a typed value or an error naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.errors import InvalidInput
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
