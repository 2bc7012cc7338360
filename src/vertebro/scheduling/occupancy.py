"""What is already booked, and the first slot a session fits in: the booking clerk's view of a plan.

The first-come-first-served planner books with it, and the explanations use it to say which resource
(room, radiologist, sedation nurse, recovery bay) was full on each day an unscheduled session could
have gone on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import IntEnum

from vertebro.scheduling.problem import DAY, Demand, Problem, Resource, start_range


@dataclass(frozen=True, slots=True)
class Slot:
    """Where and when one session goes: day, start minute (from the horizon start), room and staff."""

    day: int
    start: int
    room: str
    radiologist: str
    nurse: str | None


class Blocker(IntEnum):
    """The first resource that was full when a session was tried on a day (higher: got further)."""

    ROOM = 0
    RADIOLOGIST = 1
    NURSE = 2
    RECOVERY = 3


BLOCKER_NAMES = {
    Blocker.ROOM: "rooms full",
    Blocker.RADIOLOGIST: "no radiologist free",
    Blocker.NURSE: "no sedation nurse free",
    Blocker.RECOVERY: "recovery bays full",
}


def _overlaps(busy: list[tuple[int, int]] | tuple[tuple[int, int], ...], a: int, b: int) -> bool:
    return any(s < b and a < e for s, e in busy)


class Occupancy:
    """Booked intervals per resource and day, and monitoring intervals per day."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self._busy: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
        self._monitoring: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._radiologists = {r.id: r for r in problem.radiologists}
        self._nurses = {n.id: n for n in problem.nurses}
        self._failed: dict[tuple[object, ...], Blocker] = {}

    def add(self, demand: Demand, slot: Slot) -> None:
        """Record a booked session."""
        end = slot.start + demand.minutes
        self._busy["room", slot.room, slot.day].append((slot.start, end))
        self._busy["radiologist", slot.radiologist, slot.day].append((slot.start, end))
        if slot.nurse is not None:
            self._busy["nurse", slot.nurse, slot.day].append((slot.start, end))
        self._monitoring[slot.day].append((end, end + demand.monitoring))

    def _free(self, kind: str, resource: Resource, day: int, a: int, b: int) -> bool:
        return not _overlaps(self._busy[kind, resource.id, day], a, b) and not _overlaps(resource.blocked, a, b)

    def _bay_free(self, day: int, a: int, b: int) -> bool:
        recovery = self.problem.recovery
        if _overlaps(recovery.blocked, a, b):
            return False
        intervals = self._monitoring[day]
        points = [a] + [s for s, _ in intervals if a < s < b]
        return all(sum(1 for s, e in intervals if s <= p < e) < recovery.bays[day] for p in points)

    def accepts(self, demand: Demand, slot: Slot, *, overtime: bool = True) -> bool:
        """Return True when ``slot`` is free for ``demand`` in every resource and within every window."""
        day, start, end = slot.day, slot.start, slot.start + demand.minutes
        room = self.problem.room(slot.room)
        rad = self._radiologists[slot.radiologist]
        nurse = None if slot.nurse is None else self._nurses[slot.nurse]
        window, rw, recovery = room.windows[day], rad.windows[day], self.problem.recovery.windows[day]
        nw = None if nurse is None else nurse.windows[day]
        if window is None or rw is None or recovery is None or (nurse is not None and nw is None):
            return False
        if (nurse is None) == demand.sedation or room.id not in demand.rooms or not rad.can_work_in(room.id):
            return False
        if not demand.may_work(rad.id):
            return False
        lo, hi = start_range(window, rw, nw, recovery, demand.minutes, demand.monitoring)
        return (
            max(lo, demand.earliest) <= start <= hi
            and (overtime or end <= window.close)
            and self._free("room", room, day, start, end)
            and self._free("radiologist", rad, day, start, end)
            and (nurse is None or self._free("nurse", nurse, day, start, end))
            and self._bay_free(day, end, end + demand.monitoring)
        )

    def fit(self, demand: Demand, day: int, *, overtime: bool, not_before: int = 0) -> Slot | Blocker:
        """Return the earliest slot on ``day`` (rooms in order, then staff in order), or what blocked it."""
        problem = self.problem
        g = problem.granularity
        recovery = problem.recovery.windows[day]
        deepest = Blocker.ROOM
        if recovery is None:
            return deepest
        earliest = max(demand.earliest, not_before, day * DAY)
        earliest += -earliest % g
        # Bookings only ever grow, so a session shape that did not fit on a day never will.
        key = (demand.rooms, demand.minutes, demand.monitoring, demand.sedation, day, earliest, overtime)
        if key in self._failed:
            return self._failed[key]
        rooms = [problem.room(room_id) for room_id in demand.rooms]
        windows = [w for w in (room.windows[day] for room in rooms) if w is not None]
        if not windows:
            return deepest
        nurses = list(self._nurses.values()) if demand.sedation else [None]
        for start in range(max(earliest, min(w.open for w in windows)), max(w.close for w in windows), g):
            end = start + demand.minutes
            for room in rooms:
                window = room.windows[day]
                if window is None or start < window.open or start >= window.close:
                    continue
                if end > (window.limit if overtime else window.close):
                    continue
                if not self._free("room", room, day, start, end):
                    continue
                deepest = max(deepest, Blocker.RADIOLOGIST)
                for rad in self._radiologists.values():
                    rw = rad.windows[day]
                    if rw is None or not rad.can_work_in(room.id) or not demand.may_work(rad.id):
                        continue
                    if not (rw.open <= start and end <= rw.close and self._free("radiologist", rad, day, start, end)):
                        continue
                    deepest = max(deepest, Blocker.NURSE)
                    for nurse in nurses:
                        nw = None if nurse is None else nurse.windows[day]
                        if nurse is not None and (
                            nw is None
                            or not (nw.open <= start and end <= nw.close)
                            or not self._free("nurse", nurse, day, start, end)
                        ):
                            continue
                        deepest = max(deepest, Blocker.RECOVERY)
                        lo, hi = start_range(window, rw, nw, recovery, demand.minutes, demand.monitoring)
                        if lo <= start <= hi and self._bay_free(day, end, end + demand.monitoring):
                            return Slot(day, start, room.id, rad.id, None if nurse is None else nurse.id)
        self._failed[key] = deepest
        return deepest
