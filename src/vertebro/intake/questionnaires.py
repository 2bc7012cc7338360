"""Function questionnaires (Oswestry Disability Index, Roland-Morris) whose item texts a clinic loads from a file.

The item texts of both instruments are copyrighted and are not shipped (docs/decisions/0009): the ODI is
licensed through Mapi Research Trust, the RMDQ's terms are set by its authors. vertebro ships the
structure (10 ODI sections of six statements scored 0-5; 24 RDQ statements ticked or not) and the scoring
(:func:`vertebro.clinical.outcomes.odi_percent`, :func:`~vertebro.clinical.outcomes.rdq_score`). A clinic
holding a licence puts ``odi.yaml`` and/or ``rdq.yaml`` in the folder named by ``VERTEBRO_QUESTIONNAIRE_DIR``::

    instrument: odi            # or rdq
    version: "2.1a"
    licence: "Licensed to Example Hospital by Mapi Research Trust, agreement 1234 (2026-2029)"
    items:
      - id: odi-1
        title: "Pain intensity"          # ODI sections only
        text: "..."                      # the section's question (ODI) or the statement (RDQ)
        options: ["...", "...", "...", "...", "...", "..."]   # ODI only: six statements, scored 0-5

A file that breaks these rules is refused with the item and the problem named; without a file the
portal does not offer that instrument and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vertebro.clinical.outcomes import ODI_SECTIONS, RDQ_ITEMS
from vertebro.clinical.validation import validation_problems

Instrument = Literal["odi", "rdq"]
Text = Annotated[str, Field(min_length=1, max_length=500)]
DEMO_DIR = Path(__file__).resolve().with_name("demo_questionnaires")


class QuestionnaireFileError(ValueError):
    """A licensed item file that cannot be used; the message names the file, the item and the problem."""


class Item(BaseModel):
    """One ODI section (a question with six statements) or one RDQ statement."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^(odi|rdq)-[0-9]{1,2}$")]
    title: Text | None = None
    text: Text
    options: list[Text] = Field(default_factory=list)


class LicensedItems(BaseModel):
    """The item texts of one instrument as a clinic loads them, with the licence they are used under."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    instrument: Instrument
    version: Annotated[str, Field(min_length=1, max_length=40)]
    licence: Annotated[str, Field(min_length=10, max_length=500)]
    demo: bool = False
    items: list[Item]

    @model_validator(mode="after")
    def _shape(self) -> LicensedItems:
        expected = ODI_SECTIONS if self.instrument == "odi" else RDQ_ITEMS
        if len(self.items) != expected:
            raise ValueError(
                f"items: the {self.instrument.upper()} has {expected} items, the file has {len(self.items)}"
            )
        for number, item in enumerate(self.items, start=1):
            if item.id != f"{self.instrument}-{number}":
                raise ValueError(f"items[{number - 1}].id: expected {self.instrument}-{number}, found {item.id}")
            if self.instrument == "odi" and len(item.options) != 6:
                raise ValueError(f"items[{number - 1}].options: an ODI section has 6 statements scored 0-5")
            if self.instrument == "rdq" and item.options:
                raise ValueError(f"items[{number - 1}].options: an RDQ statement is ticked or not; remove the options")
        return self


@dataclass(frozen=True, slots=True)
class FunctionQuestionnaires:
    """The instruments this clinic can offer (None: no licensed text loaded)."""

    odi: LicensedItems | None
    rdq: LicensedItems | None

    @property
    def any(self) -> bool:
        """True when at least one instrument can be offered."""
        return self.odi is not None or self.rdq is not None


def read_items(path: Path) -> LicensedItems:
    """Return the licensed items in a YAML file; raise :class:`QuestionnaireFileError` naming each problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise QuestionnaireFileError(f"{path.name}: cannot be read as YAML: {error}") from error
    try:
        return LicensedItems.model_validate(data)
    except ValidationError as error:
        raise QuestionnaireFileError(f"{path.name}: " + "; ".join(validation_problems(error))) from error


def load_questionnaires(folder: Path | None) -> FunctionQuestionnaires:
    """Return the instruments whose item files (``odi.yaml``, ``rdq.yaml``) are in ``folder``."""
    if folder is None:
        return FunctionQuestionnaires(None, None)
    found: dict[str, LicensedItems | None] = {}
    for instrument in ("odi", "rdq"):
        path = folder / f"{instrument}.yaml"
        items = read_items(path) if path.is_file() else None
        if items is not None and items.instrument != instrument:
            raise QuestionnaireFileError(f"{path.name}: declares instrument {items.instrument}")
        found[instrument] = items
    return FunctionQuestionnaires(found["odi"], found["rdq"])
