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
PROFILE_TITLES: dict[str, str] = {
    acr.PROFILE_ID: acr.TITLE,
    nice_ta279.PROFILE_ID: nice_ta279.TITLE,
    medicare_lcd.PROFILE_ID: medicare_lcd.TITLE,
    nass_auc.PROFILE_ID: nass_auc.TITLE,
    asra_2018.PROFILE_ID: asra_2018.TITLE,
}
# the short names staff screens show beside a verdict (the title is the full name)
PROFILE_NAMES: dict[str, str] = {
    acr.PROFILE_ID: "ACR",
    nice_ta279.PROFILE_ID: "NICE TA279",
    medicare_lcd.PROFILE_ID: "Medicare LCD",
    nass_auc.PROFILE_ID: "NASS AUC",
    asra_2018.PROFILE_ID: "ASRA 2018",
}

__all__ = ["INDICATION_PROFILES", "PROFILES", "PROFILE_NAMES", "PROFILE_TITLES", "Context", "Evaluator"]
