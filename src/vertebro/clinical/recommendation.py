"""The recommendation: what to do next, for which levels, in how many sessions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.facts import Case
from vertebro.clinical.findings import (
    R_LEVEL_SCOPE,
    R_SECONDARY_CAUSE,
    R_TARGET_LEVELS,
    CaseFindings,
    Disease,
    out_of_scope_text,
    secondary_cause_suspected,
)
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.rules import Rule, rule
from vertebro.clinical.safety_facts import unrecorded
from vertebro.clinical.verdicts import Category, ProfileVerdict

R_INFECTION_FIRST = rule(
    "recommendation.infection_workup",
    "Fever or a recorded active infection: infection work-up before any augmentation (active "
    "infection is an absolute contraindication).",
    "cms-lcd-pva",
    "acr-vcf-2018",
)
R_SURGICAL = rule(
    "recommendation.surgical_referral",
    "Neurological deficit, canal compromise, instability, high-energy trauma, or only levels outside the "
    "treatable range (cervical, sacral): surgical or specialist referral.",
    "cms-lcd-pva",
    "nass-auc-neoplastic",
    "hirsch-2018",
)
R_RADONC = rule(
    "recommendation.radiation_oncology",
    "Pathological (metastasis, myeloma) fracture: radiation-oncology consultation, with or without augmentation.",
    "acr-vcf-2022",
    "nass-auc-neoplastic",
)
R_PREGNANCY = rule(
    "recommendation.pregnancy",
    "Pregnancy: no augmentation under fluoroscopy; conservative care until after delivery.",
    "acr-vcf-2018",
    "cms-lcd-pva",
)
R_IMAGING_FIRST = rule(
    "recommendation.imaging_first",
    "No imaging yet shows whether the fracture is unhealed: MRI (STIR) first, or bone scan / "
    "SPECT-CT when MRI is not possible; not when the default profile already rules augmentation out "
    "(an asymptomatic fracture or mild pain leads to medical management).",
    "acr-vcf-2018",
    "hirsch-2018",
)
R_RECORD_FIRST = rule(
    "recommendation.record_safety_facts",
    "While a fact that can contraindicate augmentation is not recorded (pregnancy status where it "
    "applies, fever, infection, cancer history, neurological deficit, coagulopathy, allergies, the "
    "medication list, inpatient status, acuity imaging of each level), the next step is to record it, "
    "not an augmentation.",
    "cms-lcd-pva",
    "acr-vcf-2018",
    "local-policy",
)
R_DEFAULT_PROFILE = rule(
    "recommendation.default_profile",
    "Augmentation is recommended when the clinic's default profile rates it appropriate; 'uncertain' "
    "means conservative care and a multidisciplinary review; otherwise conservative care.",
    "local-policy",
    "nice-ta279",
)
R_KYPHOPLASTY = rule(
    "recommendation.kyphoplasty",
    "Kyphoplasty is preferred when restoring height or reducing kyphosis is a goal (kyphotic "
    "deformity, progressive collapse, height loss over 40 %, pulmonary dysfunction) or when leak "
    "risk is high (posterior-wall defect, intravertebral cleft); vertebroplasty otherwise (pain relief, "
    "cost, speed).",
    "vp-kp-choice-synthesis",
    "european-rand-2013",
    "papanastassiou-2012",
    "leak-meta-2017",
)
R_SESSIONS = rule(
    "recommendation.sessions",
    "At most 3 levels per session; more levels are staged into further sessions.",
    "cms-lcd-pva",
    "levels-pce-2021",
)
R_BONE_HEALTH_REFERRAL = rule(
    "recommendation.bone_health",
    "Every fragility fracture leads to a bone-health (bone-density and osteoporosis treatment) referral.",
    "cms-lcd-pva",
    "hirsch-2018",
)


class Treatment(StrEnum):
    """What vertebro recommends as the next step."""

    VERTEBROPLASTY = "vertebroplasty"
    KYPHOPLASTY = "kyphoplasty"
    CONSERVATIVE_CARE = "conservative_care"
    IMAGING_FIRST = "imaging_first"
    SURGICAL_REFERRAL = "surgical_referral"
    INFECTION_WORKUP = "infection_workup"
    RADIATION_ONCOLOGY_CONSULT = "radiation_oncology_consult"
    RECORD_SAFETY_FACTS = "record_safety_facts"


AUGMENTATION = (Treatment.VERTEBROPLASTY, Treatment.KYPHOPLASTY)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The next step, the levels it concerns and, for augmentation, the sessions."""

    treatment: Treatment
    default_profile: str
    levels: tuple[str, ...]
    sessions: tuple[tuple[str, ...], ...]
    also: tuple[str, ...]
    mdt_review: bool
    why: tuple[tuple[Rule, str], ...]


def sessions_of(levels: tuple[str, ...], max_per_session: int) -> tuple[tuple[str, ...], ...]:
    """Split levels (in spinal order) into consecutive sessions of at most ``max_per_session``."""
    if max_per_session < 1:
        raise ValueError("max_per_session must be at least 1")
    return tuple(levels[i : i + max_per_session] for i in range(0, len(levels), max_per_session))


def _augmentation_kind(case: Case, findings: CaseFindings) -> tuple[Treatment, str]:
    reasons: list[str] = []
    for f in findings.targets:
        fr = f.fracture
        if fr.kyphotic_deformity:
            reasons.append(f"kyphotic deformity at {f.level}")
        if fr.height_loss_progressing:
            reasons.append(f"progressive collapse at {f.level}")
        loss = f.height_loss_percent
        if loss is not None and loss > 40.0:
            reasons.append(f"height loss {loss:g} % at {f.level}")
        if fr.posterior_wall_intact is False:
            reasons.append(f"posterior-wall defect at {f.level}")
        if fr.intravertebral_cleft:
            reasons.append(f"intravertebral cleft (leak risk) at {f.level}")
    if case.pulmonary_dysfunction:
        reasons.append("pulmonary dysfunction")
    if reasons:
        return Treatment.KYPHOPLASTY, "; ".join(reasons)
    return (
        Treatment.VERTEBROPLASTY,
        "pain relief is the goal; no height-restoration or leak-risk indication",
    )


def recommend(case: Case, findings: CaseFindings, default: ProfileVerdict, policy: ClinicPolicy) -> Recommendation:
    """Return the recommended next step, following the clinic's default profile's verdict."""
    levels = findings.target_levels
    also: list[str] = []
    why: list[tuple[Rule, str]] = []
    if findings.disease in (Disease.FRAGILITY, Disease.UNKNOWN):
        also.append("bone_health_referral")
        why.append((R_BONE_HEALTH_REFERRAL, "fragility fracture"))
    secondary = secondary_cause_suspected(case, findings, policy)
    if secondary is not None:
        also.append("secondary_cause_workup")
        why.append((R_SECONDARY_CAUSE, secondary))
    outside = out_of_scope_text(findings, policy)
    in_range = bool(findings.targets or findings.healed)
    if outside is not None and in_range:
        also.append("specialist_referral")
        why.append((R_LEVEL_SCOPE, f"{outside}: refer to a spine surgeon or specialist"))
    waiting = [f.level for f in findings.awaiting_imaging]
    if waiting:
        also.append("imaging_of_untreated_levels")
        why.append((R_TARGET_LEVELS, "MRI needed at " + ", ".join(waiting) + " before it can be treated"))

    def result(treatment: Treatment, mdt: bool = False) -> Recommendation:
        sessions = sessions_of(levels, policy.max_levels_per_session) if treatment in AUGMENTATION else ()
        if len(sessions) > 1:
            why.append(
                (
                    R_SESSIONS,
                    f"{len(levels)} levels staged into {len(sessions)} sessions",
                )
            )
        return Recommendation(treatment, default.profile, levels, sessions, tuple(also), mdt, tuple(why))

    neoplastic = findings.disease is Disease.NEOPLASTIC
    if case.red_flags.active_infection or case.red_flags.fever:
        why.append(
            (
                R_INFECTION_FIRST,
                "active infection" if case.red_flags.active_infection else "fever",
            )
        )
        return result(Treatment.INFECTION_WORKUP)
    surgical = [
        text
        for text, present in (
            ("high-energy trauma", findings.disease is Disease.HIGH_ENERGY_TRAUMA),
            ("neurological deficit", case.neurological_deficit is True),
            (
                "canal compromise",
                any(f.fracture.canal_compromise for f in findings.targets),
            ),
            ("instability", any(f.fracture.unstable for f in findings.targets)),
            (f"levels outside the treatable range: {outside}", outside is not None and not in_range),
        )
        if present
    ]
    if surgical:
        why.append((R_SURGICAL, ", ".join(surgical)))
        return result(Treatment.SURGICAL_REFERRAL)
    if neoplastic:
        why.append((R_RADONC, "pathological fracture"))
        if default.category is not Category.APPROPRIATE:
            return result(Treatment.RADIATION_ONCOLOGY_CONSULT)
        also.append("radiation_oncology_consult")
    if case.patient.pregnant:
        why.append((R_PREGNANCY, "patient is pregnant"))
        return result(Treatment.CONSERVATIVE_CARE)
    gaps = unrecorded(case, policy)
    if any(g.kind != "imaging" for g in gaps):
        why.append((R_RECORD_FIRST, "record first: " + "; ".join(g.label for g in gaps)))
        return result(Treatment.RECORD_SAFETY_FACTS)
    ruled_out = default.category in (Category.NOT_APPROPRIATE, Category.CONTRAINDICATED)
    if findings.acuity_pending and not ruled_out:
        why.append((R_IMAGING_FIRST, "acuity not imaged at " + ", ".join(levels)))
        return result(Treatment.IMAGING_FIRST)
    if gaps and not ruled_out:  # a level not imaged next to an unhealed one: image it before deciding the session
        unimaged = [g.path.split(".")[1] for g in gaps]
        why.append((R_IMAGING_FIRST, "acuity not imaged at " + ", ".join(unimaged)))
        return result(Treatment.IMAGING_FIRST)
    if default.category is Category.APPROPRIATE and levels:
        kind, text = _augmentation_kind(case, findings)
        why.append((R_DEFAULT_PROFILE, f"{default.profile}: {default.label}"))
        why.append((R_KYPHOPLASTY, text))
        return result(kind)
    why.append((R_DEFAULT_PROFILE, f"{default.profile}: {default.label}"))
    return result(Treatment.CONSERVATIVE_CARE, mdt=default.category is Category.UNCERTAIN)
