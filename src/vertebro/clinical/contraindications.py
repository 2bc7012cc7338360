"""Contraindications: which are present in a case, and the general screen every profile inherits.

A profile that lists a contraindication itself (the Medicare LCDs, ACR variant 3, the NASS neoplastic
criteria) applies its own severity; for the ones it does not address it inherits the general screen
below, so no profile can call an infected or uncorrectably coagulopathic patient a candidate.
A contraindication only ever lowers a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from vertebro.clinical.allergens import Allergen, matching
from vertebro.clinical.facts import Case
from vertebro.clinical.findings import CaseFindings
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.rules import Rule, rule
from vertebro.clinical.verdicts import Category, Effect, VerdictBuilder


class Contra(StrEnum):
    """A contraindication to vertebral augmentation that a case can carry."""

    PAIN_NOT_FROM_FRACTURE = "pain_not_from_fracture"
    ACTIVE_INFECTION = "active_infection"
    PREGNANCY = "pregnancy"
    UNCORRECTABLE_COAGULOPATHY = "uncorrectable_coagulopathy"
    CEMENT_ALLERGY = "cement_allergy"
    CONTRAST_ALLERGY = "contrast_allergy"
    NEUROLOGICAL_DEFICIT = "neurological_deficit"
    RETROPULSION = "retropulsion"
    CANAL_COMPROMISE = "canal_compromise"
    INSTABILITY = "instability"
    POSTERIOR_WALL_DEFECT = "posterior_wall_defect"
    VERTEBRA_PLANA = "vertebra_plana"
    TOO_MANY_LEVELS = "too_many_levels"
    STAGED_LEVELS = "staged_levels"
    IMPROVING = "improving_on_medical_therapy"


class Severity(StrEnum):
    """How a contraindication limits a profile's verdict."""

    ABSOLUTE = "absolute"  # -> contraindicated
    EXCLUDING = "excluding"  # -> not appropriate: outside the indication (e.g. surgery fits instead)
    RELATIVE = "relative"  # -> at best uncertain: a clinician must weigh it
    ADDRESSED = "addressed"  # the profile's own criteria already weigh this finding: noted only


CAP: dict[Severity, Category] = {
    Severity.ADDRESSED: Category.APPROPRIATE,
    Severity.ABSOLUTE: Category.CONTRAINDICATED,
    Severity.EXCLUDING: Category.NOT_APPROPRIATE,
    Severity.RELATIVE: Category.UNCERTAIN,
}

MAX_LEVELS_PER_PROCEDURE = 3

R_LEVELS = rule(
    "general.too_many_levels",
    "More than 3 vertebral levels in one procedure is a relative contraindication; when the clinic "
    "stages such cases into sessions of at most 3 levels, the caution is recorded instead.",
    "cms-lcd-pva",
    "levels-pce-2021",
)

GENERAL: dict[Contra, tuple[Severity, Rule]] = {
    Contra.PAIN_NOT_FROM_FRACTURE: (
        Severity.ABSOLUTE,
        rule(
            "general.pain_not_from_fracture",
            "Augmentation is contraindicated when the pain is not primarily due to the fracture "
            "(or the fracture is asymptomatic).",
            "cms-lcd-pva",
            "cirse-2017",
        ),
    ),
    Contra.ACTIVE_INFECTION: (
        Severity.ABSOLUTE,
        rule(
            "general.active_infection",
            "Active local or systemic infection (osteomyelitis, discitis, sepsis, infection at the "
            "access site) is an absolute contraindication.",
            "cms-lcd-pva",
            "hirsch-2018",
            "cirse-2017",
        ),
    ),
    Contra.PREGNANCY: (
        Severity.ABSOLUTE,
        rule(
            "general.pregnancy",
            "Pregnancy is a contraindication to augmentation under fluoroscopy.",
            "acr-vcf-2018",
            "cms-lcd-pva",
        ),
    ),
    Contra.UNCORRECTABLE_COAGULOPATHY: (
        Severity.ABSOLUTE,
        rule(
            "general.uncorrectable_coagulopathy",
            "An uncorrectable coagulopathy is an absolute contraindication.",
            "cirse-2017",
        ),
    ),
    Contra.CEMENT_ALLERGY: (
        Severity.ABSOLUTE,
        rule(
            "general.cement_allergy",
            "Allergy to the bone cement or its opacifier is a contraindication.",
            "cirse-2017",
        ),
    ),
    Contra.CONTRAST_ALLERGY: (
        Severity.ADDRESSED,
        rule(
            "general.contrast_allergy",
            "An iodinated-contrast allergy limits the verdict only in a profile whose source lists it (the "
            "Medicare LCDs, as relative); elsewhere it is a preparation item: premedication or a technique "
            "without iodinated contrast.",
            "cms-lcd-pva",
            "acr-contrast-manual",
        ),
    ),
    Contra.NEUROLOGICAL_DEFICIT: (
        Severity.RELATIVE,
        rule(
            "general.neurological_deficit",
            "Myelopathy or a neurological deficit related to the fracture is a relative "
            "contraindication; it calls for surgical assessment.",
            "cms-lcd-pva",
        ),
    ),
    Contra.RETROPULSION: (
        Severity.RELATIVE,
        rule(
            "general.retropulsion",
            "A retropulsed fragment is a relative contraindication.",
            "cms-lcd-pva",
            "cirse-2017",
        ),
    ),
    Contra.CANAL_COMPROMISE: (
        Severity.RELATIVE,
        rule(
            "general.canal_compromise",
            "Spinal canal compromise is a relative contraindication.",
            "cms-lcd-pva",
            "cirse-2017",
        ),
    ),
    Contra.INSTABILITY: (
        Severity.RELATIVE,
        rule(
            "general.instability",
            "Spinal instability is a relative contraindication; it calls for surgical assessment.",
            "cms-lcd-pva",
        ),
    ),
    Contra.POSTERIOR_WALL_DEFECT: (
        Severity.RELATIVE,
        rule(
            "general.posterior_wall_defect",
            "A posterior-wall defect is a relative contraindication (cement leak into the canal).",
            "cirse-2017",
        ),
    ),
    Contra.VERTEBRA_PLANA: (
        Severity.RELATIVE,
        rule(
            "general.vertebra_plana",
            "Severe collapse (vertebra plana) is a relative contraindication (technical feasibility).",
            "cirse-2017",
            "morphometry-reference-choice",
        ),
    ),
    Contra.TOO_MANY_LEVELS: (Severity.RELATIVE, R_LEVELS),
    Contra.STAGED_LEVELS: (Severity.ADDRESSED, R_LEVELS),
    Contra.IMPROVING: (
        Severity.RELATIVE,
        rule(
            "general.improving",
            "A patient whose pain is improving on medical therapy is not a routine candidate (CIRSE "
            "lists it as a contraindication; most fractures improve over 2-12 weeks).",
            "cirse-2017",
            "acr-vcf-2018",
        ),
    ),
}


def present(case: Case, findings: CaseFindings, policy: ClinicPolicy) -> dict[Contra, str]:
    """Return the contraindications this case carries, each with the fact that shows it."""
    found: dict[Contra, str] = {}
    if case.pain.concordant_with_fracture is False:
        found[Contra.PAIN_NOT_FROM_FRACTURE] = "pain is recorded as not concordant with the fracture"
    elif case.pain.nrs == 0:
        found[Contra.PAIN_NOT_FROM_FRACTURE] = "the fracture is painless (NRS 0)"
    if case.pain.trend == "improving":
        found[Contra.IMPROVING] = "pain recorded as improving"
    if case.red_flags.active_infection:
        found[Contra.ACTIVE_INFECTION] = "active infection recorded"
    if case.patient.pregnant:
        found[Contra.PREGNANCY] = "patient is pregnant"
    if case.coagulopathy_uncorrectable:
        found[Contra.UNCORRECTABLE_COAGULOPATHY] = "coagulopathy recorded as uncorrectable"
    cement = matching(case.allergies, Allergen.CEMENT, Allergen.BARIUM)
    if cement:
        found[Contra.CEMENT_ALLERGY] = "allergy: " + ", ".join(m.label for m in cement)
    contrast = matching(case.allergies, Allergen.IODINATED_CONTRAST)
    if contrast:
        found[Contra.CONTRAST_ALLERGY] = "allergy: " + ", ".join(m.label for m in contrast)
    if case.neurological_deficit:
        found[Contra.NEUROLOGICAL_DEFICIT] = "neurological deficit recorded"
    targets = findings.targets
    for contra, flag, text in (
        (Contra.RETROPULSION, "retropulsion", "retropulsion"),
        (Contra.CANAL_COMPROMISE, "canal_compromise", "canal compromise"),
        (Contra.INSTABILITY, "unstable", "instability"),
    ):
        levels = [f.level for f in targets if getattr(f.fracture, flag) is True]
        if levels:
            found[contra] = f"{text} at {', '.join(levels)}"
    walls = [f.level for f in targets if f.fracture.posterior_wall_intact is False]
    if walls:
        found[Contra.POSTERIOR_WALL_DEFECT] = f"posterior wall not intact at {', '.join(walls)}"
    plana = [f.level for f in targets if f.morphometry is not None and f.morphometry.vertebra_plana]
    if plana:
        found[Contra.VERTEBRA_PLANA] = f"vertebra plana at {', '.join(plana)}"
    if len(targets) > MAX_LEVELS_PER_PROCEDURE:
        if policy.max_levels_per_session > MAX_LEVELS_PER_PROCEDURE:
            found[Contra.TOO_MANY_LEVELS] = (
                f"{len(targets)} candidate levels, up to {policy.max_levels_per_session} in one procedure"
            )
        else:
            found[Contra.STAGED_LEVELS] = (
                f"{len(targets)} candidate levels, staged into sessions of at most {policy.max_levels_per_session}"
            )
    return found


def apply(
    builder: VerdictBuilder,
    found: Mapping[Contra, str],
    own: Mapping[Contra, tuple[Severity, Rule]] | None = None,
) -> None:
    """Lower the builder's verdict for each contraindication found, by the profile's own list first."""
    for contra, detail in found.items():
        severity, why = (own or {}).get(contra) or GENERAL[contra]
        if severity is Severity.ADDRESSED:
            builder.note(why, Effect.NOTE, f"noted: {detail}")
            continue
        effect = Effect.CONTRAINDICATION if severity is Severity.ABSOLUTE else Effect.CAUTION
        builder.cap(CAP[severity], why, effect, f"{severity.value}: {detail}")
