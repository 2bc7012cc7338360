"""The JSON depth check that runs before any parser sees a body."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from vertebro.web.errors.limits import nesting_exceeds


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=100))
def test_depth_is_exceeded_exactly_past_the_limit(depth: int, limit: int) -> None:
    assert nesting_exceeds(json.dumps(_nested(depth)).encode(), limit) == (depth > limit)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=30,
)


@given(JSON_VALUES, st.integers(min_value=1, max_value=12))
def test_any_json_is_measured_as_the_parser_nests_it(value: Any, limit: int) -> None:
    """Brackets inside strings (escaped quotes included) do not count; only the structure does."""
    assert nesting_exceeds(json.dumps(value).encode(), limit) == (_depth(value) > limit)


def test_brackets_in_strings_do_not_count() -> None:
    body = json.dumps({"note": "[" * 10_000 + '\\"[[[' + "{" * 500}).encode()
    assert not nesting_exceeds(body, 4)


def test_an_unclosed_flood_of_brackets_is_too_deep() -> None:
    """The probe that gave a 500: 100,000 ``[`` sent to the CDS Hooks endpoint (a RecursionError in the parser)."""
    assert nesting_exceeds(b"[" * 100_000, 64)
    assert nesting_exceeds(b"[" * 100_000 + b"]" * 100_000, 64)
