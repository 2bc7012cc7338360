"""ACR Appropriateness Criteria, Management of Vertebral Compression Fractures (2018 variants, 2022 update).

ACR rates vertebral augmentation (VA, vertebroplasty or kyphoplasty alike) per clinical variant:
usually appropriate (7-9), may be appropriate (4-6), usually not appropriate (1-3).
"""

from __future__ import annotations

from vertebro.clinical import contraindications as ci
from vertebro.clinical.contraindications import Contra, Severity
from vertebro.clinical.findings import Disease, secondary_cause_suspected
from vertebro.clinical.profiles.candidacy import apply_candidacy
from vertebro.clinical.profiles.common import apply_scope
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.verdicts import Category, Effect, ProfileVerdict, VerdictBuilder

PROFILE_ID = "acr"
TITLE = "ACR Appropriateness Criteria: Management of Vertebral Compression Fractures (2018, 2022)"
LABELS = {
    Category.APPROPRIATE: "Usually appropriate (ACR rating 7-9)",
    Category.UNCERTAIN: "May be appropriate (ACR rating 4-6)",
    Category.NOT_APPROPRIATE: "Usually not appropriate (ACR rating 1-3)",
    Category.CONTRAINDICATED: (
        "Contraindicated to VA (variant 3: medical management; surgical consultation may be appropriate)"
    ),
}

R_V1 = rule(
    "acr.v1_unknown_cause",
    "Variant 1: new symptomatic compression fracture, no known malignancy, cause not yet established: "
    "VA may be appropriate; MRI without contrast is usually appropriate.",
    "acr-vcf-2018",
)
R_V1_RADIOGRAPH = rule(
    "acr.v1_radiograph_only",
    "Variant 1: new symptomatic compression fracture identified on radiographs or CT (no MRI or bone scan "
    "yet), no known malignancy: VA may be appropriate; MRI of the area without IV contrast is usually "
    "appropriate first. Variant 2 (osteoporotic, with or without oedema on MRI) applies once MRI is done.",
    "acr-vcf-2018",
)
R_MILD_PAIN = rule(
    "acr.mild_pain",
    "ACR rates VA for painful (symptomatic) fractures and medical management only for asymptomatic "
    "ones, with no pain number; vertebro reads mild pain (NRS 1-4, the mild band of Serlin 1995; the "
    "multispecialty pathway enrols VAS 5 or more) as not meeting the symptomatic variants: VA usually not "
    "appropriate, medical management (VA is offered when pain is not relieved or significantly alters "
    "quality of life). Configurable.",
    "acr-vcf-2022",
    "serlin-1995",
    "multisociety-2014",
    "hirsch-2018",
)
R_V2 = rule(
    "acr.v2_osteoporotic",
    "Variant 2: osteoporotic fracture, with or without MRI oedema, no red flags, with or without "
    "deformity, worsening symptoms or pulmonary dysfunction: VA usually appropriate.",
    "acr-vcf-2018",
)
R_RED_FLAGS = rule(
    "acr.red_flags",
    "Variant 2 applies only without red flags (fever, infection, cancer history, or a low-energy fracture "
    "under 50, which needs a secondary-cause work-up); with red flags the "
    "cause must be established first (variant 1: VA may be appropriate).",
    "acr-vcf-2018",
)
R_V3 = rule(
    "acr.v3_contraindication",
    "Variant 3: painful osteoporotic fracture with a contraindication to VA (pregnancy, infection, "
    "coagulation disorder, fitness): medical management usually appropriate, VA not rated.",
    "acr-vcf-2018",
)
R_2022_OEDEMA = rule(
    "acr.2022_oedema_or_cleft",
    "2022: symptomatic osteoporotic fracture with bone-marrow oedema or an intravertebral cleft: "
    "VA usually appropriate.",
    "acr-vcf-2022",
)
R_2022_NO_OEDEMA = rule(
    "acr.2022_no_oedema_conflict",
    "2018 variant 2 rates VA usually appropriate with or without oedema, while the 2022 update rates "
    "it usually appropriate with oedema or a cleft; without either, vertebro reports 'may be "
    "appropriate' and shows the conflict.",
    "acr-vcf-2018",
    "acr-vcf-2022",
)
R_2022_WORSENING = rule(
    "acr.2022_worsening",
    "2022: benign fracture with worsening pain, progressive deformity or pulmonary dysfunction "
    "despite conservative care: VA usually appropriate.",
    "acr-vcf-2022",
)
R_2022_ASYMPTOMATIC = rule(
    "acr.2022_asymptomatic",
    "2022: asymptomatic (incidental) osteoporotic fracture: medical management only; VA not indicated.",
    "acr-vcf-2022",
)
R_2022_PATHOLOGICAL = rule(
    "acr.2022_pathological",
    "2022: painful pathological fracture with mechanical pain: radiation-oncology consultation usually "
    "appropriate; the VA rating for this variant was not captured in the reference (verify).",
    "acr-vcf-2022",
)
R_OUTSIDE = rule(
    "acr.outside_variants",
    "Haemangioma and other non-osteoporotic, non-malignant fractures are not among the ACR VCF "
    "variants held; vertebro reports 'may be appropriate' for a clinician to decide.",
    "acr-vcf-2018",
)
R_NEURO_SURGICAL = rule(
    "acr.neuro_surgical_consult",
    "The ACR variants held do not rate VA with a neurological deficit, canal compromise or "
    "instability; a surgical consultation is part of the work-up.",
    "acr-vcf-2018",
)

OWN_CONTRAINDICATIONS = {
    Contra.ACTIVE_INFECTION: (Severity.ABSOLUTE, R_V3),
    Contra.PREGNANCY: (Severity.ABSOLUTE, R_V3),
    Contra.UNCORRECTABLE_COAGULOPATHY: (Severity.ABSOLUTE, R_V3),
    Contra.PAIN_NOT_FROM_FRACTURE: (Severity.EXCLUDING, R_2022_ASYMPTOMATIC),
    Contra.NEUROLOGICAL_DEFICIT: (Severity.RELATIVE, R_NEURO_SURGICAL),
    Contra.CANAL_COMPROMISE: (Severity.RELATIVE, R_NEURO_SURGICAL),
    Contra.INSTABILITY: (Severity.RELATIVE, R_NEURO_SURGICAL),
}


def evaluate(ctx: Context) -> ProfileVerdict:
    """Return the ACR verdict: variant 1, 2 or 3 (2018) refined by the 2022 update."""
    b = VerdictBuilder(PROFILE_ID, TITLE)
    case, findings = ctx.case, ctx.findings
    apply_scope(b, ctx, healed_excludes=False)
    apply_candidacy(b, ctx)
    disease = findings.disease
    nrs = case.pain.nrs
    if 0 < nrs <= ctx.policy.mild_pain_max_nrs:
        b.cap(
            Category.NOT_APPROPRIATE,
            R_MILD_PAIN,
            Effect.AGAINST,
            f"mild pain (NRS {nrs}, {ctx.policy.mild_pain_max_nrs} or less): medical management",
        )

    if disease is Disease.NEOPLASTIC:
        b.cap(
            Category.UNCERTAIN,
            R_2022_PATHOLOGICAL,
            Effect.NOTE,
            "pathological fracture",
        )
    elif disease is Disease.HEMANGIOMA:
        b.cap(Category.UNCERTAIN, R_OUTSIDE, Effect.NOTE, "vertebral haemangioma")
    elif disease is Disease.UNKNOWN:
        b.cap(
            Category.UNCERTAIN,
            R_V1,
            Effect.CAUTION,
            "cause of the fracture not established",
        )
    elif disease is Disease.FRAGILITY:
        red = [
            name
            for name, present in (
                ("fever", case.red_flags.fever),
                ("cancer history", case.red_flags.cancer_history),
                (
                    f"low-energy fracture at age {case.patient.age}",
                    secondary_cause_suspected(case, findings, ctx.policy) is not None,
                ),
            )
            if present
        ]
        if red:
            b.cap(
                Category.UNCERTAIN,
                R_RED_FLAGS,
                Effect.CAUTION,
                "red flags: " + ", ".join(red),
            )
        elif None in (case.red_flags.fever, case.red_flags.cancer_history, case.red_flags.active_infection):
            b.note(R_V2, Effect.NOTE, "osteoporotic (fragility) fracture; red flags not all recorded")
        else:
            b.note(
                R_V2,
                Effect.SUPPORTS,
                "osteoporotic (fragility) fracture without red flags",
            )
        if findings.targets and all(f.imaging_acute is True for f in findings.targets):
            b.note(
                R_2022_OEDEMA,
                Effect.SUPPORTS,
                "oedema, cleft or uptake at " + ", ".join(findings.target_levels),
            )
        elif findings.acuity_pending:
            b.need(
                R_V1_RADIOGRAPH,
                "MRI without contrast (or bone scan) showing whether the fracture at "
                + ", ".join(findings.target_levels)
                + " is new",
            )
        elif not findings.targets and findings.healed:
            b.cap(
                Category.UNCERTAIN,
                R_2022_NO_OEDEMA,
                Effect.CAUTION,
                "imaging shows no oedema or cleft",
            )
        worsening = [
            text
            for text, present in (
                ("worsening pain", case.pain.trend == "worsening"),
                (
                    "progressive height loss",
                    ctx.any_target("height_loss_progressing") is True,
                ),
                ("pulmonary dysfunction", case.pulmonary_dysfunction is True),
            )
            if present
        ]
        if worsening:
            b.note(R_2022_WORSENING, Effect.SUPPORTS, ", ".join(worsening))

    ci.apply(b, ctx.contraindications, OWN_CONTRAINDICATIONS)
    return b.verdict(LABELS)
