"""Test builders: a complete, typical case that each test changes only where it matters."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from vertebro.clinical import Assessment, Case, ClinicPolicy, assess
from vertebro.clinical.policy import DEFAULT_POLICY

AS_OF = dt.date(2026, 11, 22)
PROCEDURE_DATE = dt.date(2026, 12, 14)
# The MRI of the typical case: 12 days before AS_OF, or two weeks before today when the suites that assess at
# today's date (integration, browser) run later, so that it stays within the imaging age limit of ClinicPolicy
# (acuity.imaging_current) whatever day the tests run.
IMAGING_DATE = max(dt.date(2026, 11, 10), dt.date.today() - dt.timedelta(days=14))


def base_case() -> dict[str, Any]:
    """A 74-year-old outpatient with an acute, painful osteoporotic L1 fracture meeting every criterion."""
    return {
        "patient": {"identifier": "T-1", "age": 74, "sex": "female", "hospitalized": False},
        "fractures": [
            {
                "level": "L1",
                "cause": "osteoporotic",
                "onset_weeks": 4,
                "mri_edema": True,
                "imaging_date": IMAGING_DATE.isoformat(),
                "height_loss_percent": 30.0,
                "kyphotic_deformity": True,
                "height_loss_progressing": False,
                "retropulsion": False,
                "canal_compromise": False,
                "posterior_wall_intact": True,
                "unstable": False,
            }
        ],
        "pain": {"nrs": 8, "trend": "stable", "concordant_with_fracture": True},
        "function": {"rdq": 19, "odi_percent": 56.0},
        "conservative_care": {"weeks": 4, "optimal": True},
        "red_flags": {"active_infection": False, "fever": False, "cancer_history": False},
        "neurological_deficit": False,
        "pulmonary_dysfunction": False,
        "labs": {"inr": 1.0, "platelets": 220.0},
        "coagulopathy_uncorrectable": False,
        "allergies": [],
        "medications": [],
        "sedation_planned": False,
        "procedure_date": PROCEDURE_DATE.isoformat(),
        "bone_health": {"bmd_referral_documented": True},
    }


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def case_data(changes: dict[str, Any] | None = None, fracture: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the base case as JSON data with nested ``changes`` and changes to the first fracture."""
    data = base_case()
    _merge(data, copy.deepcopy(changes or {}))
    if fracture:
        _merge(data["fractures"][0], copy.deepcopy(fracture))
    return data


def make_case(changes: dict[str, Any] | None = None, fracture: dict[str, Any] | None = None) -> Case:
    """Return the base case, validated, with the given changes (JSON-mode, strict)."""
    import json

    return Case.model_validate_json(json.dumps(case_data(changes, fracture)))


def assessed(
    changes: dict[str, Any] | None = None,
    fracture: dict[str, Any] | None = None,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> Assessment:
    """Return the assessment of the base case with the given changes, as of AS_OF."""
    return assess(make_case(changes, fracture), policy, AS_OF)


def rule_ids(assessment: Assessment, profile: str) -> set[str]:
    """Return the ids of the rules a profile applied."""
    return {r.rule.id for r in assessment.profiles[profile].reasons}


def category(assessment: Assessment, profile: str) -> str:
    """Return a profile's category as a string."""
    return assessment.profiles[profile].category.value
