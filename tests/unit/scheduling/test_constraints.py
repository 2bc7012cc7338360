"""Every hard constraint, on a tiny instance where breaking it would pay off in the objective.

Each test builds cases that the objective wants treated at once (acute fractures, inpatients) and a
resource or rule that forbids it, solves with CP-SAT, lets the independent checker validate the plan
(``checked_plan``) and then asserts the specific rule directly.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations, pairwise

from tests.unit.scheduling.builders import at, base, case, checked_plan, day, hours, only, sessions_of
from vertebro.scheduling.plan import Reason


def _overlap(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _urgent(n: int, **extra: object) -> list[dict[str, object]]:
    """``n`` acute inpatients, each one day from missing the 6-week window."""
    return [case(f"c{i}", age_days=41, inpatient=True, **extra) for i in range(n)]


def test_recovery_bays_run_out_before_rooms() -> None:
    """Recovery bays: never more patients monitored than bays.

    Tempting: two rooms and two radiologists could treat all four urgent patients by noon on day 0, but
    one bay holds one patient for two hours after each procedure.
    """
    data = base(
        rooms=[
            {"id": "room-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "room-2", "kind": "fluoroscopy", "hours": hours()},
        ],
        radiologists=[
            {"id": "ir-1", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
            {"id": "ir-2", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
        ],
        recovery={"bays": 1, "hours": hours("08:00", "14:00")},
        cases=_urgent(4),
    )
    plan = checked_plan(data)
    on_day_0 = [s for s in plan.sessions if s.date == day(0)]
    assert on_day_0, "the bay allows some patients on day 0"
    for a, b in combinations(on_day_0, 2):
        assert not _overlap((a.monitoring_start, a.monitoring_end), (b.monitoring_start, b.monitoring_end))
    assert len(on_day_0) < 4


def test_room_holds_one_procedure_at_a_time() -> None:
    """Rooms: no two procedures overlap in one room.

    Tempting: two radiologists are free, and every urgent patient wants the 08:00 start.
    """
    data = base(
        radiologists=[
            {"id": "ir-1", "rooms": ["room-1"], "hours": hours("08:00", "18:00")},
            {"id": "ir-2", "rooms": ["room-1"], "hours": hours("08:00", "18:00")},
        ],
        cases=_urgent(3),
    )
    plan = checked_plan(data)
    assert all(s.date == day(0) for s in plan.sessions)
    assert len(plan.sessions) == 3
    for a, b in pairwise(sorted(plan.sessions, key=lambda s: s.start)):
        assert a.end <= b.start


def test_radiologist_works_only_in_their_rooms() -> None:
    """Radiologists: only in the rooms they work in, and not while absent.

    Tempting: the CT-only case is urgent; the fluoroscopy radiologist is free on day 0, the CT
    radiologist is away until day 2.
    """
    data = base(
        rooms=[
            {"id": "fluoro-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "ct-1", "kind": "ct", "hours": hours()},
        ],
        radiologists=[
            {"id": "ir-fluoro", "rooms": ["fluoro-1"], "hours": hours("08:00", "18:00")},
            {
                "id": "ir-ct",
                "rooms": ["ct-1", "fluoro-1"],
                "hours": hours("08:00", "18:00"),
                "absent": [{"start": at(0, "00:00"), "end": at(2, "00:00"), "reason": "leave"}],
            },
        ],
        cases=[case("ct-case", age_days=41, inpatient=True, room_kinds=["ct"])],
    )
    s = only(checked_plan(data), "ct-case")
    assert (s.room, s.radiologist, s.date) == ("ct-1", "ir-ct", day(2))


def test_radiologist_is_in_one_room_at_a_time() -> None:
    """Radiologists: one procedure at a time.

    Tempting: two rooms are free at 08:00 for two urgent patients, but only one radiologist works.
    """
    data = base(
        rooms=[
            {"id": "room-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "room-2", "kind": "fluoroscopy", "hours": hours()},
        ],
        radiologists=[{"id": "ir-1", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")}],
        cases=_urgent(2),
    )
    a, b = checked_plan(data).sessions
    assert not _overlap((a.start, a.end), (b.start, b.end))


def test_sedated_procedures_need_a_free_sedation_nurse() -> None:
    """Sedation nurses: a sedated procedure has a nurse for its whole length, one patient at a time.

    Tempting: two rooms and two radiologists are free at 08:00, but there is one sedation nurse.
    """
    data = base(
        rooms=[
            {"id": "room-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "room-2", "kind": "fluoroscopy", "hours": hours()},
        ],
        radiologists=[
            {"id": "ir-1", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
            {"id": "ir-2", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")},
        ],
        cases=_urgent(2, sedation=True),
    )
    a, b = checked_plan(data).sessions
    assert a.nurse == b.nurse == "sn-1"
    assert not _overlap((a.start, a.end), (b.start, b.end))


def test_room_hours_and_overtime_limit() -> None:
    """Room hours: start before regular closing, end by closing plus the overtime allowance.

    Tempting: three urgent patients on day 0 in a room open 08:00-11:00 with one hour of overtime.
    """
    data = base(
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "11:00"), "max_overtime_minutes": 60}],
        cases=_urgent(3),
    )
    plan = checked_plan(data)
    on_day_0 = [s for s in plan.sessions if s.date == day(0)]
    assert len(on_day_0) == 2
    assert all(s.start < dt.datetime.fromisoformat(at(0, "11:00")) for s in on_day_0)
    assert max(s.end for s in on_day_0) <= dt.datetime.fromisoformat(at(0, "12:00"))


def test_monitoring_ends_before_the_recovery_area_closes() -> None:
    """Recovery hours: monitoring starts when the procedure ends and finishes before the area closes.

    Tempting: the room is open all afternoon, but recovery closes at 13:00 and monitoring lasts 2 hours.
    """
    data = base(recovery={"bays": 4, "hours": hours("08:00", "13:00")}, cases=_urgent(3))
    plan = checked_plan(data)
    on_day_0 = [s for s in plan.sessions if s.date == day(0)]
    assert len(on_day_0) == 2
    assert all(s.monitoring_start == s.end for s in plan.sessions)
    assert all(s.monitoring_end.time() <= dt.time(13, 0) for s in plan.sessions)


def test_medication_hold_must_finish() -> None:
    """Earliest date: not before the hold (or labs, imaging, the patient) allows.

    Tempting: the patient is an acute inpatient, the room is empty on days 0 and 1.
    """
    hold = {"date": str(day(2)), "kind": "hold", "reason": "apixaban: 3 drug-free days"}
    data = base(cases=[case("held", age_days=41, inpatient=True, not_before=[hold])])
    assert only(checked_plan(data), "held").date == day(2)


def test_latest_useful_date() -> None:
    """Latest useful date: a session after it is worthless, so it is left out instead.

    Tempting: day 0 has one slot, two acute inpatients compete for it, and the third case could go on
    day 1, one day after its latest useful date.
    """
    data = base(
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}],
        cases=[*_urgent(1), case("late", latest=str(day(0)), age_days=200)],
    )
    plan = checked_plan(data)
    late = sessions_of(plan, "late")
    assert all(s.date <= day(0) for s in late)
    if not late:
        assert next(u for u in plan.unscheduled if u.case == "late").reason is Reason.NO_CAPACITY


def test_patient_unavailable_days_and_holidays() -> None:
    """Availability: never on a day the patient cannot come, nor on a holiday.

    Tempting: an urgent patient, an empty room on days 0-2.
    """
    data = base(
        holidays=[str(day(2))],
        cases=[case("away", age_days=41, inpatient=True, unavailable=[str(day(0)), str(day(1))])],
    )
    assert only(checked_plan(data), "away").date == day(3)


def test_room_closure_is_respected() -> None:
    """Blocked time: no procedure while a room is closed (maintenance).

    Tempting: the urgent patient wants 08:00 on day 0; the room is closed until noon.
    """
    closed = [{"start": at(0, "08:00"), "end": at(0, "12:00"), "reason": "C-arm maintenance"}]
    data = base(rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours(), "closed": closed}], cases=_urgent(1))
    s = only(checked_plan(data), "c0")
    assert s.date == day(0)
    assert s.start.time() >= dt.time(12, 0)


def test_staged_sessions_are_a_gap_apart() -> None:
    """Staging: at most 3 levels per session; the next session at least the staging gap later.

    Tempting: four acute levels and an empty room every day.
    """
    data = base(
        days=14,
        policy={"min_days_between_stages": 7},
        cases=[case("four", levels=("T11", "T12", "L1", "L2"), age_days=30, inpatient=True)],
    )
    first, second = sessions_of(checked_plan(data), "four")
    assert first.levels == ["T11", "T12", "L1"]
    assert second.levels == ["L2"]
    assert (second.date - first.date).days >= 7


def test_room_kind() -> None:
    """Room kind: a case that needs CT guidance is only done in a CT room.

    Tempting: the fluoroscopy room is free on day 0; the CT room opens only on Thursdays.
    """
    data = base(
        rooms=[
            {"id": "fluoro-1", "kind": "fluoroscopy", "hours": hours()},
            {"id": "ct-1", "kind": "ct", "hours": hours(days=("thu",))},
        ],
        radiologists=[{"id": "ir-1", "rooms": ["fluoro-1", "ct-1"], "hours": hours("08:00", "18:00")}],
        cases=[case("ct", age_days=41, inpatient=True, room_kinds=["ct"])],
    )
    s = only(checked_plan(data), "ct")
    assert (s.room, s.date) == ("ct-1", day(3))


def test_mandatory_case_is_planned() -> None:
    """Mandatory (urgent) cases: always planned, even when another case would score better.

    Tempting: one slot in a one-day horizon, an acute inpatient and a chronic mandatory outpatient.
    """
    data = base(
        days=1,
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "09:30")}],
        cases=[*_urgent(1), case("must", age_days=300, mandatory=True)],
    )
    plan = checked_plan(data)
    assert [s.case for s in plan.sessions] == ["must"]


def test_started_sessions_do_not_move_and_nothing_starts_before_now() -> None:
    """Re-planning: a session that started before ``now`` stays; nothing new starts before ``now``.

    Tempting: the booked chronic case holds 08:00 on day 0 while an urgent patient arrives at 09:00.
    """
    booked = [{"session": 0, "start": at(0, "08:00"), "room": "room-1", "radiologist": "ir-1"}]
    data = base(
        now=at(0, "09:00"),
        cases=[case("booked", age_days=300, booked=booked), *_urgent(1)],
    )
    plan = checked_plan(data)
    assert only(plan, "booked").start == dt.datetime.fromisoformat(at(0, "08:00"))
    assert only(plan, "c0").start >= dt.datetime.fromisoformat(at(0, "09:00"))


def test_bays_per_date() -> None:
    """Recovery bays by date: a day with no staffed bay takes no procedure.

    Tempting: the urgent patient and the room are ready on day 0.
    """
    data = base(recovery={"bays": 2, "hours": hours("08:00", "20:00"), "bays_on": {str(day(0)): 0}}, cases=_urgent(1))
    assert only(checked_plan(data), "c0").date == day(1)


def test_same_results_from_the_monolithic_model() -> None:
    """The decomposition and the detailed model in one piece agree on a small instance's optimum."""
    data = base(
        rooms=[
            {"id": "room-1", "kind": "fluoroscopy", "hours": hours("08:00", "12:00")},
            {"id": "room-2", "kind": "fluoroscopy", "hours": hours("08:00", "12:00")},
        ],
        radiologists=[{"id": "ir-1", "rooms": ["room-1", "room-2"], "hours": hours("08:00", "18:00")}],
        recovery={"bays": 2, "hours": hours("08:00", "16:00")},
        cases=[case(f"c{i}", age_days=20 + 5 * i, inpatient=i % 2 == 0, sedation=i % 3 == 0) for i in range(8)],
    )
    decomposed = checked_plan(data, method="decomposition")
    whole = checked_plan(data, method="monolithic")
    assert decomposed.status == whole.status == "optimal"
    assert decomposed.objective.total == whole.objective.total
