"""The safety facts as staff enter them: each an explicit Yes / No / Not recorded, never an unticked box.

Used by the new-referral form and by the chart's safety-facts form, so both read the same fields the same
way. The allergy and medication lists are *not reviewed* (absent), *reviewed: none* (``[]``) or the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vertebro.errors import InvalidInput
from vertebro.web.forms import FormData

YES_NO_FACTS: tuple[tuple[str, str, str], ...] = (
    # (form field, case path, label shown to staff)
    ("pregnant", "patient.pregnant", "Pregnant"),
    ("hospitalized", "patient.hospitalized", "In hospital now (inpatient)"),
    ("fever", "red_flags.fever", "Fever"),
    ("active_infection", "red_flags.active_infection", "Active infection (local or systemic)"),
    ("cancer_history", "red_flags.cancer_history", "Cancer, now or in the past"),
    ("neurological_deficit", "neurological_deficit", "Neurological deficit"),
    ("coagulopathy_uncorrectable", "coagulopathy_uncorrectable", "Coagulopathy that cannot be corrected"),
)
LIST_STATUSES = ("", "none", "listed")
"""Not reviewed, reviewed: none, the list."""

_SEPARATORS = re.compile(r"[,;\n]")


def _names(form: FormData, field: str) -> list[str]:
    text = form.text(field, 1000) or ""
    names = [n.strip() for n in _SEPARATORS.split(text) if n.strip()]
    for name in names:
        if len(name) > 100:
            raise InvalidInput("each name at most 100 characters", field=field)
    return names


def _reviewed_list(
    form: FormData,
    status_field: str,
    add_field: str,
    current: list[Any] | None,
    item: Callable[[str], Any],
    what: str,
) -> list[Any] | None:
    status = form.choice(status_field, LIST_STATUSES) if form.raw.get(status_field) else ""
    added = [item(name) for name in _names(form, add_field)]
    if status == "":
        if added:
            raise InvalidInput(f"choose 'as listed' to record {what}", field=status_field)
        return None
    if status == "none":
        if added:
            raise InvalidInput(f"'none' was chosen but {what} were written: choose one", field=status_field)
        return []
    listed = [*(current or []), *added]
    if not listed:
        raise InvalidInput(f"write the {what}, or choose 'none'", field=add_field)
    return listed


def safety_patch(form: FormData, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the JSON-mode patch of the safety facts on the form (``current``: the case's facts as stored).

    Every yes/no fact is written as chosen, "not recorded" included; the lists keep what was recorded and
    add the names typed (rule general.safety_facts_recorded).
    """
    patch: dict[str, Any] = {}
    for field, path, _ in YES_NO_FACTS:
        value = form.tristate(field)
        if "." in path:
            group, name = path.split(".")
            patch.setdefault(group, {})[name] = value
        else:
            patch[path] = value
    facts = current or {}
    patch["allergies"] = _reviewed_list(
        form, "allergy_status", "allergies_add", facts.get("allergies"), lambda name: name, "allergies"
    )
    patch["medications"] = _reviewed_list(
        form, "medication_status", "medications_add", facts.get("medications"), lambda name: {"name": name}, "medicines"
    )
    return patch
