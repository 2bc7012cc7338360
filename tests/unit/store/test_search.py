"""``like_literal``: a LIKE pattern built from typed text matches exactly the texts that contain it."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from vertebro.store.search import LIKE_ESCAPE, like_literal

TEXT = st.text(alphabet="ab%_\\-", max_size=8)


@given(needle=TEXT, haystack=TEXT)
def test_an_escaped_pattern_matches_exactly_the_texts_containing_the_typed_text(needle: str, haystack: str) -> None:
    with sqlite3.connect(":memory:") as connection:
        connection.execute("PRAGMA case_sensitive_like = ON")
        pattern = f"%{like_literal(needle)}%"
        (matched,) = connection.execute("SELECT ? LIKE ? ESCAPE ?", (haystack, pattern, LIKE_ESCAPE)).fetchone()
    assert bool(matched) == (needle in haystack)
