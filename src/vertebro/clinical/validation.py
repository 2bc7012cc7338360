"""Validation messages: one line per problem, naming the JSON path of the offending value."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)

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


def validation_problems(
    error: ValidationError, *, root: str = "(case)", schema_hint: str = "see `vertebro schema case`"
) -> list[str]:
    """Return one line per validation error: the JSON path, then the problem in plain words.

    A validator may report several problems at once, one per line, each starting with the field it names.
    """
    problems = []
    for e in error.errors(include_url=False):
        if e["type"] == "json_invalid":  # the text is not JSON at all: a problem of the file, not of a field
            problems.append(f"(file): not valid JSON: {e['msg']}")
            continue
        base = json_path(tuple(e["loc"]))
        for message in str(e["msg"]).removeprefix("Value error, ").split("\n"):
            path = base
            match = _FIELD_PREFIX.match(message)
            if match:
                field, message = match.groups()
                path = f"{base}.{field}" if base else field
            if e["type"] == "missing":
                message = "this field is required"
            elif e["type"] == "extra_forbidden":
                message = f"unknown field (check the spelling; {schema_hint})"
            elif isinstance(e.get("input"), (bool, int, float, str)) and not match:
                message = f"{message} (got {json.dumps(e['input'])})"
            problems.append(f"{path or root}: {message}")
    return problems
