"""Code data files: local CodeSystems (``codesystems.json``) and standard code maps (``maps.json``).

Every code vertebro emits comes from these files; nothing is hard-coded in the mapping modules.
A code's ``verification`` is ``confirmed``, ``unverified`` (to be checked against the official
browser before release) or ``local`` (vertebro's own CodeSystem, published at ``/fhir/CodeSystem/{id}``).
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

Coding = dict[str, str]


@cache
def maps() -> dict[str, Any]:
    """Return the standard code maps (``maps.json``)."""
    data: dict[str, Any] = json.loads(files(__name__).joinpath("maps.json").read_text(encoding="utf-8"))
    return data


@cache
def code_systems() -> dict[str, dict[str, Any]]:
    """Return vertebro's local CodeSystem resources by id."""
    systems: list[dict[str, Any]] = json.loads(files(__name__).joinpath("codesystems.json").read_text(encoding="utf-8"))
    return {system["id"]: system for system in systems}


@cache
def system(key: str) -> str:
    """Return the URI of a code system by its short key in ``maps.json`` (e.g. ``loinc``)."""
    uri: str = maps()["systems"][key]
    return uri


@cache
def _local_displays() -> dict[tuple[str, str], str]:
    return {
        (cs["url"], concept["code"]): concept["display"] for cs in code_systems().values() for concept in cs["concept"]
    }


def local(key: str, code: str) -> Coding:
    """Return the Coding of ``code`` in the local CodeSystem ``key`` (e.g. ``local(\"level\", \"L1\")``).

    Raises KeyError when the code is not in the CodeSystem, so an unknown local code cannot be emitted.
    A new dict each call (the lookups are cached: bulk export builds hundreds of thousands of these).
    """
    return dict(_local(key, code))


@cache
def _local(key: str, code: str) -> Coding:
    uri = system(key)
    return {"system": uri, "code": code, "display": _local_displays()[(uri, code)]}


def coding(reference: str) -> Coding:
    """Return the Coding for a reference in ``maps.json``: ``"local|age"`` or ``"observation.nrs"`` (a new dict)."""
    return dict(_coding(reference))


@cache
def _coding(reference: str) -> Coding:
    if "|" in reference:
        key, code = reference.split("|", 1)
        return _local(key, code)
    group, name = reference.split(".", 1)
    entry = maps()[group][name]
    return {"system": system(entry["system"]), "code": entry["code"], "display": entry["display"]}


def codings(entries: list[dict[str, str]]) -> list[Coding]:
    """Return Codings for a list of ``{system, code, display}`` entries of ``maps.json``."""
    return [{"system": system(e["system"]), "code": e["code"], "display": e["display"]} for e in entries]


def verification(system_uri: str, code: str) -> str:
    """Return ``confirmed``, ``unverified`` or ``local`` for a code vertebro emits (``unknown`` otherwise)."""
    if (system_uri, code) in _local_displays():
        return "local"
    for entry in _standard_entries():
        if system(entry["system"]) == system_uri and entry["code"] == code:
            return str(entry["verification"])
    return "unknown"


def _standard_entries() -> list[dict[str, str]]:
    data = maps()
    entries = [e for group in ("fracture_cause", "procedure") for items in data[group].values() for e in items]
    entries.extend(data["observation"].values())
    return entries


def code_table() -> list[dict[str, str]]:
    """Return every standard code in the maps with its verification status (for docs and tests)."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for entry in _standard_entries():
        seen[(entry["system"], entry["code"])] = {
            "system": system(entry["system"]),
            "code": entry["code"],
            "display": entry["display"],
            "verification": entry["verification"],
        }
    return list(seen.values())
