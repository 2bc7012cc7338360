"""Record ids from outside: positive integers up to 2**53 - 1, or nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vertebro.ids import MAX_RECORD_ID, record_id


@given(st.integers(min_value=1, max_value=MAX_RECORD_ID))
def test_every_id_in_range_is_read_back(value: int) -> None:
    assert record_id(str(value)) == value


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_RECORD_ID + 1)))
def test_no_number_outside_the_range_names_a_record(value: int) -> None:
    assert record_id(str(value)) is None


def test_numbers_past_64_bits_name_nothing() -> None:
    """The probe that gave a 500: an id above 2**63 reached the database driver."""
    assert record_id(str(2**63)) is None
    assert record_id("99999999999999999999999999999999") is None


@given(st.text())
def test_only_ascii_digits_are_ids(text: str) -> None:
    """Other scripts' digits (``int("٣")`` is 3), signs, spaces and letters are not ids."""
    if not (text.isascii() and text.isdigit()):
        assert record_id(text) is None


def test_other_scripts_digits_are_not_ids() -> None:
    assert record_id("٣") is None
    assert record_id("+3") is None
    assert record_id(" 3") is None
