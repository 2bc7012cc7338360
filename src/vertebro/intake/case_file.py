"""Read a case file (JSON or YAML) into a validated :class:`~vertebro.clinical.facts.Case`.

Every problem is reported with the JSON path of the offending value, e.g.
``fractures[0].heights_mm.anterior: must be greater than 0 mm``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vertebro.clinical.facts import Case

_FIELD_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): (.+)$", re.DOTALL)


class CaseFileError(ValueError):
    """A case file that cannot be read or does not describe a valid case."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def _json_default(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    raise TypeError(f"cannot represent {value!r} in a case")


def parse_case(text: str, *, yaml_syntax: bool) -> Case:
    """Return the case described by ``text`` (JSON, or YAML when ``yaml_syntax``), strictly validated."""
    if yaml_syntax:
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CaseFileError([f"(file): not valid YAML: {exc}"]) from None
        try:
            text = json.dumps(data, default=_json_default)
        except TypeError as exc:
            raise CaseFileError([f"(file): {exc}"]) from None
    try:
        return Case.model_validate_json(text)
    except ValidationError as exc:
        problems = validation_problems(exc)
        if any(p.startswith("(case): Invalid JSON") for p in problems):
            raise CaseFileError([p.replace("(case): ", "(file): not valid JSON: ") for p in problems]) from None
        raise CaseFileError(problems) from None


def read_case(path: Path) -> Case:
    """Return the case in a ``.json``, ``.yaml`` or ``.yml`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError([f"(file): cannot read {path}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise CaseFileError([f"(file): {path} is not UTF-8 text"]) from None
    return parse_case(text, yaml_syntax=path.suffix.lower() in (".yaml", ".yml"))
