"""Generated scheduling instances: a realistic referral stream meeting a vertebroplasty service's resources.

Cases come from :mod:`vertebro.synthetic` (the house generator of whole cases), are assessed by the
clinical core, and only the ones it recommends for vertebroplasty or kyphoplasty are kept: their target
levels, fracture ages, sedation and inpatient status come from the case, and the medication holds from
the clinical core's hold table (ASRA 2018). On top of that, the generator draws what the case files do
not hold: referral dates (a waiting list at the start and arrivals over the horizon), work-up (labs,
repeat imaging), patient availability, latest useful dates and the share that needs a CT room.

The service: 2-4 procedure rooms (from 3 rooms on, one is a CT room lent for mornings), one more
interventional radiologist than rooms with part-time patterns and leave, sedation nurses, and a recovery
area whose bays are the bottleneck when ``tight``. A bank holiday and a half-day room closure fall in the
horizon. Same seed, same instance.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from typing import Any

from vertebro.clinical import ClinicPolicy, assess
from vertebro.clinical.facts import Case
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.recommendation import AUGMENTATION
from vertebro.scheduling.instance import Instance, parse_instance
from vertebro.synthetic import case_data

DEFAULT_START = dt.date(2027, 1, 4)  # a Monday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BACKLOG_SHARE = 0.35
CT_ONLY_SHARE = 0.12
STAGED_SHARE = 0.04
SPINE = tuple(f"T{i}" for i in range(6, 13)) + tuple(f"L{i}" for i in range(1, 6))


def _hours(open_: str, close: str, days: tuple[str, ...] = WEEKDAYS) -> dict[str, dict[str, str]]:
    return {day: {"open": open_, "close": close} for day in days}


def _closure(date: dt.date, start: str, end: str, reason: str) -> dict[str, str]:
    return {"start": f"{date}T{start}", "end": f"{date}T{end}", "reason": reason}


def _weekday(rng: random.Random, start: dt.date, days: int) -> dt.date:
    while True:
        date = start + dt.timedelta(days=rng.randrange(days))
        if date.weekday() < 5:
            return date


def _resources(rng: random.Random, start: dt.date, days: int, rooms: int, tight: bool) -> dict[str, Any]:
    room_list: list[dict[str, Any]] = []
    for i in range(rooms):
        ct = rooms >= 3 and i == rooms - 1
        room_list.append(
            {
                "id": "ct-1" if ct else f"fluoro-{i + 1}",
                "kind": "ct" if ct else "fluoroscopy",
                "hours": _hours("08:00", "13:00") if ct else _hours("08:00", "17:00"),
                "max_overtime_minutes": 0 if ct else 60,
            }
        )
    maintenance = _weekday(rng, start, days)
    room_list[0]["closed"] = [_closure(maintenance, "13:00", "17:00", "C-arm maintenance")]
    fluoro = [r["id"] for r in room_list if r["kind"] == "fluoroscopy"]
    every = [r["id"] for r in room_list]
    radiologists: list[dict[str, Any]] = []
    for i in range(rooms + 1):
        part_time = i == rooms  # the last one works Monday to Wednesday
        radiologists.append(
            {
                "id": f"ir-{i + 1}",
                "rooms": every if i in (0, rooms - 1) else fluoro,
                "hours": _hours("08:00", "18:00", WEEKDAYS[:3] if part_time else WEEKDAYS),
            }
        )
    leave = start + dt.timedelta(days=7 * rng.randrange(max(1, days // 7)))
    radiologists[1]["absent"] = [
        {"start": f"{leave}T00:00", "end": f"{leave + dt.timedelta(days=5)}T00:00", "reason": "annual leave"}
    ]
    nurse_count = math.ceil(rooms / 2) if tight else rooms
    nurses = [{"id": f"sn-{i + 1}", "hours": _hours("08:00", "17:30")} for i in range(nurse_count)]
    bays = rooms if tight else 2 * rooms
    short = _weekday(rng, start, days)
    recovery = {"bays": bays, "hours": _hours("08:00", "20:00"), "bays_on": {str(short): max(1, bays - 1)}}
    return {"rooms": room_list, "radiologists": radiologists, "nurses": nurses, "recovery": recovery}


def _eligible(rng: random.Random, referred: dt.date, policy: ClinicPolicy) -> tuple[Case, Any] | None:
    data = case_data(rng, referred)
    data.pop("procedure_date", None)
    case = Case.model_validate_json(json.dumps(data))
    result = assess(case, policy, referred)
    if result.recommendation.treatment not in AUGMENTATION or not result.recommendation.levels:
        return None
    return case, result


def _case(rng: random.Random, number: int, referred: dt.date, start: dt.date, days: int, ct: bool) -> dict[str, Any]:
    policy = ClinicPolicy()
    while (found := _eligible(rng, referred, policy)) is None:
        pass
    case, result = found
    onsets = {f.level: f.onset_weeks for f in case.fractures}
    levels = []
    for level in result.recommendation.levels:
        weeks = onsets.get(level)
        if weeks is None:
            weeks = rng.uniform(1, 26)
        levels.append({"level": level, "onset": str(referred - dt.timedelta(days=round(weeks * 7)))})
    if rng.random() < STAGED_SHARE:  # a fracture cascade: more levels than one session may treat
        taken = {item["level"] for item in levels}
        extra = [level for level in SPINE if level not in taken][: rng.randint(2, 4)]
        onset = min(item["onset"] for item in levels)
        levels += [{"level": level, "onset": onset} for level in extra]
    not_before: list[dict[str, str]] = []
    call = referred + dt.timedelta(days=rng.randint(1, 5))  # the pre-procedure call starts the holds
    for hold in result.preparation.medication_holds:
        if hold.action is HoldAction.HOLD and hold.stop_days_before:
            date = call + dt.timedelta(days=hold.stop_days_before + 1)
            not_before.append(
                {"date": str(date), "kind": "hold", "reason": f"{hold.drug}: {hold.stop_days_before} drug-free days"}
            )
    if rng.random() < 0.02:
        date = start + dt.timedelta(days=days + rng.randint(1, 14))
        not_before.append({"date": str(date), "kind": "hold", "reason": "antiplatelet cannot stop: recent stent"})
    if rng.random() < 0.3:
        date = referred + dt.timedelta(days=rng.randint(2, 5))
        not_before.append({"date": str(date), "kind": "labs", "reason": "INR and platelets"})
    if rng.random() < 0.2:
        date = referred + dt.timedelta(days=rng.randint(5, 15))
        not_before.append({"date": str(date), "kind": "imaging", "reason": "MRI (STIR) booked"})
    if rng.random() < 0.05:
        date = referred + dt.timedelta(days=rng.randint(7, 21))
        not_before.append({"date": str(date), "kind": "patient", "reason": "away until then"})
    unavailable = []
    if rng.random() < 0.1:
        first = start + dt.timedelta(days=rng.randrange(days))
        unavailable = [str(first + dt.timedelta(days=d)) for d in range(rng.randint(2, 6))]
    entry: dict[str, Any] = {
        "id": f"c{number:04d}",
        "referred": str(referred),
        "inpatient": case.patient.hospitalized is True,
        "levels": levels,
        "sedation": case.sedation_planned if case.sedation_planned is not None else rng.random() < 0.5,
        "not_before": not_before,
        "unavailable": unavailable,
    }
    if ct and rng.random() < CT_ONLY_SHARE:
        entry["room_kinds"] = ["ct"]
    if rng.random() < 0.1:
        entry["latest"] = str(referred + dt.timedelta(days=rng.randint(28, 56)))
    return entry


def instance_data(
    cases: int, *, weeks: int = 4, rooms: int = 3, seed: int = 1, tight: bool = False, start: dt.date = DEFAULT_START
) -> dict[str, Any]:
    """Return a generated instance as JSON-compatible data (the documented instance format)."""
    if not 1 <= rooms <= 8:
        raise ValueError("rooms must be 1-8")
    rng = random.Random(seed)
    days = 7 * weeks
    data: dict[str, Any] = {
        "name": f"generated-{cases}c-{weeks}w-{rooms}r-s{seed}{'-tight' if tight else ''}",
        "start": str(start),
        "days": days,
        "holidays": [str(_weekday(rng, start + dt.timedelta(days=7), min(7, max(1, days - 7))))] if weeks > 1 else [],
    }
    data |= _resources(rng, start, days, rooms, tight)
    referrals = []
    for _ in range(cases):
        if rng.random() < BACKLOG_SHARE:
            referrals.append(start - dt.timedelta(days=rng.randint(1, 42)))
        else:
            referrals.append(start + dt.timedelta(days=rng.randrange(max(1, days - 3))))
    referrals.sort()
    data["cases"] = [_case(rng, i + 1, r, start, days, rooms >= 3) for i, r in enumerate(referrals)]
    return data


def generated_instance(
    cases: int, *, weeks: int = 4, rooms: int = 3, seed: int = 1, tight: bool = False, start: dt.date = DEFAULT_START
) -> Instance:
    """Return a generated instance, validated like any instance file."""
    data = instance_data(cases, weeks=weeks, rooms=rooms, seed=seed, tight=tight, start=start)
    return parse_instance(json.dumps(data))
