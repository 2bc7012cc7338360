"""docs/scheduling.md documents every field of the instance format and every objective term."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vertebro.scheduling.instance import Instance
from vertebro.scheduling.objective import TERMS
from vertebro.scheduling.plan import Plan, Reason

DOC = Path(__file__).resolve().parents[3] / "docs" / "scheduling.md"


def _names(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    if "$ref" in node:
        return _names(schema, schema["$defs"][node["$ref"].split("/")[-1]])
    for option in node.get("anyOf", []):
        names |= _names(schema, option)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            names |= _names(schema, node[key])
    for name, prop in node.get("properties", {}).items():
        names.add(name)
        names |= _names(schema, prop)
    return names


def test_every_instance_and_plan_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in (Instance, Plan):
        schema = model.model_json_schema()
        missing = sorted(n for n in _names(schema, schema) if f"`{n}`" not in text and f".{n}`" not in text)
        assert not missing, f"{model.__name__} fields missing from docs/scheduling.md: {missing}"


def test_every_term_and_reason_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [t for t in TERMS if f"`{t}`" not in text] == []
    assert [r.value for r in Reason if f"`{r.value}`" not in text] == []
