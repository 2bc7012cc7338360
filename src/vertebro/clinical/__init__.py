"""The clinical core: pure functions on typed, immutable facts. No I/O, no database, no web."""

from vertebro.clinical.assessment import Assessment, assess, current_ruleset_version
from vertebro.clinical.facts import Case
from vertebro.clinical.feasibility import Feasibility, start_feasibility
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.clinical.serialize import assessment_json

__all__ = [
    "DEFAULT_POLICY",
    "Assessment",
    "Case",
    "ClinicPolicy",
    "Feasibility",
    "assess",
    "assessment_json",
    "current_ruleset_version",
    "start_feasibility",
]
