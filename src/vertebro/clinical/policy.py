"""A clinic's policy: the configurable choices the clinical rules take as parameters.

Defaults follow the sources cited where each value is used; a clinic changes them in its settings
(``vertebro.config``), never in the rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from vertebro.clinical.clinic import Clinic

ProfileId = Literal["acr", "nice-ta279", "medicare-lcd", "nass-auc", "asra-2018"]
IndicationProfileId = Literal["acr", "nice-ta279", "medicare-lcd", "nass-auc"]
DoacProtocol = Literal["asra", "pause"]


@dataclass(frozen=True, slots=True)
class ClinicPolicy:
    """Configurable thresholds and timings; every field has a sourced or documented default."""

    default_profile: IndicationProfileId = "acr"
    doac_protocol: DoacProtocol = "asra"
    procedure_start: dt.time = dt.time(8, 0)
    setup_minutes: int = 30
    minutes_per_level: int = 60
    arrival_minutes_early: int = 15
    companion_hours: int = 12
    imaging_max_age_days: int = 180
    treatable_levels: tuple[str, str] = ("T1", "L5")
    mild_pain_max_nrs: int = 4
    secondary_cause_age_below: int = 50
    max_levels_per_session: int = 3
    monitoring_base_minutes: int = 120
    monitoring_per_extra_level_minutes: int = 30
    monitoring_sedation_extra_minutes: int = 60
    monitoring_max_minutes: int = 300
    inr_max: float = 1.5
    platelets_min: float = 50.0
    nice_severe_pain_nrs: int = 7
    pregnancy_screen_min_age: int = 12
    pregnancy_screen_max_age: int = 50
    odi_max_missing_sections: int = 2
    room_temperature_c: float = 21.0
    time_zone: str = "Europe/London"  # IANA name; every clinical time is wall-clock time in this zone (clock.py)
    # who patients call and where they come; on every message and document (decision 0026)
    clinic: Clinic = field(default_factory=Clinic)
    no_driving_days: int = 2  # recovery.driving: days without driving after the procedure, sedated or not
    # recovery.observation_schedule (decision 0034): checks every 15 min for the first hour, then every 30 min
    # until the planned monitoring time ends; a check is overdue 5 minutes after it was due (local policy).
    observation_early_every_minutes: int = 15
    observation_early_for_minutes: int = 60
    observation_later_every_minutes: int = 30
    observation_grace_minutes: int = 5
    # cement.working_time_warning (decision 0034): warn this long before the working phase ends (local policy)
    cement_warning_minutes: float = 1.0


DEFAULT_POLICY = ClinicPolicy()
