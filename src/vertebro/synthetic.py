"""Synthetic cases: realistic, varied, reproducible case data for benchmarks, property tests and demos.

No real patient is behind any of it. The mix roughly follows a referral stream to a vertebroplasty
service: mostly older women with osteoporotic fractures, some neoplastic, a few red flags.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

_LEVELS = [f"T{i}" for i in range(4, 13)] + [f"L{i}" for i in range(1, 6)]
_CAUSES = ["osteoporotic"] * 14 + ["low_energy_trauma"] * 2 + ["metastasis", "myeloma", "hemangioma", "unknown"]
_DRUGS: list[tuple[str, str | None]] = [
    ("warfarin", "therapeutic"),
    ("aspirin", "primary_prevention"),
    ("aspirin", "secondary_prevention"),
    ("ibuprofen", "pain"),
    ("naproxen", "pain"),
    ("clopidogrel", "secondary_prevention"),
    ("apixaban", "therapeutic"),
    ("rivaroxaban", "therapeutic"),
    ("dabigatran", "therapeutic"),
    ("enoxaparin", "prophylactic"),
    ("enoxaparin", "therapeutic"),
    ("alendronate", None),
    ("paracetamol", "pain"),
    ("oxycodone", "pain"),
    ("sertraline", None),
]
_ALLERGIES = ["latex", "iodinated contrast", "penicillin", "PMMA bone cement", "lidocaine"]


def _maybe(rng: random.Random, value: Any, p_none: float = 0.15) -> Any:
    return None if rng.random() < p_none else value


def _fracture(rng: random.Random, level: str, cause: str) -> dict[str, Any]:
    weeks = round(rng.choice([rng.uniform(0.5, 6), rng.uniform(6, 13), rng.uniform(13, 60)]), 1)
    acute = weeks < 13 and rng.random() < 0.85
    fracture: dict[str, Any] = {
        "level": level,
        "cause": cause,
        "onset_weeks": _maybe(rng, weeks, 0.05),
        "mri_edema": _maybe(rng, acute, 0.2),
        "kyphotic_deformity": _maybe(rng, rng.random() < 0.3),
        "height_loss_progressing": _maybe(rng, rng.random() < 0.15),
        "retropulsion": _maybe(rng, rng.random() < 0.05, 0.3),
        "canal_compromise": _maybe(rng, rng.random() < 0.03, 0.3),
        "posterior_wall_intact": _maybe(rng, rng.random() < 0.92, 0.3),
        "unstable": _maybe(rng, rng.random() < 0.03, 0.3),
    }
    if rng.random() < 0.5:
        posterior = rng.uniform(22, 34)
        loss = rng.uniform(0.0, 0.75)
        fracture["heights_mm"] = {
            "anterior": round(posterior * (1 - loss), 1),
            "middle": round(posterior * (1 - loss * rng.uniform(0.3, 1.0)), 1),
            "posterior": round(posterior, 1),
        }
    else:
        fracture["height_loss_percent"] = _maybe(rng, round(rng.uniform(5, 85), 1), 0.2)
    return fracture


def case_data(rng: random.Random, today: dt.date) -> dict[str, Any]:
    """Return one synthetic case as JSON-compatible data (valid for :class:`Case`)."""
    sex = "female" if rng.random() < 0.72 else "male"
    age = rng.randint(52, 95) if rng.random() < 0.95 else rng.randint(18, 51)
    n_fractures = rng.choices([1, 2, 3, 4, 5], weights=[70, 18, 7, 3, 2])[0]
    cause = rng.choice(_CAUSES)
    levels = sorted(rng.sample(_LEVELS, n_fractures))
    drugs = rng.sample(_DRUGS, rng.choices([0, 1, 2, 3], weights=[40, 35, 18, 7])[0])
    medications: list[dict[str, str]] = []
    for name, purpose in drugs:
        if any(m["name"] == name for m in medications):
            continue
        medications.append({"name": name, "purpose": purpose} if purpose else {"name": name})
    return {
        "patient": {
            "identifier": f"SYN-{rng.randrange(10**9):09d}",
            "age": age,
            "sex": sex,
            "pregnant": (rng.random() < 0.3) if sex == "female" and age < 45 else None,
            "hospitalized": rng.random() < 0.25,
        },
        "fractures": [_fracture(rng, level, cause) for level in levels],
        "pain": {
            "nrs": rng.choices(range(11), weights=[1, 1, 2, 3, 5, 8, 10, 12, 12, 8, 5])[0],
            "trend": _maybe(rng, rng.choice(["worsening", "stable", "improving"])),
            "concordant_with_fracture": _maybe(rng, rng.random() < 0.92),
        },
        "function": {
            "rdq": _maybe(rng, rng.randint(4, 24), 0.3),
            "odi_percent": _maybe(rng, round(rng.uniform(10, 90), 1), 0.4),
        },
        "conservative_care": {
            "weeks": _maybe(rng, rng.randint(0, 16)),
            "optimal": _maybe(rng, rng.random() < 0.75),
        },
        "red_flags": {
            "active_infection": _maybe(rng, rng.random() < 0.02),
            "fever": _maybe(rng, rng.random() < 0.03),
            "cancer_history": _maybe(rng, cause in ("metastasis", "myeloma") or rng.random() < 0.08),
        },
        "neurological_deficit": _maybe(rng, rng.random() < 0.04),
        "pulmonary_dysfunction": _maybe(rng, rng.random() < 0.15, 0.4),
        "labs": {
            "inr": _maybe(rng, round(rng.uniform(0.9, 3.0) if drugs else rng.uniform(0.9, 1.3), 2), 0.3),
            "platelets": _maybe(rng, float(rng.randint(40, 400)), 0.3),
            "creatinine_clearance_ml_min": _maybe(rng, float(rng.randint(20, 110)), 0.6),
        },
        "coagulopathy_uncorrectable": _maybe(rng, rng.random() < 0.01, 0.3),
        "allergies": rng.sample(_ALLERGIES, rng.choices([0, 1, 2], weights=[75, 20, 5])[0]),
        "medications": medications,
        "sedation_planned": _maybe(rng, rng.random() < 0.6),
        "procedure_date": _maybe(rng, (today + dt.timedelta(days=rng.randint(1, 60))).isoformat(), 0.3),
        "bone_health": {"bmd_referral_documented": _maybe(rng, rng.random() < 0.6)},
    }


def case_stream(seed: int, count: int, today: dt.date) -> list[dict[str, Any]]:
    """Return ``count`` synthetic cases from one seed (the same seed gives the same cases)."""
    rng = random.Random(seed)
    return [case_data(rng, today) for _ in range(count)]
