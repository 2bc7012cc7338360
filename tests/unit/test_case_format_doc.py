"""docs/case-format.md documents every field of the case schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vertebro.clinical import Case

DOC = Path(__file__).resolve().parents[2] / "docs" / "case-format.md"


def _leaf_names(schema: dict[str, Any], node: dict[str, Any], seen: set[str]) -> set[str]:
    names: set[str] = set()
    if "$ref" in node:
        return _leaf_names(schema, schema["$defs"][node["$ref"].split("/")[-1]], seen)
    for option in node.get("anyOf", []):
        names |= _leaf_names(schema, option, seen)
    if "items" in node:
        names |= _leaf_names(schema, node["items"], seen)
    for name, prop in node.get("properties", {}).items():
        names.add(name)
        names |= _leaf_names(schema, prop, seen)
    return names


def test_every_case_field_is_documented() -> None:
    schema = Case.model_json_schema()
    text = DOC.read_text(encoding="utf-8")
    undocumented = sorted(n for n in _leaf_names(schema, schema, set()) if f"`{n}" not in text and f".{n}`" not in text)
    assert not undocumented, f"fields missing from docs/case-format.md: {undocumented}"
