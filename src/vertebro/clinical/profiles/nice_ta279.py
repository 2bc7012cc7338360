"""NICE Technology Appraisal TA279 (2013): vertebroplasty and balloon kyphoplasty (without stenting).

Recommendation 1.1: an option for osteoporotic vertebral compression fractures only in people who
have severe ongoing pain after a recent, unhealed vertebral fracture despite optimal pain management,
and in whom the pain has been confirmed to be at the level of the fracture by physical examination
and imaging. TA279 lists no contraindications; the general screen applies.
"""

from __future__ import annotations

from vertebro.clinical import contraindications as ci
from vertebro.clinical.findings import Disease
from vertebro.clinical.profiles.candidacy import apply_candidacy
from vertebro.clinical.profiles.common import apply_scope
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.verdicts import Category, Effect, ProfileVerdict, VerdictBuilder

PROFILE_ID = "nice-ta279"
TITLE = "NICE TA279: vertebroplasty and balloon kyphoplasty for osteoporotic VCF (2013)"
LABELS = {
    Category.APPROPRIATE: "Recommended option (TA279 1.1 criteria met)",
    Category.UNCERTAIN: "TA279 criteria not yet established",
    Category.NOT_APPROPRIATE: "Not recommended under TA279",
    Category.CONTRAINDICATED: "Contraindicated (general contraindication screen)",
}
OUT_OF_SCOPE = "Outside the scope of TA279 (osteoporotic fractures only)"

R_SCOPE = rule(
    "nice.scope_osteoporotic",
    "TA279 covers osteoporotic vertebral compression fractures only (not malignant, not traumatic in normal bone).",
    "nice-ta279",
)
R_SEVERE = rule(
    "nice.severe_ongoing_pain",
    "Severe ongoing pain is required; TA279 gives no number, vertebro reads 'severe' as NRS 7 or more (configurable).",
    "nice-ta279",
    "serlin-1995",
)
R_UNHEALED = rule(
    "nice.recent_unhealed",
    "The fracture must be recent and unhealed; vertebro reads 'unhealed' as imaging evidence of "
    "acuity (MRI oedema or bone-scan uptake), not a day count (the 2012 draft's 6 weeks was dropped).",
    "nice-ta279",
)
R_OPTIMAL = rule(
    "nice.optimal_pain_management",
    "The pain persists despite optimal pain management.",
    "nice-ta279",
)
R_LEVEL = rule(
    "nice.level_confirmed",
    "The pain has been confirmed to be at the level of the fracture by physical examination and imaging.",
    "nice-ta279",
)
R_MDT = rule(
    "nice.mdt",
    "The decision is taken after discussion in a specialist multidisciplinary team (IPG12, IPG166).",
    "nice-ta279",
)


def evaluate(ctx: Context) -> ProfileVerdict:
    """Return the NICE TA279 verdict: all four criteria of recommendation 1.1 must hold."""
    b = VerdictBuilder(PROFILE_ID, TITLE)
    case, findings, policy = ctx.case, ctx.findings, ctx.policy
    apply_scope(b, ctx)
    apply_candidacy(b, ctx)
    scope_label = None
    if findings.disease is not Disease.FRAGILITY:
        b.cap(
            Category.UNCERTAIN,
            R_SCOPE,
            Effect.NOTE,
            f"fracture cause: {findings.disease.value}",
        )
        scope_label = OUT_OF_SCOPE

    nrs = case.pain.nrs
    if nrs >= policy.nice_severe_pain_nrs:
        b.note(R_SEVERE, Effect.SUPPORTS, f"NRS {nrs}")
    else:
        b.cap(
            Category.NOT_APPROPRIATE,
            R_SEVERE,
            Effect.AGAINST,
            f"NRS {nrs} is below {policy.nice_severe_pain_nrs}",
        )

    if findings.targets and not findings.acuity_pending:
        b.note(
            R_UNHEALED,
            Effect.SUPPORTS,
            "unhealed on imaging: " + ", ".join(findings.target_levels),
        )
    elif findings.acuity_pending:
        b.need(
            R_UNHEALED,
            "MRI (oedema) or bone scan (uptake) showing the fracture is unhealed",
        )

    optimal = case.conservative_care.optimal
    if optimal is True:
        b.note(R_OPTIMAL, Effect.SUPPORTS, "optimal pain management recorded")
    elif optimal is False:
        b.cap(
            Category.NOT_APPROPRIATE,
            R_OPTIMAL,
            Effect.AGAINST,
            "pain management not yet optimal",
        )
    else:
        b.need(R_OPTIMAL, "whether pain management has been optimal")

    if case.pain.concordant_with_fracture is True:
        b.note(R_LEVEL, Effect.SUPPORTS, "pain confirmed at the fracture level")
    elif case.pain.concordant_with_fracture is None:
        b.need(
            R_LEVEL,
            "examination and imaging confirming the pain is at the fracture level",
        )

    b.note(R_MDT, Effect.NOTE, "record the multidisciplinary team decision")
    ci.apply(b, ctx.contraindications)
    return b.verdict(LABELS, scope_label)
