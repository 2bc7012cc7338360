"""Convert a FHIR Quantity to the unit a case fact is kept in, with ``pint`` (UCUM-style unit codes).

UCUM codes such as ``10*3/uL``, ``10*9/L``, ``mL/min``, ``Cel`` or ``[degF]`` are rewritten into pint's syntax
(``10*3`` is the factor 1e3; ``{...}`` annotations are dimensionless) and converted by pint's kept unit
definitions, not by a hand table: 150 ``10*3/uL`` is 150 ``10*9/L``. A unit pint does not know, or one of
another dimension, is an error naming the resource, the element and the unit.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pint

_FACTOR = re.compile(r"10\*(-?\d+)")
_POWER = re.compile(r"([A-Za-z])(-?\d+)")
_ANNOTATION = re.compile(r"\{[^}]*\}")
_TEMPERATURES = {"Cel": "degC", "[degF]": "degF", "K": "kelvin"}


class UnitError(ValueError):
    """A quantity's unit is unknown or cannot be converted to the unit of the fact."""


@cache
def _registry() -> pint.UnitRegistry[float]:
    import pint  # half a second to import: only when a unit needs converting

    return pint.UnitRegistry()


_TIME = {"d": "day", "a": "year", "mo": "month", "wk": "week", "h": "hour"}  # UCUM time units pint spells otherwise


def _expression(unit: str) -> str:
    unit = _TIME.get(unit.strip(), unit)
    text = _ANNOTATION.sub("1", unit.strip()) or "1"
    text = _POWER.sub(r"\1**\2", text)  # UCUM mm3 is mm**3
    text = _FACTOR.sub(lambda m: f"1e{m.group(1)}", text).replace("[IU]", "IU")
    if text.startswith("/"):
        text = "1" + text
    return text.replace(".", "*") if not re.search(r"\d\.\d", text) else text


def convert(value: float, unit: str | None, target: str, *, where: str) -> float:
    """Return ``value`` given in ``unit`` (UCUM code) expressed in ``target``; ``where`` names the element.

    A missing unit is taken as the target unit only for dimensionless targets (scores, INR); otherwise a
    missing or unknown unit raises :class:`UnitError`.
    """
    if unit is None or unit == "":
        if _ANNOTATION.sub("", target) in ("", "1"):
            return value
        raise UnitError(f"{where}: no unit; expected a unit convertible to {target!r}")
    if unit == target:
        return value
    registry = _registry()
    from pint.errors import PintError

    try:
        if unit in _TEMPERATURES or target in _TEMPERATURES:
            quantity = registry.Quantity(value, _TEMPERATURES.get(unit, unit))
            return round(float(quantity.to(_TEMPERATURES.get(target, target)).magnitude), 9)
        given = value * registry.parse_expression(_expression(unit))
        wanted = registry.parse_expression(_expression(target))
        return round(float((given / wanted).to("dimensionless").magnitude), 9)
    except (PintError, AttributeError, TypeError, ValueError, SyntaxError) as error:
        raise UnitError(f"{where}: unit {unit!r} cannot be read as {target!r} ({type(error).__name__})") from None
