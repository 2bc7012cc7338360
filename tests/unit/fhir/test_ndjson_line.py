"""Bulk export lines: orjson where it writes what the standard library writes, the standard library elsewhere."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from vertebro.fhir.bulk import ndjson_line

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-05, -1e-05, 9.99e-05, 1e-09, 1e-10, 1e16, 1e22, 0.0, -0.0, 12.5, 5e-324])
    | st.text()
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)


def _standard(resource: Any) -> bytes:
    return (json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=6))
def test_a_line_is_what_json_dumps_writes(resource: dict[str, Any]) -> None:
    assert ndjson_line(resource) == _standard(resource)


def test_values_orjson_writes_differently_are_written_by_the_standard_library() -> None:
    for value in (1e-05, 1e-06, 1e-09, math.nan, math.inf, -math.inf, 2**64, 10**30):
        resource = {"resourceType": "Observation", "valueQuantity": {"value": value, "unit": "mL"}}
        assert ndjson_line(resource) == _standard(resource)


def test_non_ascii_text_and_control_characters_match() -> None:
    resource = {"resourceType": "Patient", "name": [{"text": 'Zoë Ångström \u2028\x7f\x1f\b\f\t"\\/'}]}
    assert ndjson_line(resource) == _standard(resource)
