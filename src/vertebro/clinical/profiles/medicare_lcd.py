"""US Medicare LCDs for percutaneous vertebral augmentation (L33569 family).

Covered when all hold: an acute or subacute fracture documented by imaging; pain NRS >= 8 in a
hospitalised patient, or >= 5 despite optimal non-surgical management otherwise; for outpatients
whose pain is not worsening, at least two of height loss > 25 %, kyphotic deformity, RDQ > 17; pain
primarily from the fracture; bone-density referral documented. Several LCDs also cover osteolytic
metastasis and myeloma. The exact text varies by contractor: these rules come from summaries.
"""

from __future__ import annotations

from vertebro.clinical import contraindications as ci
from vertebro.clinical.contraindications import Contra, Severity
from vertebro.clinical.findings import Disease
from vertebro.clinical.profiles.candidacy import apply_candidacy
from vertebro.clinical.profiles.common import apply_scope
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.verdicts import Category, Effect, ProfileVerdict, VerdictBuilder

PROFILE_ID = "medicare-lcd"
TITLE = "Medicare LCD L33569 family: percutaneous vertebral augmentation"
LABELS = {
    Category.APPROPRIATE: "Meets LCD coverage criteria",
    Category.UNCERTAIN: "LCD criteria not yet established (documentation or judgement needed)",
    Category.NOT_APPROPRIATE: "Does not meet LCD coverage criteria",
    Category.CONTRAINDICATED: "LCD absolute contraindication",
}
OUT_OF_SCOPE = "Not addressed by the LCD (covered indications: osteoporotic VCF, osteolytic metastasis, myeloma)"

R_IMAGING = rule(
    "lcd.imaging_acute",
    "An acute or subacute fracture is documented by imaging (MRI, or bone scan / SPECT-CT).",
    "cms-lcd-pva",
)
R_PAIN_INPATIENT = rule(
    "lcd.pain_hospitalized",
    "Hospitalised patients: pain NRS/VAS 8 or more.",
    "cms-lcd-pva",
)
R_PAIN_OUTPATIENT = rule(
    "lcd.pain_outpatient",
    "Non-hospitalised patients: pain NRS/VAS 5 or more despite optimal non-surgical management.",
    "cms-lcd-pva",
)
R_ADD_ONS = rule(
    "lcd.worsening_or_two_addons",
    "Non-hospitalised patients: worsening pain, or persistent pain with at least 2 of: height loss "
    "> 25 %, kyphotic deformity, RDQ > 17.",
    "cms-lcd-pva",
)
R_PRIMARY = rule(
    "lcd.pain_primarily_from_fracture",
    "The pain is primarily due to the identified fracture.",
    "cms-lcd-pva",
)
R_BMD = rule(
    "lcd.bmd_referral",
    "Continuum of care: referral for bone-density evaluation and osteoporosis education or treatment is documented.",
    "cms-lcd-pva",
)
R_MALIGNANT = rule(
    "lcd.malignant",
    "Several LCDs (L38737, L38201, L34976, L38213) also cover osteolytic metastasis or myeloma with "
    "pain unresponsive to medical therapy.",
    "cms-lcd-pva",
)
R_UNKNOWN_CAUSE = rule(
    "lcd.cause_established",
    "Coverage is for an identified osteoporotic or malignant fracture; an unestablished cause "
    "leaves the criteria unmet until it is established.",
    "cms-lcd-pva",
)
R_PREGNANCY_CONFLICT = rule(
    "lcd.pregnancy",
    "Most LCDs list pregnancy as an absolute contraindication; L38213 lists it as relative "
    "(CONFLICT: vertebro applies the stricter reading).",
    "cms-lcd-pva",
    "cms-lcd-l38213",
)
R_ABSOLUTE = rule(
    "lcd.absolute_contraindications",
    "Absolute contraindications: pain not primarily from the fracture; active infection "
    "(osteomyelitis, discitis, surgical site).",
    "cms-lcd-pva",
)
R_RELATIVE = rule(
    "lcd.relative_contraindications",
    "Relative contraindications: allergy to bone cement or contrast, uncorrected coagulopathy, "
    "instability, myelopathy or neurological deficit, retropulsion or canal compromise, more than 3 "
    "levels per procedure.",
    "cms-lcd-pva",
)

OWN_CONTRAINDICATIONS = {
    Contra.PAIN_NOT_FROM_FRACTURE: (Severity.ABSOLUTE, R_ABSOLUTE),
    Contra.ACTIVE_INFECTION: (Severity.ABSOLUTE, R_ABSOLUTE),
    Contra.PREGNANCY: (Severity.ABSOLUTE, R_PREGNANCY_CONFLICT),
    Contra.CEMENT_ALLERGY: (Severity.RELATIVE, R_RELATIVE),
    Contra.CONTRAST_ALLERGY: (Severity.RELATIVE, R_RELATIVE),
    Contra.UNCORRECTABLE_COAGULOPATHY: (Severity.RELATIVE, R_RELATIVE),
    Contra.INSTABILITY: (Severity.RELATIVE, R_RELATIVE),
    Contra.NEUROLOGICAL_DEFICIT: (Severity.RELATIVE, R_RELATIVE),
    Contra.RETROPULSION: (Severity.RELATIVE, R_RELATIVE),
    Contra.CANAL_COMPROMISE: (Severity.RELATIVE, R_RELATIVE),
    Contra.TOO_MANY_LEVELS: (Severity.RELATIVE, R_RELATIVE),
}


def _add_ons(ctx: Context) -> tuple[list[str], list[str]]:
    """Return (met, unknown) among the three structural/functional add-on criteria."""
    met: list[str] = []
    unknown: list[str] = []
    loss = ctx.max_height_loss()
    if loss is None:
        unknown.append("percent height loss")
    elif loss > 25.0:
        met.append(f"height loss {loss:g} %")
    kyphosis = ctx.any_target("kyphotic_deformity")
    if kyphosis is None:
        unknown.append("kyphotic deformity")
    elif kyphosis:
        met.append("kyphotic deformity")
    rdq = ctx.case.function.rdq
    if rdq is None:
        unknown.append("RDQ score")
    elif rdq > 17:
        met.append(f"RDQ {rdq}")
    return met, unknown


def evaluate(ctx: Context) -> ProfileVerdict:
    """Return the Medicare LCD coverage verdict."""
    b = VerdictBuilder(PROFILE_ID, TITLE)
    case, findings = ctx.case, ctx.findings
    apply_scope(b, ctx)
    apply_candidacy(b, ctx)
    scope_label = None
    disease = findings.disease
    if disease is Disease.NEOPLASTIC:
        b.note(
            R_MALIGNANT,
            Effect.NOTE,
            "osteolytic metastasis or myeloma: covered by several LCDs",
        )
    elif disease is Disease.HEMANGIOMA:
        b.cap(Category.UNCERTAIN, R_MALIGNANT, Effect.NOTE, "haemangioma")
        scope_label = OUT_OF_SCOPE
    elif disease is Disease.UNKNOWN:
        b.cap(Category.UNCERTAIN, R_UNKNOWN_CAUSE, Effect.CAUTION, "cause not established")

    if findings.targets and not findings.acuity_pending:
        b.note(
            R_IMAGING,
            Effect.SUPPORTS,
            "acute or subacute on imaging: " + ", ".join(findings.target_levels),
        )
    elif findings.acuity_pending:
        b.need(R_IMAGING, "MRI or bone scan documenting an acute or subacute fracture")

    nrs = case.pain.nrs
    if case.patient.hospitalized:
        if nrs >= 8:
            b.note(R_PAIN_INPATIENT, Effect.SUPPORTS, f"hospitalised, NRS {nrs}")
        else:
            b.cap(
                Category.NOT_APPROPRIATE,
                R_PAIN_INPATIENT,
                Effect.AGAINST,
                f"hospitalised, NRS {nrs} < 8",
            )
    else:
        if nrs >= 5:
            b.note(R_PAIN_OUTPATIENT, Effect.SUPPORTS, f"NRS {nrs}")
        else:
            b.cap(
                Category.NOT_APPROPRIATE,
                R_PAIN_OUTPATIENT,
                Effect.AGAINST,
                f"NRS {nrs} < 5",
            )
        optimal = case.conservative_care.optimal
        if optimal is False:
            b.cap(
                Category.NOT_APPROPRIATE,
                R_PAIN_OUTPATIENT,
                Effect.AGAINST,
                "non-surgical management not yet optimal",
            )
        elif optimal is None:
            b.need(R_PAIN_OUTPATIENT, "optimal non-surgical management documented")
        if disease is not Disease.NEOPLASTIC:
            _outpatient_add_ons(b, ctx)

    if case.pain.concordant_with_fracture is True:
        b.note(R_PRIMARY, Effect.SUPPORTS, "pain attributed to the fracture")
    elif case.pain.concordant_with_fracture is None:
        b.need(R_PRIMARY, "documentation that the pain is primarily from the fracture")

    if case.bone_health.bmd_referral_documented is True:
        b.note(R_BMD, Effect.SUPPORTS, "bone-density referral documented")
    else:
        b.need(R_BMD, "bone-density referral and osteoporosis treatment plan documented")

    ci.apply(b, ctx.contraindications, OWN_CONTRAINDICATIONS)
    return b.verdict(LABELS, scope_label)


def _outpatient_add_ons(b: VerdictBuilder, ctx: Context) -> None:
    if ctx.case.pain.trend == "worsening":
        b.note(R_ADD_ONS, Effect.SUPPORTS, "pain worsening")
        return
    met, unknown = _add_ons(ctx)
    if len(met) >= 2:
        b.note(R_ADD_ONS, Effect.SUPPORTS, "; ".join(met))
    elif ctx.case.pain.trend is None or len(met) + len(unknown) >= 2:
        if ctx.case.pain.trend is None:
            unknown.insert(0, "pain trend (worsening or not)")
        b.need(R_ADD_ONS, "worsening pain or 2 add-on criteria: " + ", ".join(unknown))
    else:
        met_text = "; ".join(met) if met else "none"
        b.cap(
            Category.NOT_APPROPRIATE,
            R_ADD_ONS,
            Effect.AGAINST,
            f"pain not worsening and add-ons met: {met_text}",
        )
