"""Cases for the education tests: a typical vertebroplasty patient, changed only where a test needs it."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from vertebro.clinical import Assessment, Case, assess
from vertebro.clinical.policy import DEFAULT_POLICY
from vertebro.education.handouts import DischargeSheet, PreparationHandout, discharge_sheet, preparation_handout

AS_OF = dt.date(2026, 11, 22)
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")

BASE: dict[str, Any] = {
    "patient": {
        "identifier": "EDU-0001",
        "name": "Rosa Example",
        "birth_date": "1950-05-17",
        "age": 76,
        "sex": "female",
    },
    "fractures": [
        {
            "level": "L1",
            "cause": "osteoporotic",
            "onset_weeks": 3,
            "mri_edema": True,
            "imaging_date": "2026-11-15",
            "height_loss_percent": 22.0,
            "kyphotic_deformity": False,
            "height_loss_progressing": False,
            "retropulsion": False,
            "canal_compromise": False,
            "posterior_wall_intact": True,
            "unstable": False,
        }
    ],
    "pain": {"nrs": 8, "trend": "worsening", "concordant_with_fracture": True},
    "function": {"rdq": 19, "odi_percent": 56.0},
    "conservative_care": {"weeks": 3, "optimal": True},
    "red_flags": {"active_infection": False, "fever": False, "cancer_history": False},
    "neurological_deficit": False,
    "pulmonary_dysfunction": False,
    "labs": {"inr": 1.0, "platelets": 220.0},
    "coagulopathy_uncorrectable": False,
    "allergies": [],
    "medications": [],
    "sedation_planned": True,
    "procedure_date": "2026-12-14",
    "bone_health": {"bmd_referral_documented": True},
}
WARFARIN_AND_ASPIRIN = [
    {"name": "warfarin", "purpose": "therapeutic"},
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


def assessed(case: Case, as_of: dt.date = AS_OF) -> Assessment:
    """Return the case's assessment with the default policy."""
    return assess(case, DEFAULT_POLICY, as_of)


def prep(case: Case, *, zone: ZoneInfo | None = None, as_of: dt.date = AS_OF) -> PreparationHandout:
    """Return the preparation handout of a case."""
    return preparation_handout(case, assessed(case, as_of), DEFAULT_POLICY, produced_on=as_of, zone=zone)


def discharge(case: Case, *, zone: ZoneInfo | None = None, as_of: dt.date = AS_OF) -> DischargeSheet:
    """Return the discharge sheet of a case."""
    return discharge_sheet(case, assessed(case, as_of), DEFAULT_POLICY, produced_on=as_of, zone=zone)
