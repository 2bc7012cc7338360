"""North American Spine Society Appropriate Use Criteria: osteoporotic and neoplastic vertebral fractures.

Osteoporotic AUC: 144 scenarios, cement augmentation appropriate in 7 (4.9 %), uncertain in 51
(35.4 %), rarely appropriate in 86 (59.7 %). Only the published key findings are held, not the
scenario table, so vertebro reports 'uncertain' wherever a held finding does not decide.
Neoplastic AUC: augmentation appropriate without stenosis or neurological change, with a stable
fracture, < 80 % height loss, an intact posterior wall and VAS > 6; radiation always considered.
"""

from __future__ import annotations

from vertebro.clinical import contraindications as ci
from vertebro.clinical.contraindications import Contra, Severity
from vertebro.clinical.findings import AgeBand, Disease
from vertebro.clinical.profiles.candidacy import apply_candidacy
from vertebro.clinical.profiles.common import apply_scope
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.verdicts import Category, Effect, ProfileVerdict, VerdictBuilder

PROFILE_ID = "nass-auc"
TITLE = "NASS Appropriate Use Criteria: osteoporotic and neoplastic vertebral fractures"
LABELS = {
    Category.APPROPRIATE: "Appropriate (NASS AUC)",
    Category.UNCERTAIN: "Uncertain (NASS AUC)",
    Category.NOT_APPROPRIATE: "Rarely appropriate (NASS AUC)",
    Category.CONTRAINDICATED: "Contraindicated (general contraindication screen)",
}
OUT_OF_SCOPE = "Outside the NASS AUC (osteoporotic and neoplastic fractures only)"
TABLE_NOT_HELD = "Uncertain (NASS AUC scenario table not held: verify the scenario)"

R_OSTEO_CHRONIC = rule(
    "nass.osteoporotic_chronic_low_pain",
    "Osteoporotic AUC: a chronic fracture with VAS 6 or less is rarely appropriate for cement "
    "augmentation (100 % of such scenarios). vertebro applies it to the candidate levels or, when imaging "
    "shows every level healed, to the healed levels (a healed level without a recorded onset is read as "
    "chronic).",
    "nass-auc-osteoporotic",
)
R_OSTEO_STENOSIS = rule(
    "nass.osteoporotic_stenosis_neuro",
    "Osteoporotic AUC: stenosis with neurological change makes surgery the appropriate treatment.",
    "nass-auc-osteoporotic",
)
R_OSTEO_TABLE = rule(
    "nass.osteoporotic_scenarios",
    "Osteoporotic AUC: only 4.9 % of scenarios rate augmentation appropriate (duration, pain, "
    "function and stenosis decide); without the scenario table vertebro reports 'uncertain'.",
    "nass-auc-osteoporotic",
)
R_NEO_APPROPRIATE = rule(
    "nass.neoplastic_criteria",
    "Neoplastic AUC: augmentation is appropriate with no stenosis or neurological change, a stable "
    "fracture, < 80 % height loss, an intact posterior wall and VAS > 6.",
    "nass-auc-neoplastic",
)
R_NEO_SURGERY = rule(
    "nass.neoplastic_surgery",
    "Neoplastic AUC: neurological deficit, severe stenosis or instability point to surgery.",
    "nass-auc-neoplastic",
)
R_NEO_RADIATION = rule(
    "nass.neoplastic_radiation",
    "Neoplastic AUC: radiation is considered in every scenario (all radiosensitive scenarios appropriate).",
    "nass-auc-neoplastic",
)
R_SCOPE = rule(
    "nass.scope",
    "The NASS AUC cover osteoporotic and neoplastic vertebral fractures.",
    "nass-auc-osteoporotic",
    "nass-auc-neoplastic",
)

NEOPLASTIC_CONTRAINDICATIONS = {
    Contra.NEUROLOGICAL_DEFICIT: (Severity.EXCLUDING, R_NEO_SURGERY),
    Contra.CANAL_COMPROMISE: (Severity.EXCLUDING, R_NEO_SURGERY),
    Contra.INSTABILITY: (Severity.EXCLUDING, R_NEO_SURGERY),
    Contra.VERTEBRA_PLANA: (Severity.ADDRESSED, R_NEO_APPROPRIATE),
    Contra.POSTERIOR_WALL_DEFECT: (Severity.ADDRESSED, R_NEO_APPROPRIATE),
}


def evaluate(ctx: Context) -> ProfileVerdict:
    """Return the NASS AUC verdict for an osteoporotic or a neoplastic fracture."""
    b = VerdictBuilder(PROFILE_ID, TITLE)
    apply_scope(b, ctx, healed_excludes=False)
    apply_candidacy(b, ctx)
    disease = ctx.findings.disease
    if disease is Disease.NEOPLASTIC:
        _neoplastic(b, ctx)
        ci.apply(b, ctx.contraindications, NEOPLASTIC_CONTRAINDICATIONS)
        return b.verdict(LABELS)
    if disease is not Disease.FRAGILITY:
        b.cap(Category.UNCERTAIN, R_SCOPE, Effect.NOTE, f"fracture cause: {disease.value}")
        ci.apply(b, ctx.contraindications)
        return b.verdict(LABELS, OUT_OF_SCOPE)

    case = ctx.case
    chronic = chronic_levels(ctx)
    if chronic and case.pain.nrs <= 6:
        b.cap(
            Category.NOT_APPROPRIATE,
            R_OSTEO_CHRONIC,
            Effect.AGAINST,
            f"chronic fracture ({', '.join(chronic)}) with NRS {case.pain.nrs}",
        )
    if case.neurological_deficit and ctx.any_target("canal_compromise"):
        b.cap(
            Category.NOT_APPROPRIATE,
            R_OSTEO_STENOSIS,
            Effect.AGAINST,
            "canal compromise with neurological deficit",
        )
    b.cap(Category.UNCERTAIN, R_OSTEO_TABLE, Effect.NOTE, "scenario table not held")
    ci.apply(b, ctx.contraindications)
    return b.verdict(LABELS, TABLE_NOT_HELD)


def chronic_levels(ctx: Context) -> list[str]:
    """Return the chronic levels the osteoporotic rule looks at (nass.osteoporotic_chronic_low_pain).

    The candidate levels, or the healed levels when imaging shows every level healed; a healed level
    whose onset is not recorded counts as chronic.
    """
    considered = ctx.findings.targets or ctx.findings.healed
    return [
        f.level
        for f in considered
        if f.age_band is AgeBand.CHRONIC or (f.age_band is None and f.imaging_acute is False)
    ]


def _neoplastic(b: VerdictBuilder, ctx: Context) -> None:
    case = ctx.case
    b.note(R_NEO_RADIATION, Effect.NOTE, "radiation-oncology consultation")
    if case.pain.nrs > 6:
        b.note(R_NEO_APPROPRIATE, Effect.SUPPORTS, f"NRS {case.pain.nrs} > 6")
    else:
        b.cap(
            Category.UNCERTAIN,
            R_NEO_APPROPRIATE,
            Effect.CAUTION,
            f"NRS {case.pain.nrs} is not above 6",
        )
    loss = ctx.max_height_loss()
    if loss is not None and loss >= 80.0:
        b.cap(
            Category.UNCERTAIN,
            R_NEO_APPROPRIATE,
            Effect.CAUTION,
            f"height loss {loss:g} % (80 % or more)",
        )
    unknown = ctx.targets_without("height_loss_percent")
    if loss is None:
        b.need(R_NEO_APPROPRIATE, "percent height loss")
    elif unknown:
        # every treated level must be under 80 %: a known loss at one level says nothing of another
        b.need(R_NEO_APPROPRIATE, f"percent height loss at {', '.join(unknown)}")
    wall = [f.fracture.posterior_wall_intact for f in ctx.findings.targets]
    if any(w is False for w in wall):
        b.cap(
            Category.UNCERTAIN,
            R_NEO_APPROPRIATE,
            Effect.CAUTION,
            "posterior wall not intact",
        )
    elif any(w is None for w in wall):
        b.need(R_NEO_APPROPRIATE, "posterior wall integrity")
    if ctx.any_target("unstable") is None:
        b.need(R_NEO_APPROPRIATE, "fracture stability")
    if ctx.any_target("canal_compromise") is None:
        b.need(R_NEO_APPROPRIATE, "whether there is canal stenosis (canal compromise)")
    if case.neurological_deficit is None:
        b.need(R_NEO_APPROPRIATE, "neurological examination")
