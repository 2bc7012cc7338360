"""Read a case file (JSON or YAML) into a validated :class:`~vertebro.clinical.facts.Case`.

Every problem is reported with the JSON path of the offending value, e.g.
``fractures[0].heights_mm.anterior: must be greater than 0 mm``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from vertebro.clinical.facts import Case
from vertebro.clinical.validation import validation_problems


class CaseFileError(ValueError):
    """A case file that cannot be read or does not describe a valid case."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
        raise CaseFileError(validation_problems(exc)) from None


def read_case(path: Path) -> Case:
    """Return the case in a ``.json``, ``.yaml`` or ``.yml`` file, or in a FHIR Bundle (``resourceType: Bundle``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError([f"(file): cannot read {path}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise CaseFileError([f"(file): {path} is not UTF-8 text"]) from None
    if '"Bundle"' in text:
        from vertebro.intake.fhir_bundle import case_from_bundle, is_bundle  # here: that module imports this one

        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if is_bundle(data):
            return case_from_bundle(data)
    return parse_case(text, yaml_syntax=path.suffix.lower() in (".yaml", ".yml"))
