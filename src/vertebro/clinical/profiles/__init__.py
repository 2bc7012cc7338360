"""Guideline profiles: each evaluates a case on its own terms; vertebro never merges them."""

from __future__ import annotations

from collections.abc import Callable

from vertebro.clinical.profiles import (
    acr,
    asra_2018,
    medicare_lcd,
    nass_auc,
    nice_ta279,
)
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.verdicts import ProfileVerdict

Evaluator = Callable[[Context], ProfileVerdict]

PROFILES: dict[str, Evaluator] = {
    acr.PROFILE_ID: acr.evaluate,
    nice_ta279.PROFILE_ID: nice_ta279.evaluate,
    medicare_lcd.PROFILE_ID: medicare_lcd.evaluate,
    nass_auc.PROFILE_ID: nass_auc.evaluate,
    asra_2018.PROFILE_ID: asra_2018.evaluate,
}
INDICATION_PROFILES = (
    acr.PROFILE_ID,
    nice_ta279.PROFILE_ID,
    medicare_lcd.PROFILE_ID,
    nass_auc.PROFILE_ID,
)

__all__ = ["INDICATION_PROFILES", "PROFILES", "Context", "Evaluator"]
