"""Worklist attribute matching (DICOM PS3.4 C.2.2.2): wildcards, date ranges, person names, accession numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vertebro.dicom import matching

DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
TEXT = st.text(alphabet=st.characters(min_codepoint=0x41, max_codepoint=0x7A, exclude_characters="*?\\^"), max_size=12)


@given(st.integers(min_value=1, max_value=9_999_999_999))
def test_an_accession_number_names_its_booking_and_fits_sh(booking_id: int) -> None:
    accession = matching.accession_number(booking_id)
    assert len(accession) <= 16
    assert matching.booking_id_of(accession) == booking_id


@pytest.mark.parametrize("foreign", ["", "ACC123", "VB", "VBxyz", "XX0000000001", "VB-0001"])
def test_an_accession_number_that_is_not_ours_names_no_booking(foreign: str) -> None:
    assert matching.booking_id_of(foreign) is None


@given(DATES, DATES, DATES)
def test_a_date_range_matches_exactly_the_days_between_its_bounds(a: dt.date, b: dt.date, day: dt.date) -> None:
    low, high = min(a, b), max(a, b)
    bounds = matching.date_range(f"{low:%Y%m%d}-{high:%Y%m%d}")
    assert matching.matches_date(bounds, day) == (low <= day <= high)
    assert matching.matches_date(matching.date_range(f"{low:%Y%m%d}-"), day) == (day >= low)
    assert matching.matches_date(matching.date_range(f"-{high:%Y%m%d}"), day) == (day <= high)
    assert matching.matches_date(matching.date_range(f"{day:%Y%m%d}"), day)
    assert matching.matches_date(matching.date_range(""), day)


@pytest.mark.parametrize("bad", ["2026-12", "20261301", "tomorrow", "20261201-2026"])
def test_an_unreadable_date_key_is_an_error_not_a_match_all(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        matching.date_range(bad)


@given(TEXT)
def test_a_value_matches_itself_a_star_and_an_empty_key(value: str) -> None:
    assert matching.matches_text(value, value)
    assert matching.matches_text("*", value)
    assert matching.matches_text("", value)
    assert matching.matches_text(value[:1] + "*", value) or not value


@given(TEXT.filter(bool))
def test_question_mark_stands_for_exactly_one_character(value: str) -> None:
    assert matching.matches_text("?" * len(value), value)
    assert not matching.matches_text("?" * (len(value) + 1), value)


def test_person_names_match_case_folded_with_wildcards_and_a_bare_family_name() -> None:
    assert matching.person_name("Ada King Lovelace") == "Lovelace^Ada King"
    assert matching.person_name("Cher") == "Cher"
    assert matching.person_name(None) == ""
    assert matching.matches_name("lovelace^ada*", "Lovelace^Ada King")
    assert matching.matches_name("LOVE*", "Lovelace^Ada")
    assert matching.matches_name("Lovelace", "Lovelace^Ada")
    assert not matching.matches_name("Love", "Lovelace^Ada")
    assert not matching.matches_name("Hopper*", "Lovelace^Ada")


def test_time_ranges_and_room_station_titles() -> None:
    bounds = matching.time_range("0800-1200")
    assert matching.matches_time(bounds, dt.time(9, 0))
    assert not matching.matches_time(bounds, dt.time(12, 0, 1))
    assert matching.station_ae_title("Room 1") == "ROOM1"
    assert len(matching.station_ae_title("A very long procedure room name")) == 16
