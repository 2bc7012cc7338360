"""The instance format: strict validation, every problem named by its JSON path."""

from __future__ import annotations

import json

import pytest

from tests.unit.scheduling.builders import at, base, case, day, instance
from vertebro.scheduling.instance import InstanceError, parse_instance, session_levels


def problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        parse_instance(json.dumps(data))
    return caught.value.problems


def test_a_valid_instance_round_trips() -> None:
    inst = instance(base(cases=[case("a")]))
    assert inst.case("a").levels[0].level == "L1"
    assert inst.end == day(4)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"days": 0}, "days: Input should be greater than or equal to 1"),
        ({"granularity_minutes": 7}, "granularity_minutes: Input should be 5, 10, 15, 20, 30 or 60"),
        ({"colour": "blue"}, "colour: unknown field"),
        ({"rooms": []}, "rooms: List should have at least 1 item"),
        ({"policy": {"setup_minutes": 25}}, "policy.setup_minutes: 25 is not a multiple of granularity_minutes (30)"),
        ({"weights": {"overtime": 0.125}}, "weights.overtime: 0.125 has more than two decimals"),
        ({"now": at(9, "08:00")}, "now: 2027-01-13T08:00 is outside the horizon"),
    ],
)
def test_top_level_problems_name_their_path(change: dict[str, object], expected: str) -> None:
    assert any(p.startswith(expected) for p in problems(base(**change))), problems(base(**change))


def test_cross_references_are_checked() -> None:
    bad_booking = {"session": 0, "start": at(0, "08:10"), "room": "room-9", "radiologist": "ir-9"}
    data = base(
        radiologists=[{"id": "ir-1", "rooms": ["room-2"], "hours": {}}],
        cases=[case("a", sedation=True, booked=[bad_booking]), case("a")],
    )
    found = problems(data)
    assert "radiologists[0].rooms[0]: unknown room 'room-2'" in found
    assert "cases[1].id: 'a' is used twice" in found
    assert "cases[0].booked[0].room: unknown room 'room-9'" in found
    assert "cases[0].booked[0].radiologist: unknown radiologist 'ir-9'" in found
    assert "cases[0].booked[0].nurse: a sedated session needs a sedation nurse" in found
    assert "cases[0].booked[0].start: 08:10 is not on the 30-minute grid" in found


def test_case_problems_name_their_path() -> None:
    bad = case("a", levels=("L1", "L1"))
    assert "cases[0].levels[1].level: L1 is listed twice" in problems(base(cases=[bad]))
    assert any(
        p.startswith("cases[0].levels[0].level: 'L9' does not exist")
        for p in problems(base(cases=[case("a", levels=("L9",))]))
    )
    late_onset = case("a")
    late_onset["levels"][0]["onset"] = str(day(3))
    assert any("is after the referral date" in p for p in problems(base(cases=[late_onset])))
    closed_early = base(
        rooms=[{"id": "room-1", "kind": "fluoroscopy", "hours": {"mon": {"open": "17:00", "close": "08:00"}}}]
    )
    assert "rooms[0].hours.mon.close: 08:00 is not after open 17:00" in problems(closed_early)


def test_not_json_is_a_file_problem() -> None:
    with pytest.raises(InstanceError) as caught:
        parse_instance("{not json")
    assert caught.value.problems[0].startswith("(file): not valid JSON")


def test_sessions_follow_the_clinical_core() -> None:
    """Levels are split in spinal order into sessions of at most max_levels_per_session."""
    inst = instance(base(cases=[case("a", levels=("L2", "T12", "L1", "T11"))]))
    assert session_levels(inst.case("a"), inst.clinic_policy) == (("T11", "T12", "L1"), ("L2",))
