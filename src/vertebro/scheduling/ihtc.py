"""The surgical case planning part of the IHTC-2024 benchmark, solved with vertebro's own model.

The Integrated Healthcare Timetabling Competition 2024 (https://ihtc2024.github.io) plans admissions,
operating theatres (OTs), ward rooms and nurses. Its *surgical* part maps onto the procedure scheduler:
an OT is a room open ``availability`` minutes a day, a surgeon is a radiologist who can operate for
``max_surgery_time`` minutes a day in any OT, a patient is a one-session case between its release day
and (mandatory patients) its due day. The costs of that part are the patient delay (days after release),
unscheduled optional patients, open OTs (an OT used on a day) and surgeon transfers (a surgeon in more
than one OT on a day). The first three are the model's objective; transfers are not modelled and are
reported. Ward rooms, nurses and their costs are left out, so the result is compared with the
surgical part of the best-known complete solutions, not with their total cost.

One difference in strictness: vertebro schedules each operation at a time of day, so a surgeon's
operations are sequential within their daily minutes, whereas IHTC only sums them per day.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

from vertebro.scheduling.plan import Plan, Reason
from vertebro.scheduling.problem import DAY, Demand, Problem, RecoveryArea, Resource, Window

START = dt.date(2024, 1, 1)
OPEN = 8 * 60
TERMS = ("patient_delay", "unscheduled_optional", "open_operating_theater")
UNITS = {"patient_delay": "patient-days", "unscheduled_optional": "patients", "open_operating_theater": "OT-days"}


@dataclass(frozen=True, slots=True)
class SurgicalCost:
    """The surgical part of an IHTC solution's cost, term by term (weighted)."""

    patient_delay: int
    unscheduled_optional: int
    open_operating_theater: int
    surgeon_transfer: int

    @property
    def total(self) -> int:
        """The weighted sum of the four surgical terms."""
        return self.patient_delay + self.unscheduled_optional + self.open_operating_theater + self.surgeon_transfer


def read_ihtc(path: Path) -> dict[str, Any]:
    """Return an IHTC instance or solution file as data."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _window(day: int, minutes: int) -> Window | None:
    return None if minutes <= 0 else Window(day * DAY + OPEN, day * DAY + OPEN + minutes, day * DAY + OPEN + minutes)


def ihtc_problem(data: dict[str, Any], name: str = "ihtc") -> Problem:
    """Return the surgical part of an IHTC instance as a scheduling problem."""
    days: int = data["days"]
    weights = data["weights"]
    minutes = [p["surgery_duration"] for p in data["patients"]]
    minutes += [m for t in data["operating_theaters"] for m in t["availability"] if m]
    minutes += [m for s in data["surgeons"] for m in s["max_surgery_time"] if m]
    granularity = reduce(math.gcd, minutes, 0)
    rooms = tuple(
        Resource(t["id"], tuple(_window(d, m) for d, m in enumerate(t["availability"])), (), kind="ot")
        for t in data["operating_theaters"]
    )
    surgeons = tuple(
        Resource(s["id"], tuple(_window(d, m) for d, m in enumerate(s["max_surgery_time"])), (), None)
        for s in data["surgeons"]
    )
    everyone = len(data["patients"])
    recovery = RecoveryArea(
        tuple(Window(d * DAY, (d + 1) * DAY, (d + 1) * DAY) for d in range(days)), (everyone,) * days, ()
    )
    sessions = []
    for patient in data["patients"]:
        release = patient["surgery_release_day"]
        due = patient.get("surgery_due_day", days - 1) if patient["mandatory"] else days - 1
        surgeon = next(s for s in surgeons if s.id == patient["surgeon_id"])
        possible = tuple(
            d
            for d in range(release, min(due, days - 1) + 1)
            if (w := surgeon.windows[d]) is not None
            and w.close - w.open >= patient["surgery_duration"]
            and any(
                (rw := r.windows[d]) is not None and rw.close - rw.open >= patient["surgery_duration"] for r in rooms
            )
        )
        delay = (*(max(0, d - release) for d in range(days)), 0)
        unscheduled = (*(0,) * days, 0 if patient["mandatory"] else 1)
        sessions.append(
            Demand(
                case=patient["id"],
                index=0,
                levels=(),
                referred=START + dt.timedelta(days=release),
                minutes=patient["surgery_duration"],
                monitoring=0,
                sedation=False,
                rooms=tuple(r.id for r in rooms),
                days=possible,
                earliest=0,
                previous=None,
                gap_days=1,
                mandatory=patient["mandatory"],
                booked=None,
                excluded=None if possible else (Reason.NO_COMPATIBLE_RESOURCE, "no day with the surgeon and an OT"),
                quantities={"patient_delay": delay, "unscheduled_optional": unscheduled},
                radiologists=frozenset({surgeon.id}),
            )
        )
    coefficients = {
        "patient_delay": weights["patient_delay"],
        "unscheduled_optional": weights["unscheduled_optional"],
        "open_operating_theater": weights["open_operating_theater"],
    }
    return Problem(
        name=name,
        start=START,
        days=days,
        granularity=granularity,
        now=0,
        rooms=rooms,
        radiologists=surgeons,
        nurses=(),
        recovery=recovery,
        sessions=tuple(sessions),
        terms=TERMS,
        units=UNITS,
        weights={k: float(v) for k, v in coefficients.items()},
        coefficients={k: 100 * v for k, v in coefficients.items()},
        room_day_term="open_operating_theater",
    )


def surgical_cost(data: dict[str, Any], admissions: dict[str, tuple[int, str] | None]) -> SurgicalCost:
    """Return the surgical cost of admissions (patient -> (day, OT) or None), by IHTC's definitions."""
    weights = data["weights"]
    delay = unscheduled = 0
    used: set[tuple[str, int]] = set()
    surgeon_rooms: dict[tuple[str, int], set[str]] = defaultdict(set)
    for patient in data["patients"]:
        placed = admissions.get(patient["id"])
        if placed is None:
            unscheduled += 0 if patient["mandatory"] else 1
            continue
        day, room = placed
        delay += day - patient["surgery_release_day"]
        used.add((room, day))
        surgeon_rooms[patient["surgeon_id"], day].add(room)
    transfers = sum(len(rooms) - 1 for rooms in surgeon_rooms.values())
    return SurgicalCost(
        patient_delay=weights["patient_delay"] * delay,
        unscheduled_optional=weights["unscheduled_optional"] * unscheduled,
        open_operating_theater=weights["open_operating_theater"] * len(used),
        surgeon_transfer=weights["surgeon_transfer"] * transfers,
    )


def solution_admissions(solution: dict[str, Any]) -> dict[str, tuple[int, str] | None]:
    """Return the admissions of an IHTC solution file: patient -> (day, OT), or None when not admitted."""
    result: dict[str, tuple[int, str] | None] = {}
    for p in solution["patients"]:
        day = p["admission_day"]
        result[p["id"]] = None if day == "none" else (int(day), p["operating_theater"])
    return result


def plan_admissions(plan: Plan) -> dict[str, tuple[int, str] | None]:
    """Return the admissions of a plan of an IHTC problem."""
    result: dict[str, tuple[int, str] | None] = {u.case: None for u in plan.unscheduled}
    for s in plan.sessions:
        result[s.case] = ((s.date - START).days, s.room)
    return result
