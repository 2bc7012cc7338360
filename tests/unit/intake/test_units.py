"""UCUM-style units converted with pint: equivalent units agree, an unknown unit names where it was found."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vertebro.intake.units import UnitError, convert

COUNTS = st.floats(min_value=0, max_value=2000, allow_nan=False)


@settings(deadline=None)  # the first call builds the unit registry
@given(COUNTS)
def test_platelets_per_microlitre_in_thousands_equal_per_litre_in_billions(value: float) -> None:
    for unit in ("10*3/uL", "10*9/L", "10*3/mm3", "/nL"):
        assert convert(value, unit, "10*9/L", where="x") == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert convert(value * 1000, "/uL", "10*9/L", where="x") == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_temperatures_and_times() -> None:
    assert convert(101.3, "[degF]", "Cel", where="x") == pytest.approx(38.5)
    assert convert(84, "d", "wk", where="x") == 12.0
    assert convert(1, "mL/s", "mL/min", where="x") == 60.0
    assert convert(1.2, None, "{INR}", where="x") == 1.2  # dimensionless: no unit needed


@pytest.mark.parametrize(("unit", "kind"), [("furlongs", "UndefinedUnitError"), ("mg", "DimensionalityError")])
def test_an_unknown_or_incompatible_unit_names_the_element_and_the_unit(unit: str, kind: str) -> None:
    with pytest.raises(UnitError, match=rf"^Observation/p\.valueQuantity\.code: unit '{unit}' cannot be read as"):
        convert(1, unit, "10*9/L", where="Observation/p.valueQuantity.code")


def test_a_quantity_without_a_unit_where_one_is_needed_is_an_error() -> None:
    with pytest.raises(UnitError, match="no unit"):
        convert(150, None, "10*9/L", where="Observation/p.valueQuantity.code")
