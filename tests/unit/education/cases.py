"""Cases for the education tests: a typical vertebroplasty patient, changed only where a test needs it."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from tests.unit.clinical.builders import case_data
from vertebro.clinical import Assessment, Case, assess
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.education.handouts import DischargeSheet, PreparationHandout, discharge_sheet, preparation_handout

AS_OF = dt.date(2026, 11, 22)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

# The clinical tests' typical case (tests/unit/clinical/builders.py), changed to this suite's patient.
BASE: dict[str, Any] = case_data(
    {
        "patient": {"identifier": "EDU-0001", "name": "Rosa Example", "birth_date": "1950-05-17", "age": 76},
        "pain": {"trend": "worsening"},
        "conservative_care": {"weeks": 3},
        "sedation_planned": True,
    },
    fracture={"onset_weeks": 3, "imaging_date": "2026-11-15", "height_loss_percent": 22.0, "kyphotic_deformity": False},
)
WARFARIN_AND_ASPIRIN = [
    {"name": "warfarin", "purpose": "therapeutic", "thrombotic_risk": "low"},
    {"name": "aspirin", "purpose": "primary_prevention"},
    {"name": "alendronate"},
]


def make_case(**changes: Any) -> Case:
    """Return the base case with top-level fields replaced (``patient`` is merged)."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "patient":
            data["patient"].update(value)
        else:
            data[key] = value
    return Case.model_validate(data, strict=False)


def policy_in(zone: ZoneInfo | None) -> ClinicPolicy:
    """The default policy of a clinic in ``zone`` (the default zone when None)."""
    return DEFAULT_POLICY if zone is None else dataclasses.replace(DEFAULT_POLICY, time_zone=zone.key)


def assessed(case: Case, as_of: dt.date = AS_OF, zone: ZoneInfo | None = None) -> Assessment:
    """Return the case's assessment with the default policy of a clinic in ``zone``."""
    return assess(case, policy_in(zone), as_of)


def prep(case: Case, *, zone: ZoneInfo | None = None, as_of: dt.date = AS_OF) -> PreparationHandout:
    """Return the preparation handout of a case, for a clinic in ``zone``."""
    return preparation_handout(case, assessed(case, as_of, zone), policy_in(zone), produced_on=as_of)


def discharge(case: Case, *, zone: ZoneInfo | None = None, as_of: dt.date = AS_OF) -> DischargeSheet:
    """Return the discharge sheet of a case, for a clinic in ``zone``."""
    return discharge_sheet(case, assessed(case, as_of, zone), policy_in(zone), produced_on=as_of)
