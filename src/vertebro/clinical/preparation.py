"""Preparation plan from the procedure date: holds, labs, pregnancy test, allergies, fasting, escort."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.allergens import Allergen, real_allergies
from vertebro.clinical.clock import shifted
from vertebro.clinical.facts import Case
from vertebro.clinical.findings import R_TARGET_LEVELS, CaseFindings
from vertebro.clinical.medications import HoldAction, MedicationHold
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.recovery import R_DRIVING, R_ESCORT, driving_advice
from vertebro.clinical.rules import Rule, rule

R_LABS = rule(
    "preparation.labs",
    "Before a high bleeding-risk procedure: INR and platelet count; INR at most 1.5 (configurable "
    "within SIR's 1.5-1.8) and platelets at least 50 x 10^9/L.",
    "sir-2019",
)
R_PREGNANCY_TEST = rule(
    "preparation.pregnancy_test",
    "People who could be pregnant (by default women aged 12-50) have a pregnancy test before fluoroscopy.",
    "acr-spr-pregnancy",
)
R_CEMENT_ALLERGY = rule(
    "preparation.cement_allergy",
    "A cement or opacifier allergy (PMMA, barium sulfate) is raised with the radiologist before booking.",
    "cms-lcd-pva",
    "kyphon-hvr-ifu",
)
R_CONTRAST_ALLERGY = rule(
    "preparation.contrast_allergy",
    "A prior reaction to iodinated contrast: premedication per the ACR Manual on Contrast Media, or "
    "a technique without contrast.",
    "acr-contrast-manual",
)
R_OTHER_ALLERGY = rule(
    "preparation.other_allergies",
    "Every recorded allergy is confirmed at the pre-procedure call (latex: latex-free room; local "
    "anaesthetic: alternative agent).",
    "local-policy",
)
R_FASTING = rule(
    "preparation.fasting",
    "Before sedation: clear liquids until 2 h before, a light meal until 6 h before, fried or fatty "
    "food or meat until 8 h before.",
    "asa-fasting-2017",
)
R_ARRIVAL = rule(
    "preparation.arrival",
    "Arrive 15 minutes before the booked time to check in (configurable).",
    "local-policy",
)
R_IMAGING_RECENT = rule(
    "preparation.imaging_recent",
    "The imaging that documents the fracture's acuity is recent: at most 6 months old on the "
    "procedure date (configurable; VAPOUR required imaging within a week).",
    "evicore-cmm607",
    "vapour-2016",
)
R_SEDATION_DECISION = rule(
    "preparation.sedation_decision",
    "Whether sedation is used is decided before the pre-procedure call, because fasting and the escort depend on it.",
    "local-policy",
)


class Status(StrEnum):
    """Where a preparation item stands."""

    NEEDED = "needed"
    DONE = "done"
    ATTENTION = "attention"


@dataclass(frozen=True, slots=True)
class PrepItem:
    """One preparation step: what, by when, its status, and the rule behind it."""

    kind: str
    instruction: str
    due: dt.datetime | None
    status: Status
    rule: Rule
    blocking: bool = True  # False when the plan itself resolves it (e.g. INR rechecked after a warfarin hold)


@dataclass(frozen=True, slots=True)
class Preparation:
    """The whole preparation plan."""

    procedure_start: dt.datetime | None
    arrival: dt.datetime | None
    medication_holds: tuple[MedicationHold, ...]
    items: tuple[PrepItem, ...]


def could_be_pregnant(case: Case, policy: ClinicPolicy) -> bool:
    """Return whether a pregnancy test is needed (rule preparation.pregnancy_test)."""
    patient = case.patient
    if patient.could_be_pregnant is not None:
        return patient.could_be_pregnant
    return patient.sex == "female" and policy.pregnancy_screen_min_age <= patient.age <= policy.pregnancy_screen_max_age


def _minus(start: dt.datetime | None, policy: ClinicPolicy, **delta: float) -> dt.datetime | None:
    """The time ``delta`` of elapsed time before ``start``, as clinic wall-clock time (clock.shifted)."""
    return None if start is None else shifted(start, policy.time_zone, **{k: -v for k, v in delta.items()})


def _labs(
    case: Case, holds: tuple[MedicationHold, ...], start: dt.datetime | None, policy: ClinicPolicy
) -> list[PrepItem]:
    items: list[PrepItem] = []
    inr, platelets = case.labs.inr, case.labs.platelets
    due = None if start is None else start - dt.timedelta(days=1)  # the calendar day before, same clock time
    on_vka = any(h.condition is not None and h.action is not HoldAction.CONTINUE for h in holds)
    if inr is None:
        items.append(PrepItem("lab", "INR", due, Status.NEEDED, R_LABS))
    elif inr > policy.inr_max:
        # only a planned vitamin K antagonist hold brings the INR down by itself (rule sir.labs_high_risk)
        instruction = (
            f"INR {inr:g} is above {policy.inr_max:g}: recheck on the day, after the warfarin hold"
            if on_vka
            else f"INR {inr:g} is above {policy.inr_max:g} with no anticoagulant hold planned: find the cause "
            "and correct it before the procedure"
        )
        items.append(
            PrepItem("lab", instruction, start if on_vka else due, Status.ATTENTION, R_LABS, blocking=not on_vka)
        )
    else:
        items.append(PrepItem("lab", f"INR {inr:g}", None, Status.DONE, R_LABS))
    if platelets is None:
        items.append(PrepItem("lab", "platelet count", due, Status.NEEDED, R_LABS))
    elif platelets < policy.platelets_min:
        items.append(
            PrepItem(
                "lab",
                f"platelets {platelets:g} x 10^9/L: below {policy.platelets_min:g}, plan correction",
                due,
                Status.ATTENTION,
                R_LABS,
            )
        )
    else:
        items.append(PrepItem("lab", f"platelets {platelets:g} x 10^9/L", None, Status.DONE, R_LABS))
    return items


_ALLERGY_ITEMS: dict[Allergen, tuple[str, Status, Rule]] = {
    Allergen.CEMENT: (
        "cement or opacifier allergy, radiologist to decide before booking",
        Status.ATTENTION,
        R_CEMENT_ALLERGY,
    ),
    Allergen.BARIUM: (
        "cement or opacifier allergy, radiologist to decide before booking",
        Status.ATTENTION,
        R_CEMENT_ALLERGY,
    ),
    Allergen.IODINATED_CONTRAST: (
        "contrast premedication or a technique without contrast",
        Status.ATTENTION,
        R_CONTRAST_ALLERGY,
    ),
    Allergen.LATEX: ("latex-free room and equipment", Status.ATTENTION, R_OTHER_ALLERGY),
    Allergen.LOCAL_ANAESTHETIC: ("choose another local anaesthetic", Status.ATTENTION, R_OTHER_ALLERGY),
    Allergen.OTHER: ("confirm at the pre-procedure call", Status.NEEDED, R_OTHER_ALLERGY),
}


def _allergies(case: Case) -> list[PrepItem]:
    """One item per real allergy, recognised by the shared matcher (rule allergy.matching)."""
    items: list[PrepItem] = []
    for match in real_allergies(case.allergies):
        text, status, why = _ALLERGY_ITEMS[match.allergen]
        items.append(PrepItem("allergy", f"{match.label}: {text}", None, status, why))
    return items


def _sedation(case: Case, start: dt.datetime | None, policy: ClinicPolicy) -> list[PrepItem]:
    advice = driving_advice(None if start is None else start.date(), case.sedation_planned, policy)
    transport = PrepItem("transport", advice.transport, None, Status.NEEDED, R_DRIVING, blocking=False)
    if case.sedation_planned is None:
        return [
            PrepItem(
                "sedation",
                "decide whether sedation is planned (fasting and escort depend on it)",
                None,
                Status.NEEDED,
                R_SEDATION_DECISION,
            ),
            transport,
        ]
    if not case.sedation_planned:
        return [transport]
    return [
        transport,
        PrepItem(
            "fasting",
            "last fried or fatty meal, or meat",
            _minus(start, policy, hours=8),
            Status.NEEDED,
            R_FASTING,
        ),
        PrepItem(
            "fasting",
            "last light meal (e.g. toast and a clear drink)",
            _minus(start, policy, hours=6),
            Status.NEEDED,
            R_FASTING,
        ),
        PrepItem(
            "fasting",
            "last clear liquids (water, clear juice, black tea or coffee)",
            _minus(start, policy, hours=2),
            Status.NEEDED,
            R_FASTING,
        ),
        PrepItem(
            "escort",
            "an adult takes the patient home after sedation",
            None,
            Status.NEEDED,
            R_ESCORT,
        ),
        PrepItem(
            "escort",
            f"an adult stays with the patient for {policy.companion_hours} hours after discharge",
            None,
            Status.NEEDED,
            R_ESCORT,
        ),
    ]


def _imaging(findings: CaseFindings, procedure_date: dt.date | None, policy: ClinicPolicy) -> list[PrepItem]:
    items: list[PrepItem] = []
    for f in findings.targets:
        taken = f.fracture.imaging_date
        if taken is None:
            items.append(
                PrepItem(
                    "imaging",
                    f"{f.level}: date of the MRI or bone scan",
                    None,
                    Status.NEEDED,
                    R_IMAGING_RECENT,
                )
            )
            continue
        if procedure_date is None:
            continue
        oldest = procedure_date - dt.timedelta(days=policy.imaging_max_age_days)
        if taken < oldest:
            items.append(
                PrepItem(
                    "imaging",
                    f"{f.level}: imaging of {taken.isoformat()} is older than "
                    f"{policy.imaging_max_age_days} days on the procedure date; repeat it",
                    None,
                    Status.ATTENTION,
                    R_IMAGING_RECENT,
                )
            )
        else:
            items.append(
                PrepItem(
                    "imaging",
                    f"{f.level}: imaging of {taken.isoformat()} is recent enough",
                    None,
                    Status.DONE,
                    R_IMAGING_RECENT,
                )
            )
    for f in findings.awaiting_imaging:
        items.append(
            PrepItem(
                "imaging", f"MRI needed at {f.level} before it can be treated", None, Status.NEEDED, R_TARGET_LEVELS
            )
        )
    return items


def preparation_plan(
    case: Case,
    findings: CaseFindings,
    holds: tuple[MedicationHold, ...],
    procedure_start: dt.datetime | None,
    policy: ClinicPolicy,
) -> Preparation:
    """Return the preparation plan with calendar dates and times from the procedure start.

    A hold that waits for the prescriber's decision or for a fact is listed as an outstanding item
    (rules medications.antiplatelet_secondary_decision, medications.thrombotic_risk_decision, asra.doac).
    """
    items: list[PrepItem] = [
        PrepItem(
            "medication",
            f"{hold.drug}: {'; '.join(hold.outstanding)} (no hold date until then)",
            None,
            Status.NEEDED,
            hold.rule,
        )
        for hold in holds
        if hold.outstanding
    ]
    items.extend(_labs(case, holds, procedure_start, policy))
    if case.patient.pregnant is not True and could_be_pregnant(case, policy):
        items.append(
            PrepItem(
                "pregnancy",
                "pregnancy test before the procedure",
                procedure_start,
                Status.NEEDED,
                R_PREGNANCY_TEST,
            )
        )
    items.extend(_allergies(case))
    items.extend(_sedation(case, procedure_start, policy))
    items.extend(_imaging(findings, case.procedure_date, policy))
    arrival = _minus(procedure_start, policy, minutes=policy.arrival_minutes_early)
    if arrival is not None:
        items.append(
            PrepItem(
                "arrival",
                f"arrive {policy.arrival_minutes_early} minutes early to check in",
                arrival,
                Status.NEEDED,
                R_ARRIVAL,
            )
        )
    return Preparation(
        procedure_start=procedure_start,
        arrival=arrival,
        medication_holds=holds,
        items=tuple(items),
    )
