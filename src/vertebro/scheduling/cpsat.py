"""The CP-SAT models of the procedure schedule: the one place where the schedule is modelled.

*Detailed model* (:func:`detailed_model`): time is counted in units of the instance's granularity (15
minutes by default) from 00:00 on the first day. Per session: a presence literal, one literal per
possible day (``x``), a time of day and an absolute start linked to them, one literal per compatible room,
radiologist and (when sedated) sedation nurse, each with an optional interval. Rooms, radiologists and
nurses are no-overlap resources whose blocked periods are fixed intervals; the recovery bays are a
cumulative resource fed by a monitoring interval that starts when the procedure ends. Windows that differ
by weekday are enforced per group of days with the same hours. Staged sessions are ordered at least a
staging gap apart. Redundant per-day capacity constraints help the linear relaxation. Its objective is
the sum of the per-day cost tables of :mod:`vertebro.scheduling.problem`, overtime minutes and moves of
booked sessions, in hundredths of a point, exactly as :mod:`vertebro.scheduling.placement` scores any
plan. Used over the whole horizon, one day, or a window of days (:func:`sub_problem`).

*Master* (:class:`MasterModel`): the same sessions assigned to days and rooms under aggregated
capacities, a relaxation whose bound is a lower bound on every plan. :mod:`vertebro.scheduling.solver`
combines the two.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from ortools.linear_solver import pywraplp  # type: ignore[import-untyped]
from ortools.sat.python import cp_model

from vertebro.scheduling.knapsack import bin_cuts
from vertebro.scheduling.occupancy import Slot
from vertebro.scheduling.placement import overtime_of
from vertebro.scheduling.plan import Reason
from vertebro.scheduling.problem import DAY, Demand, Problem, Resource, Window, start_range

Var = Any  # ortools variables and literals are untyped
UNBOUNDED = 2**62  # CP-SAT writes an open side of a linear constraint as (nearly) the 64-bit limit


@dataclass(slots=True)
class _SessionVars:
    present: Var
    days: dict[int, Var]
    tod: Var
    start: Var
    overtime: Var | int
    rooms: dict[str, Var] = field(default_factory=dict)
    radiologists: dict[str, Var] = field(default_factory=dict)
    nurses: dict[str, Var] = field(default_factory=dict)
    keep: Var | None = None
    groups: dict[frozenset[int], Var] = field(default_factory=dict)


def _offsets(window: Window, day: int, g: int) -> tuple[int, int, int]:
    base = day * DAY
    return (window.open - base) // g, (window.close - base) // g, (window.limit - base) // g


class _Builder:
    """Builds the model for one problem; ``diagnose`` turns fixed bookings and mandatory cases into assumptions."""

    def __init__(self, problem: Problem, *, diagnose: bool = False) -> None:
        self.problem = problem
        self.g = problem.granularity
        self.units_per_day = DAY // self.g
        self.model = cp_model.CpModel()
        self.vars: dict[int, _SessionVars] = {}
        self.assumptions: list[tuple[Var, str]] = []
        self.diagnose = diagnose
        self.room_intervals: dict[str, list[Var]] = defaultdict(list)
        self.rad_intervals: dict[str, list[Var]] = defaultdict(list)
        self.nurse_intervals: dict[str, list[Var]] = defaultdict(list)
        self.monitoring: list[Var] = []
        self.objective: list[Any] = []
        self.constant = 0
        self._build()

    # -- helpers ---------------------------------------------------------------------------------
    def _group(self, v: _SessionVars, days: Iterable[int]) -> Var:
        key = frozenset(days)
        if key not in v.groups:
            y = self.model.new_bool_var("")
            self.model.add(y == sum(v.days[d] for d in key))
            v.groups[key] = y
        return v.groups[key]

    def _by_offsets(
        self, v: _SessionVars, windows: Mapping[int, tuple[int, ...]]
    ) -> list[tuple[tuple[int, ...], list[Var]]]:
        """Group allowed days by identical window offsets; return (offsets, extra enforcement literals)."""
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for day, offsets in windows.items():
            groups[offsets].append(day)
        if len(groups) == 1:
            return [(next(iter(groups)), [])]
        return [(offsets, [self._group(v, days)]) for offsets, days in groups.items()]

    def _fixed(self, spans: Iterable[tuple[int, int]]) -> list[Var]:
        g = self.g
        return [self.model.new_fixed_size_interval_var(a // g, (b - a) // g, "") for a, b in spans]

    def _enforcer(self, description: str) -> list[Var]:
        """A literal enforcing a fixed booking or a mandatory case: an assumption when diagnosing."""
        if not self.diagnose:
            return []
        lit = self.model.new_bool_var("")
        self.assumptions.append((lit, description))
        return [lit]

    # -- the model -------------------------------------------------------------------------------
    def _build(self) -> None:
        problem = self.problem
        for index, demand in enumerate(problem.sessions):
            if demand.excluded is None:
                self._session(index, demand)
        self._resources()
        self._capacity_cuts()
        if problem.room_day_term is not None:
            self._room_days()
        if not self.diagnose:
            self.model.minimize(cp_model.LinearExpr.sum(self.objective) + self.constant)
        else:
            self.model.add_assumptions([lit for lit, _ in self.assumptions])

    def _session(self, index: int, demand: Demand) -> None:
        m, g, upd, problem = self.model, self.g, self.units_per_day, self.problem
        dur, mon = demand.minutes // g, demand.monitoring // g
        present = m.new_bool_var(f"p{index}")
        x = {day: m.new_bool_var("") for day in demand.days}
        m.add(sum(x.values()) == present)
        frozen = demand.booked is not None and demand.booked.frozen
        earliest = 0 if frozen else -(-demand.earliest // g)
        domain = cp_model.Domain.from_intervals(
            [[max(day * upd, earliest), day * upd + upd - 1] for day in demand.days if day * upd + upd - 1 >= earliest]
            or [[0, 0]]
        )
        start = m.new_int_var_from_domain(domain, "")
        tod = m.new_int_var(0, upd - 1, "")
        m.add(start == upd * sum(day * lit for day, lit in x.items()) + tod).only_enforce_if(present)
        max_overtime = max(
            (
                (w.limit - w.close) // g
                for r in problem.rooms
                for w in r.windows
                if w is not None and r.id in demand.rooms
            ),
            default=0,
        )
        overtime: Var | int = m.new_int_var(0, max_overtime, "") if max_overtime else 0
        v = _SessionVars(present, x, tod, start, overtime)
        self.vars[index] = v
        self._rooms(index, demand, v, dur)
        self._staff(index, demand, v, dur)
        # recovery: monitoring starts when the procedure ends, inside the recovery area's hours
        rec_windows = {}
        for day in demand.days:
            rw = problem.recovery.windows[day]
            if rw is None:
                m.add(x[day] == 0)
            else:
                rec_windows[day] = _offsets(rw, day, g)[:2]
        for (open_, close), extra in self._by_offsets(v, rec_windows):
            m.add(tod + dur >= open_).only_enforce_if([present, *extra])
            m.add(tod + dur + mon <= close).only_enforce_if([present, *extra])
        self.monitoring.append(m.new_optional_fixed_size_interval_var(start + dur, mon, present, ""))
        # staging: a later session needs the previous one, at least gap_days later
        if demand.previous is not None and demand.previous in self.vars:
            prev = self.vars[demand.previous]
            m.add(present <= prev.present)
            m.add(
                sum(d * lit for d, lit in x.items()) >= sum(d * lit for d, lit in prev.days.items()) + demand.gap_days
            ).only_enforce_if(present)
        self._objective(demand, v)
        self._bookings(index, demand, v)

    def _room_day_ok(self, demand: Demand, room: Resource, day: int) -> bool:
        problem = self.problem
        rw, rec = room.windows[day], problem.recovery.windows[day]
        if rw is None or rec is None:
            return False
        nurses = [n.windows[day] for n in problem.nurses] if demand.sedation else [None]
        for rad in problem.radiologists:
            dw = rad.windows[day]
            if dw is None or not rad.can_work_in(room.id):
                continue
            for nw in nurses:
                if demand.sedation and nw is None:
                    continue
                lo, hi = start_range(rw, dw, nw, rec, demand.minutes, demand.monitoring)
                if max(lo, demand.earliest) <= hi or (demand.booked is not None and demand.booked.frozen):
                    return True
        return False

    def _rooms(self, index: int, demand: Demand, v: _SessionVars, dur: int) -> None:
        m, g = self.model, self.g
        for room_id in demand.rooms:
            room = self.problem.room(room_id)
            allowed = {day: _offsets(w, day, g) for day in demand.days if (w := room.windows[day]) is not None}
            allowed = {day: o for day, o in allowed.items() if self._room_day_ok(demand, room, day)}
            if not allowed:
                continue
            r = m.new_bool_var("")
            v.rooms[room_id] = r
            for day, lit in v.days.items():
                if day not in allowed:
                    m.add_implication(lit, r.Not())
            for (open_, close, limit), extra in self._by_offsets(v, allowed):
                lits = [r, *extra]
                m.add(v.tod >= open_).only_enforce_if(lits)
                m.add(v.tod <= close - 1).only_enforce_if(lits)
                m.add(v.tod + dur <= limit).only_enforce_if(lits)
                if limit > close:
                    m.add(v.overtime >= v.tod + dur - close).only_enforce_if(lits)
            self.room_intervals[room_id].append(m.new_optional_fixed_size_interval_var(v.start, dur, r, ""))
        m.add(sum(v.rooms.values()) == v.present)

    def _staff(self, index: int, demand: Demand, v: _SessionVars, dur: int) -> None:
        m, g = self.model, self.g
        groups: list[tuple[tuple[Resource, ...], dict[str, Var], dict[str, list[Var]]]] = [
            (self.problem.radiologists, v.radiologists, self.rad_intervals)
        ]
        if demand.sedation:
            groups.append((self.problem.nurses, v.nurses, self.nurse_intervals))
        for staff, chosen, intervals in groups:
            for person in staff:
                if staff is self.problem.radiologists and not demand.may_work(person.id):
                    continue
                rooms = [r for room_id, r in v.rooms.items() if person.can_work_in(room_id)]
                if not rooms:
                    continue
                allowed = {
                    day: _offsets(w, day, g)[:2]
                    for day in demand.days
                    if (w := person.windows[day]) is not None and w.close - w.open >= demand.minutes
                }
                if not allowed:
                    continue
                a = m.new_bool_var("")
                chosen[person.id] = a
                for day, lit in v.days.items():
                    if day not in allowed:
                        m.add_implication(lit, a.Not())
                for room_id, r in v.rooms.items():
                    if not person.can_work_in(room_id):
                        m.add_implication(a, r.Not())
                for (open_, close), extra in self._by_offsets(v, allowed):
                    m.add(v.tod >= open_).only_enforce_if([a, *extra])
                    m.add(v.tod + dur <= close).only_enforce_if([a, *extra])
                intervals[person.id].append(m.new_optional_fixed_size_interval_var(v.start, dur, a, ""))
            m.add(sum(chosen.values()) == v.present)

    def _objective(self, demand: Demand, v: _SessionVars) -> None:
        problem, coef = self.problem, self.problem.coefficients
        absent = sum(coef[t] * demand.quantity(t, None, problem.days) for t in demand.quantities)
        self.constant += absent
        self.objective.append(-absent * v.present)
        for day, lit in v.days.items():
            cost = sum(coef[t] * demand.quantity(t, day, problem.days) for t in demand.quantities)
            if cost:
                self.objective.append(cost * lit)
        if "overtime" in coef and not isinstance(v.overtime, int):
            self.objective.append(coef["overtime"] * self.g * v.overtime)

    def _bookings(self, index: int, demand: Demand, v: _SessionVars) -> None:
        m, g, booked = self.model, self.g, demand.booked
        if demand.mandatory:
            m.add(v.present == 1).only_enforce_if(self._enforcer(f"case {demand.case} is mandatory (urgent)"))
        if booked is None:
            return
        if booked.frozen:
            when = self.problem.moment(booked.start)
            lits = self._enforcer(
                f"case {demand.case} session {demand.index} started before the planning moment "
                f"({when:%Y-%m-%d %H:%M}, {booked.room}, {booked.radiologist}) and cannot move"
            )
            m.add(v.present == 1).only_enforce_if(lits)
            m.add(v.start == booked.start // g).only_enforce_if(lits)
            for chosen, wanted in (
                (v.rooms, booked.room),
                (v.radiologists, booked.radiologist),
                (v.nurses, booked.nurse),
            ):
                if wanted is None:
                    continue
                if wanted in chosen:
                    m.add(chosen[wanted] == 1).only_enforce_if(lits)
                else:
                    m.add_bool_or([lit.Not() for lit in lits])
            return
        cost = self.problem.coefficients[booked.move_term]
        self.constant += cost
        if booked.day in v.days:
            keep = m.new_bool_var("")
            v.keep = keep
            m.add_implication(keep, v.days[booked.day])
            m.add(v.start == booked.start // g).only_enforce_if(keep)
            self.objective.append(-cost * keep)

    def _resources(self) -> None:
        m, problem = self.model, self.problem
        for staff, intervals in (
            (problem.rooms, self.room_intervals),
            (problem.radiologists, self.rad_intervals),
            (problem.nurses, self.nurse_intervals),
        ):
            for resource in staff:
                if intervals[resource.id]:
                    m.add_no_overlap(intervals[resource.id] + self._fixed(resource.blocked))
        recovery = problem.recovery
        capacity = max(recovery.bays)
        fixed, demands = [], []
        upd = self.units_per_day
        for day, bays in enumerate(recovery.bays):
            if bays < capacity:
                fixed.append(m.new_fixed_size_interval_var(day * upd, upd, ""))
                demands.append(capacity - bays)
        for iv in self._fixed(recovery.blocked):
            fixed.append(iv)
            demands.append(capacity)
        if self.monitoring:
            m.add_cumulative(self.monitoring + fixed, [1] * len(self.monitoring) + demands, capacity)

    def _capacity_cuts(self) -> None:
        """Redundant per-day capacity: procedure time per room set, monitoring time, staff time."""
        m, g, problem = self.model, self.g, self.problem
        room_sets = {problem.sessions[i].rooms for i in self.vars}
        for day in range(problem.days):
            on_day = [(i, v.days[day]) for i, v in self.vars.items() if day in v.days]
            if not on_day:
                continue
            for room_set in room_sets:
                cap = sum(
                    (w.limit - w.open) // g
                    for r in problem.rooms
                    if r.id in room_set and (w := r.windows[day]) is not None
                )
                terms = [
                    problem.sessions[i].minutes // g * lit
                    for i, lit in on_day
                    if set(problem.sessions[i].rooms) <= set(room_set)
                ]
                if terms:
                    m.add(sum(terms) <= cap)
            rec = problem.recovery.windows[day]
            if rec is not None:
                m.add(
                    sum(problem.sessions[i].monitoring // g * lit for i, lit in on_day)
                    <= problem.recovery.bays[day] * ((rec.close - rec.open) // g)
                )
            rad_cap = sum((w.close - w.open) // g for r in problem.radiologists if (w := r.windows[day]) is not None)
            m.add(sum(problem.sessions[i].minutes // g * lit for i, lit in on_day) <= rad_cap)
            sedated = [problem.sessions[i].minutes // g * lit for i, lit in on_day if problem.sessions[i].sedation]
            if sedated:
                nurse_cap = sum((w.close - w.open) // g for n in problem.nurses if (w := n.windows[day]) is not None)
                m.add(sum(sedated) <= nurse_cap)

    def _room_days(self) -> None:
        m, problem = self.model, self.problem
        term = problem.room_day_term
        assert term is not None
        used: dict[tuple[str, int], Var] = {}
        for v in self.vars.values():
            for room_id, r in v.rooms.items():
                for day, lit in v.days.items():
                    if (room_id, day) not in used:
                        used[room_id, day] = m.new_bool_var("")
                    m.add_bool_or([r.Not(), lit.Not(), used[room_id, day]])
        self.objective.extend(problem.coefficients[term] * u for u in used.values())

    # -- hints and results -----------------------------------------------------------------------
    def hint(self, placement: Mapping[int, Slot]) -> None:
        """Give the solver a complete starting plan."""
        m, g, upd = self.model, self.g, self.units_per_day
        for index, v in self.vars.items():
            slot = placement.get(index)
            ok = slot is not None and slot.day in v.days and slot.room in v.rooms and slot.radiologist in v.radiologists
            m.add_hint(v.present, ok)
            for day, lit in v.days.items():
                m.add_hint(lit, ok and slot is not None and slot.day == day)
            for chosen, wanted in (
                (v.rooms, None if slot is None else slot.room),
                (v.radiologists, None if slot is None else slot.radiologist),
                (v.nurses, None if slot is None else slot.nurse),
            ):
                for key, lit in chosen.items():
                    m.add_hint(lit, ok and key == wanted)
            for days, y in v.groups.items():
                m.add_hint(y, ok and slot is not None and slot.day in days)
            if ok and slot is not None:
                m.add_hint(v.start, slot.start // g)
                m.add_hint(v.tod, slot.start // g - slot.day * upd)
                if not isinstance(v.overtime, int):
                    m.add_hint(v.overtime, overtime_of(self.problem, index, slot) // g)
                if v.keep is not None:
                    booked = self.problem.sessions[index].booked
                    m.add_hint(v.keep, booked is not None and booked.start == slot.start)
            elif v.keep is not None:
                m.add_hint(v.keep, False)

    def placement(self, solver: Any) -> dict[int, Slot]:
        """Return the placement in the solver's current solution."""
        g = self.g
        result: dict[int, Slot] = {}
        for index, v in self.vars.items():
            if not solver.boolean_value(v.present):
                continue
            day = next(d for d, lit in v.days.items() if solver.boolean_value(lit))
            room = next(k for k, lit in v.rooms.items() if solver.boolean_value(lit))
            rad = next(k for k, lit in v.radiologists.items() if solver.boolean_value(lit))
            nurse = next((k for k, lit in v.nurses.items() if solver.boolean_value(lit)), None)
            result[index] = Slot(day, solver.value(v.start) * g, room, rad, nurse)
        return result


# -- the day-assignment relaxation (master) ------------------------------------------------------


PER_ROOM_LIMIT = 40_000


def _segments(window: Window | None, blocked: tuple[tuple[int, int], ...], until: int | None = None) -> list[int]:
    """Return the lengths of a window's free stretches (up to ``until``) in which a session may start.

    Blocked periods split the window, and no session spans one. A stretch that begins at or after the
    regular closing time holds no session (sessions start before closing), so it counts for nothing.
    """
    if window is None:
        return []
    end = window.limit if until is None else min(window.limit, until)
    lengths, at = [], window.open
    for a, b in sorted(blocked):
        if b <= at or a >= end:
            continue
        if a > at and at < window.close:
            lengths.append(a - at)
        at = max(at, b)
    if at < end and at < window.close:
        lengths.append(end - at)
    return lengths


def _usable(window: Window | None, blocked: tuple[tuple[int, int], ...], until: int | None = None) -> int:
    """Return the open minutes of a window (up to ``until``) in which sessions can take place."""
    return sum(_segments(window, blocked, until))


class MasterModel:
    """Which day each session goes on, with every per-day capacity aggregated: a relaxation of the schedule.

    Each session gets a day and a room; per room and day the procedure minutes fit the room's hours
    (for every deadline, the sessions that must end by it fit before it); per day the radiologists',
    sedation nurses' and recovery bays' minutes are aggregated, and overtime is at least the room
    minutes beyond regular hours. Its optimum is therefore a lower bound on every plan's objective
    (exact timing, staff assignment and same-day moves are left to the detailed model). On large
    problems (more than ``PER_ROOM_LIMIT`` session-day-room choices) rooms are pooled per day instead
    of chosen, a weaker but much smaller relaxation.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        choices = sum(len(d.days) * len(d.rooms) for d in problem.sessions if d.excluded is None)
        self.per_room = choices <= PER_ROOM_LIMIT
        self.model = cp_model.CpModel()
        self.x: dict[int, dict[int, Var]] = {}
        self.present: dict[int, Var] = {}
        self.keep: dict[int, Var] = {}
        self.z: dict[tuple[int, int], dict[str, Var]] = {}
        self.objective: list[Any] = []
        self._overtime_vars: dict[tuple[str, int], tuple[Var, int]] = {}
        self._used: dict[tuple[str, int], Var] = {}
        self._pooled_overtime: dict[int, tuple[Var, int]] = {}
        self._interchangeable: dict[int, list[list[str]]] = defaultdict(list)
        self._build()

    def _build(self) -> None:
        m, problem, coef = self.model, self.problem, self.problem.coefficients
        objective = self.objective
        constant = 0
        for index, demand in enumerate(problem.sessions):
            if demand.excluded is not None:
                continue
            p = m.new_bool_var("")
            x = {day: m.new_bool_var("") for day in demand.days}
            self.present[index], self.x[index] = p, x
            m.add(sum(x.values()) == p)
            for day, lit in x.items():
                if not self.per_room:
                    continue
                rooms = {k: m.new_bool_var("") for k in demand.rooms if problem.room(k).windows[day] is not None}
                self.z[index, day] = rooms
                m.add(sum(rooms.values()) == lit)
            absent = sum(coef[t] * demand.quantity(t, None, problem.days) for t in demand.quantities)
            constant += absent
            objective.append(-absent * p)
            for day, lit in x.items():
                cost = sum(coef[t] * demand.quantity(t, day, problem.days) for t in demand.quantities)
                if cost:
                    objective.append(cost * lit)
            if demand.previous is not None and demand.previous in self.x:
                prev = self.x[demand.previous]
                m.add(p <= self.present[demand.previous])
                m.add(
                    sum(d * lit for d, lit in x.items()) >= sum(d * lit for d, lit in prev.items()) + demand.gap_days
                ).only_enforce_if(p)
            if demand.mandatory:
                m.add(p == 1)
            booked = demand.booked
            if booked is not None and booked.frozen:
                m.add(x[booked.day] == 1)
            elif booked is not None:
                cost = coef[booked.move_term]
                constant += cost
                if booked.day in x:
                    keep = m.new_bool_var("")
                    self.keep[index] = keep
                    m.add_implication(keep, x[booked.day])
                    objective.append(-cost * keep)
        self._capacities()
        m.minimize(cp_model.LinearExpr.sum(objective) + constant)

    def _capacities(self) -> None:
        """Per day: procedure minutes by room set and deadline, monitoring minutes, sedation-nurse minutes.

        A session must end by the time its monitoring can still finish before the recovery area closes,
        so for every such deadline the sessions that must end by it need that much room time before it.
        """
        problem = self.problem
        room_sets = {problem.sessions[i].rooms for i in self.x}
        for day in range(problem.days):
            on_day = [(i, x[day]) for i, x in self.x.items() if day in x]
            rec = problem.recovery.windows[day]
            if not on_day or rec is None:
                continue
            due_by = {i: self._deadline(problem.sessions[i], day) for i, _ in on_day}
            if not self.per_room:
                self._pooled_rooms(day, on_day, due_by)
            for room in problem.rooms if self.per_room else ():
                in_room = [(i, self.z[i, day][room.id]) for i, _ in on_day if room.id in self.z[i, day]]
                for deadline in [*sorted({min(due_by[i], room.windows[day].limit) for i, _ in in_room}), None]:  # type: ignore[union-attr]
                    due = [(i, lit) for i, lit in in_room if deadline is None or due_by[i] <= deadline]
                    self._fit(due, _segments(room.windows[day], room.blocked, deadline))
                self._overtime(room, day, in_room)
                self._room_day(room, day, in_room)
            if self.per_room:
                self._symmetry(day, on_day)
            self._staffed_overtime(day, on_day)
            for deadline in [*sorted(set(due_by.values())), None]:
                due = [(i, lit) for i, lit in on_day if deadline is None or due_by[i] <= deadline]
                for room_set in room_sets:
                    members = [(i, lit) for i, lit in due if set(problem.sessions[i].rooms) <= set(room_set)]
                    rads = [
                        length
                        for r in problem.radiologists
                        if any(r.can_work_in(k) for k in room_set)
                        for length in _segments(r.windows[day], r.blocked, deadline)
                    ]
                    self._fit(members, rads)
                sedated = [(i, lit) for i, lit in due if problem.sessions[i].sedation]
                nurses = [length for n in problem.nurses for length in _segments(n.windows[day], n.blocked, deadline)]
                self._fit(sedated, nurses)
            opens = [w.open for r in problem.rooms if (w := r.windows[day]) is not None]
            if opens:
                # monitoring starts when a procedure ends, not before the first room opens plus its minutes;
                # each bay holds one patient at a time, so from then on every bay is a bin of whole sessions
                first = min(opens)
                for ready in sorted({first + problem.sessions[i].minutes for i, _ in on_day}):
                    late = [(i, lit) for i, lit in on_day if first + problem.sessions[i].minutes >= ready]
                    after = Window(max(rec.open, ready), rec.close, rec.limit)
                    self._fit(late, problem.recovery.bays[day] * _segments(after, problem.recovery.blocked), True)

    def _pooled_rooms(self, day: int, on_day: list[tuple[int, Var]], due_by: Mapping[int, int]) -> None:
        """Rooms pooled per room set: minutes before each deadline, and overtime beyond regular hours."""
        m, problem = self.model, self.problem
        for room_set in {problem.sessions[i].rooms for i, _ in on_day}:
            members = [(i, lit) for i, lit in on_day if set(problem.sessions[i].rooms) <= set(room_set)]
            rooms = [r for r in problem.rooms if r.id in room_set]
            for deadline in [*sorted({due_by[i] for i, _ in members}), None]:
                due = [(i, lit) for i, lit in members if deadline is None or due_by[i] <= deadline]
                self._fit(due, [length for r in rooms for length in _segments(r.windows[day], r.blocked, deadline)])
        cost = problem.coefficients.get("overtime", 0)
        windows = [(r, w) for r in problem.rooms if (w := r.windows[day]) is not None]
        extra = sum(w.limit - w.close for _, w in windows)
        if cost and extra:
            regular = sum(_usable(w, r.blocked, w.close) for r, w in windows)
            overtime = m.new_int_var(0, extra, "")
            m.add(overtime >= sum(problem.sessions[i].minutes * lit for i, lit in on_day) - regular)
            self.objective.append(cost * overtime)
            self._pooled_overtime[day] = (overtime, regular)

    def _staffed_overtime(self, day: int, on_day: list[tuple[int, Var]]) -> None:
        """Overtime is at least the day's procedure minutes beyond what the radiologists can do in regular hours.

        A radiologist works one session at a time, and the part of a session before its room's regular
        closing lies within the radiologist's hours up to the latest closing of a room they work in. So
        the minutes done in regular hours are at most those hours summed over the radiologists, and the
        rest is overtime. With fewer radiologists than rooms (leave, part time) this is the binding limit,
        which the per-room overtime cannot see.
        """
        problem = self.problem
        overtime = [var for (_, d), (var, _) in self._overtime_vars.items() if d == day]
        if day in self._pooled_overtime:
            overtime.append(self._pooled_overtime[day][0])
        if not overtime:
            return
        rooms = [(r.id, w) for r in problem.rooms if (w := r.windows[day]) is not None]
        staffed = 0
        for rad in problem.radiologists:
            closes = [w.close for room_id, w in rooms if rad.can_work_in(room_id)]
            if closes:
                staffed += _usable(rad.windows[day], rad.blocked, max(closes))
        regular = sum(_usable(w, problem.room(room_id).blocked, w.close) for room_id, w in rooms)
        if staffed < regular:
            minutes = sum(problem.sessions[i].minutes * lit for i, lit in on_day)
            self.model.add(sum(overtime) >= minutes - staffed)

    def _symmetry(self, day: int, on_day: list[tuple[int, Var]]) -> None:
        """Of two interchangeable rooms on a day, the first holds at least as many procedure minutes."""
        problem = self.problem
        base = day * DAY

        def profile(room: Resource) -> tuple[object, ...]:
            w = room.windows[day]
            blocked = [(a, b) for a, b in room.blocked if a < base + DAY and b > base]
            staff = tuple(r.can_work_in(room.id) for r in problem.radiologists)
            users = tuple(room.id in problem.sessions[i].rooms for i, _ in on_day)
            return (None if w is None else (w.open, w.close, w.limit), tuple(blocked), staff, users, room.kind)

        groups: dict[tuple[object, ...], list[Resource]] = defaultdict(list)
        for room in problem.rooms:
            if room.windows[day] is not None:
                groups[profile(room)].append(room)
        for rooms in groups.values():
            if len(rooms) > 1:
                self._interchangeable[day].append([r.id for r in rooms])
            for first, second in pairwise(rooms):
                load = [
                    (
                        problem.sessions[i].minutes * self.z[i, day][first.id],
                        problem.sessions[i].minutes * self.z[i, day][second.id],
                    )
                    for i, _ in on_day
                    if first.id in self.z[i, day]
                ]
                if load:
                    self.model.add(sum(a for a, _ in load) >= sum(b for _, b in load))

    def _fit(self, members: list[tuple[int, Var]], bins: list[int], monitoring: bool = False) -> None:
        """The sessions fit the bins (free stretches of rooms or people): in minutes, and as whole sessions.

        Besides total minutes, the cuts of ``knapsack.bin_cuts`` (facets of each bin's knapsack by
        session length, summed over the bins) keep the relaxation from filling a room-day or a
        radiologist's day with fractions of sessions: without them it packed 6.67 sessions of 90 minutes
        into 600, and 1,200 minutes of 90- and 210-minute sessions into two radiologists' 600 each, which
        no plan can do. Every cut holds for every real plan. With ``monitoring`` the sessions' monitoring
        minutes fill recovery bays instead.
        """
        if not members:
            return
        sessions = self.problem.sessions
        minutes = {i: sessions[i].monitoring if monitoring else sessions[i].minutes for i, _ in members}
        self.model.add(sum(minutes[i] * lit for i, lit in members) <= sum(bins))
        lengths = tuple(sorted(set(minutes.values())))
        for coef, rhs in bin_cuts(lengths, tuple(sorted(b for b in bins if b >= lengths[0]))):
            weight = dict(zip(lengths, coef, strict=True))
            self.model.add(sum(weight[minutes[i]] * lit for i, lit in members if weight[minutes[i]]) <= rhs)

    def _room_day(self, room: Resource, day: int, in_room: list[tuple[int, Var]]) -> None:
        """A room used on a day costs ``room_day_term`` once (IHTC's open operating theatre)."""
        term = self.problem.room_day_term
        if term is None or not in_room:
            return
        used = self.model.new_bool_var("")
        for _, lit in in_room:
            self.model.add_implication(lit, used)
        self.objective.append(self.problem.coefficients[term] * used)
        self._used[room.id, day] = used

    def _overtime(self, room: Resource, day: int, in_room: list[tuple[int, Var]]) -> None:
        """Overtime is at least the room's booked minutes beyond its regular hours."""
        window = room.windows[day]
        cost = self.problem.coefficients.get("overtime", 0)
        if window is None or window.limit == window.close or not in_room or not cost:
            return
        regular = _usable(window, room.blocked, window.close)
        overtime = self.model.new_int_var(0, window.limit - window.close, "")
        self.model.add(overtime >= sum(self.problem.sessions[i].minutes * lit for i, lit in in_room) - regular)
        self.objective.append(cost * overtime)
        self._overtime_vars[room.id, day] = (overtime, regular)

    def _deadline(self, demand: Demand, day: int) -> int:
        """Return the latest end of a session on a day: monitoring, rooms, radiologists, sedation nurses."""
        problem = self.problem
        rec = problem.recovery.windows[day]
        ends = [rec.close - demand.monitoring] if rec is not None else [0]
        ends.append(max((w.limit for r in problem.rooms if r.id in demand.rooms and (w := r.windows[day])), default=0))
        ends.append(
            max(
                (
                    w.close
                    for r in problem.radiologists
                    if any(r.can_work_in(k) for k in demand.rooms) and (w := r.windows[day]) is not None
                ),
                default=0,
            )
        )
        if demand.sedation:
            ends.append(max((w.close for n in problem.nurses if (w := n.windows[day]) is not None), default=0))
        return min(ends)

    def _room_order(self, placement: Mapping[int, Slot]) -> dict[int, str]:
        """Return each placed session's room, interchangeable rooms renamed so the busiest comes first."""
        rooms = {i: slot.room for i, slot in placement.items()}
        load: dict[tuple[str, int], int] = defaultdict(int)
        for i, slot in placement.items():
            load[slot.room, slot.day] += self.problem.sessions[i].minutes
        for day, groups in self._interchangeable.items():
            for group in groups:
                busiest = sorted(group, key=lambda r: -load[r, day])
                rename = dict(zip(busiest, group, strict=True))
                for i, slot in placement.items():
                    if slot.day == day and slot.room in rename:
                        rooms[i] = rename[slot.room]
        return rooms

    def hint(self, placement: Mapping[int, Slot]) -> None:
        """Start the search from a complete plan (interchangeable rooms reordered to match the symmetry rule).

        Overtime is hinted as the plan's own when it has times (a detailed plan satisfies every master
        constraint with it), else as the minutes beyond regular hours.
        """
        m, problem = self.model, self.problem
        m.clear_hints()  # type: ignore[no-untyped-call]
        room_of = self._room_order(placement)
        booked_minutes: dict[tuple[str, int], int] = defaultdict(int)
        day_minutes: dict[int, int] = defaultdict(int)
        late: dict[tuple[str, int], int] = defaultdict(int)
        rooms = {r.id for r in problem.rooms}
        for index, x in self.x.items():
            slot = placement.get(index)
            day = None if slot is None or slot.day not in x else slot.day
            m.add_hint(self.present[index], day is not None)
            for d, lit in x.items():
                m.add_hint(lit, d == day)
                for room_id, z in self.z.get((index, d), {}).items():
                    m.add_hint(z, d == day and room_of.get(index) == room_id)
            if day is not None and slot is not None:
                booked_minutes[room_of[index], day] += problem.sessions[index].minutes
                day_minutes[day] += problem.sessions[index].minutes
                if slot.room in rooms:
                    late[room_of[index], day] += overtime_of(problem, index, slot)
            if index in self.keep:
                booked = problem.sessions[index].booked
                m.add_hint(self.keep[index], booked is not None and day == booked.day)
        for key, (var, regular) in self._overtime_vars.items():
            m.add_hint(var, max(late[key], booked_minutes[key] - regular))
        for key, used in self._used.items():
            m.add_hint(used, booked_minutes[key] > 0)
        for day, (var, regular) in self._pooled_overtime.items():
            m.add_hint(var, max(sum(v for (_, d), v in late.items() if d == day), day_minutes[day] - regular))

    def lp_relaxation(self, time_limit: float) -> tuple[int | None, dict[int, Slot]]:
        """Return the linear relaxation's bound (hundredths of a point) and its day and room per session, rounded.

        The relaxation is solved with GLOP (a simplex solver shipped with OR-Tools) on the master's own
        constraints: enforced constraints other than plain implications are dropped, which only loosens
        it, so its optimum is a lower bound on every plan (None when GLOP did not prove it in time). Its
        solution is nearly whole: each session goes to its likeliest day and room when it is more present
        than not, a starting assignment for packing and for the CP-SAT search.
        """
        proto = self.model.proto
        lp = pywraplp.Solver.CreateSolver("GLOP")
        if lp is None:
            return None, {}
        values = [lp.NumVar(float(v.domain[0]), float(v.domain[len(v.domain) - 1]), "") for v in proto.variables]

        def literal(ref: int) -> Any:
            return values[ref] if ref >= 0 else 1 - values[-ref - 1]

        for ct in proto.constraints:
            if ct.enforcement_literal:
                if ct.has_bool_and() and len(ct.enforcement_literal) == 1:
                    for ref in ct.bool_and.literals:
                        lp.Add(literal(ct.enforcement_literal[0]) <= literal(ref))
                continue
            if ct.has_linear():
                expr = lp.Sum([c * literal(r) for r, c in zip(ct.linear.vars, ct.linear.coeffs, strict=True)])
                low, high = ct.linear.domain[0], ct.linear.domain[len(ct.linear.domain) - 1]
                if low > -UNBOUNDED:
                    lp.Add(expr >= float(low))
                if high < UNBOUNDED:
                    lp.Add(expr <= float(high))
        objective = proto.objective
        terms = [c * literal(r) for r, c in zip(objective.vars, objective.coeffs, strict=True)]
        lp.Minimize(lp.Sum(terms) + objective.offset)
        lp.SetTimeLimit(max(1, int(time_limit * 1000)))
        if lp.Solve() != pywraplp.Solver.OPTIMAL:
            return None, {}
        scale = objective.scaling_factor or 1.0
        value = lp.Objective().Value() * scale
        # every plan's objective is a whole number of hundredths: round the bound up, less a tolerance
        bound = math.ceil(value - 1e-6 * max(1.0, abs(value)))
        rounded: dict[int, Slot] = {}
        for index, x in self.x.items():
            if values[self.present[index].index].solution_value() < 0.5:
                continue
            day = max(x, key=lambda d: values[x[d].index].solution_value())
            rooms = self.z.get((index, day), {})
            room = max(rooms, key=lambda k: values[rooms[k].index].solution_value(), default="")
            rounded[index] = Slot(day, day * DAY, room, "", None)
        # a room-day may be overfilled by rounding: packing keeps what fits and offers the rest elsewhere
        return bound, rounded

    def rooms_and_days(self, solver: Any) -> dict[int, Slot]:
        """Return the day and room of every present session in the solver's solution (times left at 0)."""
        result: dict[int, Slot] = {}
        for index, x in self.x.items():
            if not solver.boolean_value(self.present[index]):
                continue
            day = next(d for d, lit in x.items() if solver.boolean_value(lit))
            room = next((k for k, z in self.z.get((index, day), {}).items() if solver.boolean_value(z)), "")
            result[index] = Slot(day, day * DAY, room, "", None)
        return result


def _frozen(demand: Demand) -> bool:
    return demand.booked is not None and demand.booked.frozen


def sub_problem(problem: Problem, allowed: Mapping[int, tuple[int, ...]], required: Iterable[int] = ()) -> Problem:
    """Return the problem restricted to some sessions, each on the given days (``required``: must be placed).

    Sessions not in ``allowed`` are left out; a session keeps its link to a previous stage only when that
    stage is in the sub-problem too (otherwise its days already respect the staging gap).
    """
    must = set(required)
    sessions = []
    for index, demand in enumerate(problem.sessions):
        if index in allowed:
            previous = demand.previous if demand.previous in allowed else None
            sessions.append(
                replace(
                    demand,
                    days=allowed[index],
                    excluded=None,
                    previous=previous,
                    mandatory=demand.mandatory or index in must,
                )
            )
        else:
            sessions.append(replace(demand, excluded=(Reason.NO_PLAN, "fixed outside this sub-problem")))
    return replace(problem, sessions=tuple(sessions))


def new_solver(time_limit: float, workers: int, seed: int, *, master: bool = False) -> Any:
    """Return a CP-SAT solver with these limits (for the master: the strongest linear relaxation, for its bound)."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    if master:
        # The master's bound is its linear relaxation: solve it at the root at once, with every constraint
        # in it, instead of a few thousand iterations at a time with constraints added lazily. On 300
        # cases this gives the LP bound in seconds instead of half a minute, and the search then finds
        # near-optimal day assignments (decision 0012).
        params.linearization_level = 2
        params.root_lp_iterations = 200_000
        params.add_lp_constraints_lazily = False
    params.max_time_in_seconds = max(0.05, time_limit)
    params.num_workers = workers
    params.random_seed = seed
    return solver


def detailed_model(problem: Problem, *, diagnose: bool = False) -> _Builder:
    """Return the detailed (monolithic) model of a problem: every day, time, room and person."""
    return _Builder(problem, diagnose=diagnose)


FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)
OPTIMAL = cp_model.OPTIMAL
INFEASIBLE = cp_model.INFEASIBLE


def infeasible_core(problem: Problem, time_limit: float) -> list[str]:
    """Return the fixed bookings and mandatory cases that cannot all hold together (an infeasible core)."""
    builder = _Builder(problem, diagnose=True)
    solver = new_solver(time_limit, 1, 0)
    status = solver.solve(builder.model)
    if status != cp_model.INFEASIBLE:
        return ["no plan satisfies every fixed booking and mandatory case together (no smaller set found to blame)"]
    core = set(solver.sufficient_assumptions_for_infeasibility())
    blamed = [text for lit, text in builder.assumptions if lit.Index() in core]
    return ["these cannot all hold together with the calendars and capacities:", *(f"- {t}" for t in blamed)]
