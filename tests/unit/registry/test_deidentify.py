"""De-identification helpers: keyed pseudonyms and date shifts, ages over 89 grouped, small cells."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.registry.deidentify import (
    MAX_SHIFT_DAYS,
    age_group,
    date_offset_days,
    pseudonym,
    salt_bytes,
    small_cell,
)

SALT = salt_bytes("unit-test-salt-0123456789")


@given(st.integers(min_value=1, max_value=10**12))
def test_date_shift_is_bounded_never_zero_and_stable(patient_id: int) -> None:
    offset = date_offset_days(SALT, patient_id)
    assert offset != 0
    assert -MAX_SHIFT_DAYS <= offset <= MAX_SHIFT_DAYS
    assert date_offset_days(SALT, patient_id) == offset


def test_date_shifts_spread_over_the_range() -> None:
    offsets = {date_offset_days(SALT, i) for i in range(1, 5000)}
    assert min(offsets) == -MAX_SHIFT_DAYS
    assert max(offsets) == MAX_SHIFT_DAYS
    assert len(offsets) == 2 * MAX_SHIFT_DAYS  # every value but 0 is used


@given(st.integers(min_value=1, max_value=10**9))
def test_pseudonyms_depend_on_the_salt_and_the_kind(key: int) -> None:
    other = salt_bytes("another-salt-9876543210")
    assert pseudonym(SALT, "patient", key) == pseudonym(SALT, "patient", key)
    assert pseudonym(SALT, "patient", key) != pseudonym(other, "patient", key)
    assert pseudonym(SALT, "patient", key)[1:] != pseudonym(SALT, "case", key)[1:]  # kinds do not link


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (dt.date(1936, 3, 1), dt.date(2026, 2, 28), "89"),
        (dt.date(1936, 3, 1), dt.date(2026, 3, 1), "90+"),
        (dt.date(1920, 1, 1), dt.date(2026, 1, 1), "90+"),
        (dt.date(1950, 7, 4), dt.date(2026, 7, 3), "75"),
        (None, dt.date(2026, 1, 1), ""),
    ],
)
def test_age_group(birth: dt.date | None, on: dt.date, expected: str) -> None:
    assert age_group(birth, on) == expected


def test_small_cells() -> None:
    assert [small_cell(n) for n in (0, 1, 4, 5, 120)] == ["0", "<5", "<5", "5", "120"]


def test_short_salt_is_refused() -> None:
    with pytest.raises(ValueError, match="salt: use at least 16"):
        salt_bytes("too-short")
