"""Generated instances: valid, reproducible, realistic in shape."""

from __future__ import annotations

from vertebro.scheduling.generate import generated_instance, instance_data
from vertebro.scheduling.instance import session_levels


def test_same_seed_same_instance() -> None:
    assert instance_data(20, seed=7) == instance_data(20, seed=7)
    assert instance_data(20, seed=7) != instance_data(20, seed=8)


def test_realistic_shape() -> None:
    inst = generated_instance(150, weeks=4, rooms=3, seed=3)
    assert len(inst.cases) == 150
    assert inst.days == 28
    assert [r.kind for r in inst.rooms] == ["fluoroscopy", "fluoroscopy", "ct"]
    assert len(inst.radiologists) == 4
    assert inst.holidays
    referred_before = sum(c.referred < inst.start for c in inst.cases)
    assert 0.2 < referred_before / 150 < 0.5  # a waiting list, then arrivals
    assert 0.05 < sum(c.inpatient for c in inst.cases) / 150 < 0.45
    assert any(nb.kind == "hold" for c in inst.cases for nb in c.not_before)
    assert any(len(session_levels(c, inst.clinic_policy)) > 1 for c in generated_instance(400, seed=3).cases)
    assert all(item.onset <= c.referred for c in inst.cases for item in c.levels)


def test_tight_has_fewer_bays_and_nurses() -> None:
    loose, tight = generated_instance(10, rooms=4, seed=1), generated_instance(10, rooms=4, seed=1, tight=True)
    assert tight.recovery.bays < loose.recovery.bays
    assert len(tight.nurses) < len(loose.nurses)
