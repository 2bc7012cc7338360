"""Safety facts: the facts that can make augmentation unsafe or change a verdict, and which are not recorded.

*Not recorded* is a value of its own, never read as "no": a pregnant or bacteraemic patient whose
record simply lacks the fact must not come out "appropriate". Every indication
profile calls :func:`require_recorded` through ``profiles.common.apply_scope`` (the ASRA bleeding-risk
profile for the facts it judges: the medication list and coagulopathy), so while one of these is
missing no profile is better than *uncertain*, the fact is listed as missing, the recommendation is
not an augmentation and the pre-procedure checklist refuses booking naming it.
"""

from __future__ import annotations

from typing import NamedTuple

from vertebro.clinical.facts import Case
from vertebro.clinical.findings import imaging_acute
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.preparation import could_be_pregnant
from vertebro.clinical.rules import rule
from vertebro.clinical.verdicts import VerdictBuilder

R_RECORDED = rule(
    "general.safety_facts_recorded",
    "Each fact that can contraindicate augmentation or change a verdict (fever, active infection, cancer "
    "history, neurological deficit, uncorrectable coagulopathy, allergies, the medication list, inpatient "
    "status, imaging of each level's acuity) is recorded yes or no; while one is not recorded no profile "
    "rates augmentation better than uncertain and the case is not booked.",
    "cms-lcd-pva",
    "acr-vcf-2018",
    "local-policy",
)
R_PREGNANCY_STATUS = rule(
    "general.pregnancy_status_recorded",
    "A pregnancy status is recorded for everyone who could be pregnant (people of child-bearing "
    "potential, by default women aged 12-50, or as recorded for the patient); a man or a woman outside "
    "that age needs none.",
    "acr-spr-pregnancy",
    "acr-vcf-2018",
)
R_LEVEL_RECORDED = rule(
    "general.fracture_level_recorded",
    "The fractured level is taken from the imaging report, never guessed: while it is not known (a patient "
    "asked without their scan report) it is listed as missing, no profile rates augmentation better than "
    "uncertain and the case is not prepared or booked.",
    "local-policy",
)


class SafetyFact(NamedTuple):
    """One safety fact that is not recorded: where it lives in the case and what to call it."""

    path: str  # the case field, e.g. "red_flags.fever", "patient.pregnant", "fractures.L1.imaging"
    label: str  # plain words for the missing-data list and the refusal
    kind: str  # "fact" or "imaging"


_SIMPLE: tuple[tuple[str, str], ...] = (
    ("red_flags.fever", "fever (yes or no)"),
    ("red_flags.active_infection", "active infection (yes or no)"),
    ("red_flags.cancer_history", "cancer history (yes or no)"),
    ("neurological_deficit", "neurological deficit (yes or no)"),
    ("coagulopathy_uncorrectable", "uncorrectable coagulopathy (yes or no)"),
    ("patient.hospitalized", "inpatient status (in hospital now: yes or no)"),
)


def _value(case: Case, path: str) -> object:
    value: object = case
    for part in path.split("."):
        value = getattr(value, part)
    return value


def unrecorded(case: Case, policy: ClinicPolicy) -> tuple[SafetyFact, ...]:
    """Return every safety fact of this case that is not recorded (rules general.safety_facts_recorded,
    general.pregnancy_status_recorded, general.fracture_level_recorded), in a fixed order.
    """
    gaps: list[SafetyFact] = []
    if not case.fractures:
        gaps.append(
            SafetyFact("fractures", "fractured level (from the imaging report; the patient did not know it)", "fact")
        )
    if case.patient.pregnant is None and could_be_pregnant(case, policy):
        gaps.append(SafetyFact("patient.pregnant", "pregnancy status (yes or no)", "fact"))
    gaps.extend(SafetyFact(path, label, "fact") for path, label in _SIMPLE if _value(case, path) is None)
    if case.allergies is None:
        gaps.append(SafetyFact("allergies", "allergies reviewed (the list, or no known allergy)", "fact"))
    if case.medications is None:
        gaps.append(SafetyFact("medications", "medication list reviewed (the list, or takes none)", "fact"))
    for fracture in case.fractures_in_spinal_order():
        if imaging_acute(fracture) is None:
            gaps.append(
                SafetyFact(
                    f"fractures.{fracture.level}.imaging",
                    f"acuity imaging of {fracture.level} (MRI oedema or bone-scan uptake)",
                    "imaging",
                )
            )
    return tuple(gaps)


_RULE_OF = {"patient.pregnant": R_PREGNANCY_STATUS, "fractures": R_LEVEL_RECORDED}

BLEEDING_FACTS = ("medications", "coagulopathy_uncorrectable")
"""The safety facts the ASRA bleeding-risk profile judges; it does not judge pregnancy or infection."""


def require_recorded(
    builder: VerdictBuilder, case: Case, policy: ClinicPolicy, only: tuple[str, ...] | None = None
) -> None:
    """List every unrecorded safety fact (or only those at the ``only`` paths) as missing, which holds the
    verdict at uncertain at best (rule general.safety_facts_recorded).
    """
    for gap in unrecorded(case, policy):
        if only is not None and gap.path not in only:
            continue
        builder.need(_RULE_OF.get(gap.path, R_RECORDED), gap.label)
