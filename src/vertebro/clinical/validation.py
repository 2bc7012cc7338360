"""Validation messages: one line per problem, naming the JSON path of the offending value."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): (.+)$", re.DOTALL)

__all__ = ["json_path", "validation_problems"]


def json_path(loc: tuple[int | str, ...]) -> str:
    """Return a JSON path such as ``fractures[0].level`` for a pydantic error location."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def validation_problems(error: ValidationError) -> list[str]:
    """Return one line per validation error: the JSON path, then the problem in plain words."""
    problems = []
    for e in error.errors(include_url=False):
        path = json_path(tuple(e["loc"]))
        message = str(e["msg"]).removeprefix("Value error, ")
        match = _FIELD_PREFIX.match(message)
        if match:
            field, message = match.groups()
            path = f"{path}.{field}" if path else field
        if e["type"] == "missing":
            message = "this field is required"
        elif e["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see `vertebro schema case`)"
        elif isinstance(e.get("input"), (bool, int, float, str)) and not match:
            message = f"{message} (got {json.dumps(e['input'])})"
        problems.append(f"{path or '(case)'}: {message}")
    return problems
