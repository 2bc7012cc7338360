"""Monitoring after the procedure: a typed observation set, its plausible ranges, and what stands in the way of
discharge (pure; decision 0018).

Discharge waits for the planned monitoring time of the recovery plan (recovery.monitoring_length), counted from
the recorded end of the procedure; it is refused while the last NEWS2 is in an escalation band (low-medium or
above, RCP 2017 [rcp-news2-2017]), after a neurological check recorded as changed, and when no neurological check
was done. A radiologist may discharge despite these with a written reason; the discharge criteria, the signed
record and the escort after sedation are never overridden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.clinical.news2 import Consciousness, News2, Risk, Vitals, news2


class NeuroCheck(StrEnum):
    """The lower-limb neurological check: an explicit choice, never an unticked box."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NOT_DONE = "not_done"


# Plausible ranges (inclusive): a value outside is a typing error, not a patient state we can score.
RANGES: dict[str, tuple[float, float]] = {
    "systolic": (50, 260),
    "diastolic": (20, 160),
    "heart_rate": (20, 220),
    "respiration_rate": (4, 60),
    "spo2": (50, 100),
    "temperature_c": (30.0, 43.0),
    "pain_nrs": (0, 10),
}
LABELS = {
    "systolic": "systolic blood pressure (mmHg)",
    "diastolic": "diastolic blood pressure (mmHg)",
    "heart_rate": "heart rate (per minute)",
    "respiration_rate": "respiration rate (per minute)",
    "spo2": "SpO2 (%)",
    "temperature_c": "temperature (°C)",
    "pain_nrs": "pain (0-10)",
}


@dataclass(frozen=True, slots=True)
class ObservationSet:
    """One set of observations while monitored."""

    systolic: int
    diastolic: int
    heart_rate: int
    respiration_rate: int
    spo2: int
    on_oxygen: bool
    temperature_c: float
    consciousness: Consciousness
    pain_nrs: int
    neuro: NeuroCheck
    spo2_scale_2: bool = False

    def problems(self) -> list[tuple[str, str]]:
        """Return (field, message) for every value outside its plausible range."""
        found = []
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                found.append((name, f"{LABELS[name]} {value:g} is outside {low:g}-{high:g}: check and type it again"))
        if self.diastolic >= self.systolic and not any(f in ("systolic", "diastolic") for f, _ in found):
            found.append(("diastolic", "the diastolic pressure must be below the systolic pressure"))
        return found

    def score(self) -> News2:
        """Return the NEWS2 of this set (monitoring.news2)."""
        return news2(
            Vitals(
                respiration_rate=self.respiration_rate,
                spo2=self.spo2,
                on_oxygen=self.on_oxygen,
                systolic=self.systolic,
                pulse=self.heart_rate,
                consciousness=self.consciousness,
                temperature_c=self.temperature_c,
                spo2_scale_2=self.spo2_scale_2,
            )
        )

    def stored(self) -> dict[str, Any]:
        """Return the set as stored (JSON), with its NEWS2 score, parts and band."""
        result = self.score()
        return {
            "systolic": self.systolic,
            "diastolic": self.diastolic,
            "heart_rate": self.heart_rate,
            "respiration_rate": self.respiration_rate,
            "spo2": self.spo2,
            "on_oxygen": self.on_oxygen,
            "spo2_scale_2": self.spo2_scale_2,
            "temperature_c": self.temperature_c,
            "consciousness": self.consciousness.value,
            "pain_nrs": self.pain_nrs,
            "neuro": self.neuro.value,
            "news2": result.score,
            "news2_parts": result.parts,
            "news2_risk": result.risk.value,
        }


def neuro_of(value: dict[str, Any]) -> NeuroCheck:
    """Return the neurological check of a stored set (sets before decision 0018 stored a box: not done if unticked)."""
    if "neuro" in value:
        return NeuroCheck(value["neuro"])
    return NeuroCheck.UNCHANGED if value.get("neuro_unchanged") else NeuroCheck.NOT_DONE


def risk_of_stored(value: dict[str, Any]) -> Risk | None:
    """Return the NEWS2 band of a stored set, or None for a set stored without one (before decision 0018)."""
    risk = value.get("news2_risk")
    return None if risk is None else Risk(risk)


@dataclass(frozen=True, slots=True)
class MonitoringStatus:
    """Where monitoring stands: the planned time, when it ends, and every concern that holds discharge back."""

    planned_minutes: int
    ends_at: dt.datetime | None
    concerns: tuple[str, ...]


def monitoring_status(
    *,
    now: dt.datetime,
    procedure_end: dt.datetime | None,
    planned_minutes: int,
    observations: list[dict[str, Any]],
    zone_name: str = DEFAULT_TIME_ZONE,
) -> MonitoringStatus:
    """Return what stands in the way of discharge, in time order of the stored ``observations`` (values)."""
    concerns: list[str] = []
    ends_at = None if procedure_end is None else procedure_end + dt.timedelta(minutes=planned_minutes)
    if ends_at is None:
        concerns.append("the end time of the procedure is not recorded, so monitoring has no start")
    elif now < ends_at:
        left = int((ends_at - now).total_seconds() // 60) + 1
        concerns.append(
            f"monitoring: the plan is {planned_minutes} minutes from the end of the procedure; "
            f"about {left} minutes remain (until {ends_at.astimezone(zone_of(zone_name)):%H:%M})"
        )
    if not observations:
        concerns.append("no observations have been recorded during monitoring")
    else:
        last = observations[-1]
        risk = risk_of_stored(last)
        if risk is None:
            concerns.append("the last observation set has no NEWS2 score: record a full set")
        elif risk.escalates:
            concerns.append(f"the last NEWS2 is {last['news2']} ({risk.value} risk): {risk.response}")
        checks = [neuro_of(v) for v in observations]
        if NeuroCheck.CHANGED in checks:
            concerns.append("a neurological check was recorded as changed: the radiologist must review the patient")
        elif NeuroCheck.UNCHANGED not in checks:
            concerns.append("no neurological check has been done since the procedure")
    return MonitoringStatus(planned_minutes, ends_at, tuple(concerns))
