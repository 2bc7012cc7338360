"""The whole assessment of one case: every profile's verdict, the recommendation and the plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vertebro.clinical import contraindications
from vertebro.clinical import dose as _dose  # noqa: F401  (its radiation dose rules belong to the ruleset)
from vertebro.clinical import news2 as _news2  # noqa: F401  (its monitoring rules belong to the ruleset)
from vertebro.clinical.clock import shifted, zone_of
from vertebro.clinical.facts import Case
from vertebro.clinical.findings import (
    CaseFindings,
    Disease,
    FractureFinding,
    case_findings,
)
from vertebro.clinical.medications import medication_holds
from vertebro.clinical.outcomes import OutcomeTargets, outcome_targets
from vertebro.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from vertebro.clinical.preparation import Preparation, preparation_plan
from vertebro.clinical.procedure import ProcedurePlan, procedure_plan, room_minutes
from vertebro.clinical.profiles import INDICATION_PROFILES, PROFILES, Context
from vertebro.clinical.recommendation import Recommendation, recommend, sessions_of
from vertebro.clinical.recovery import RecoveryPlan, recovery_plan
from vertebro.clinical.rules import ruleset_version
from vertebro.clinical.safety_facts import SafetyFact, unrecorded
from vertebro.clinical.verdicts import Category, ProfileVerdict


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Where the indication profiles do not agree: which profile says what."""

    categories: dict[str, Category]
    summary: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything vertebro concludes about one case, with the ruleset that concluded it."""

    ruleset_version: str
    as_of: dt.date
    findings: CaseFindings
    profiles: dict[str, ProfileVerdict]
    disagreement: Disagreement | None
    recommendation: Recommendation
    preparation: Preparation
    procedure: ProcedurePlan
    recovery: RecoveryPlan
    outcome_targets: OutcomeTargets
    unrecorded: tuple[SafetyFact, ...] = ()  # safety facts not recorded (rule general.safety_facts_recorded)

    @property
    def fractures(self) -> tuple[FractureFinding, ...]:
        """Per-fracture findings in spinal order."""
        return self.findings.fractures

    @property
    def default_verdict(self) -> ProfileVerdict:
        """The verdict of the clinic's default profile."""
        return self.profiles[self.recommendation.default_profile]


_RULESET_VERSION: list[str] = []


def current_ruleset_version() -> str:
    """Return the version of the loaded ruleset (computed once, after every rule is registered)."""
    if not _RULESET_VERSION:
        _RULESET_VERSION.append(ruleset_version())
    return _RULESET_VERSION[0]


def disagreement(verdicts: dict[str, ProfileVerdict]) -> Disagreement | None:
    """Return how the indication profiles disagree, or None when they give the same category."""
    categories = {p: verdicts[p].category for p in INDICATION_PROFILES}
    if len(set(categories.values())) <= 1:
        return None
    groups: dict[Category, list[str]] = {}
    for profile, category in categories.items():
        groups.setdefault(category, []).append(profile)
    summary = "; ".join(f"{c.value}: {', '.join(ps)}" for c, ps in groups.items())
    return Disagreement(categories, f"The guideline profiles disagree ({summary}).")


def assess(case: Case, policy: ClinicPolicy = DEFAULT_POLICY, as_of: dt.date | None = None) -> Assessment:
    """Return the full assessment of a case under every profile, with plans dated from the procedure.

    The plans count from the procedure's start (``procedure_date`` and ``procedure_time``) and its end: the
    recorded length once the procedure is signed (``procedure_minutes``), else the planned room time
    (procedure.room_time). ``as_of`` is the date the assessment is made (defaults to today in the clinic's
    zone, ``policy.time_zone``, never the server's); it decides whether holds can still be completed before
    the procedure date.
    """
    today = as_of or dt.datetime.now(zone_of(policy.time_zone)).date()
    findings = case_findings(case, policy, today)
    start = None
    if case.procedure_date is not None:
        start = dt.datetime.combine(case.procedure_date, case.procedure_time or policy.procedure_start)
    sessions = sessions_of(findings.target_levels, policy.max_levels_per_session)
    first_session_levels = len(sessions[0]) if sessions else 1
    # the end: the signed record's when the procedure was done (its recorded length), else the planned room time
    length = case.procedure_minutes or room_minutes(first_session_levels, policy)
    end = None if start is None else shifted(start, policy.time_zone, minutes=length)
    holds = medication_holds(case, policy, start, end)
    ctx = Context(
        case,
        findings,
        contraindications.present(case, findings, policy),
        holds,
        policy,
        today,
    )
    verdicts = {profile_id: evaluate(ctx) for profile_id, evaluate in PROFILES.items()}
    rec = recommend(case, findings, verdicts[policy.default_profile], policy)
    plan_sessions = rec.sessions or sessions
    return Assessment(
        ruleset_version=current_ruleset_version(),
        as_of=today,
        findings=findings,
        profiles=verdicts,
        disagreement=disagreement(verdicts),
        recommendation=rec,
        preparation=preparation_plan(case, findings, holds, start, policy),
        procedure=procedure_plan(plan_sessions, case.cement_product, case.room_temperature_c, policy),
        recovery=recovery_plan(
            first_session_levels,
            case.sedation_planned,
            end,
            findings.disease in (Disease.FRAGILITY, Disease.UNKNOWN),
            policy,
            case.procedure_date,
        ),
        outcome_targets=outcome_targets(case.pain.nrs, case.function.odi_percent, case.function.rdq),
        unrecorded=unrecorded(case, policy),
    )
