"""ASRA 2018 (interventional spine and pain procedures): is the bleeding-risk plan ready?

This profile does not judge the indication. It answers whether, on the planned date, the patient's
antithrombotics can be held as the high-risk table asks and the laboratory values allow a high
bleeding-risk procedure (SIR 2019 thresholds).
"""

from __future__ import annotations

from vertebro.clinical.contraindications import GENERAL, Contra
from vertebro.clinical.medications import R_DECISION_RECORDED, R_HIGH_RISK, HoldAction
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.safety_facts import BLEEDING_FACTS, require_recorded
from vertebro.clinical.verdicts import Category, Effect, ProfileVerdict, VerdictBuilder

PROFILE_ID = "asra-2018"
TITLE = "ASRA 2018 interventional spine guidelines: antithrombotic holds (high bleeding risk)"
LABELS = {
    Category.APPROPRIATE: "Bleeding-risk plan complete for the planned date",
    Category.UNCERTAIN: "Bleeding-risk plan needs a decision or data",
    Category.NOT_APPROPRIATE: "Not safe on the planned date: holds or labs not in range",
    Category.CONTRAINDICATED: "Uncorrectable coagulopathy",
}
# With no procedure date there is no plan to be complete: the labels say what was checked, not "ready".
UNDATED_LABELS = {
    **LABELS,
    Category.APPROPRIATE: "No bleeding-risk obstacle found so far (no procedure date: holds not dated)",
}

R_LABS = rule(
    "sir.labs_high_risk",
    "High bleeding-risk procedures: INR and platelet count beforehand; INR corrected to 1.5-1.8 or "
    "less (vertebro uses the lower bound, configurable) and platelets transfused below 50 x 10^9/L.",
    "sir-2019",
)
R_DATE = rule(
    "asra.hold_dates",
    "Holds are dated from the procedure date; a hold whose last permitted dose is already past "
    "cannot be completed, so the date must move.",
    "asra-2018",
)


def evaluate(ctx: Context) -> ProfileVerdict:
    """Return whether the antithrombotic and laboratory plan allows the procedure on its date."""
    b = VerdictBuilder(PROFILE_ID, TITLE)
    case, policy = ctx.case, ctx.policy
    b.note(R_HIGH_RISK, Effect.NOTE, "vertebral augmentation: high bleeding risk")
    require_recorded(b, case, policy, only=BLEEDING_FACTS)
    if Contra.UNCORRECTABLE_COAGULOPATHY in ctx.contraindications:
        _, why = GENERAL[Contra.UNCORRECTABLE_COAGULOPATHY]
        b.cap(
            Category.CONTRAINDICATED,
            why,
            Effect.CONTRAINDICATION,
            "coagulopathy recorded as uncorrectable",
        )

    on_vka = False
    for hold in ctx.holds:
        if hold.action is HoldAction.CHECK:
            b.need(hold.rule, f"whether {hold.drug} affects bleeding")
            continue
        if hold.action is HoldAction.SHARED_DECISION:
            b.need(hold.rule, f"prescriber decision on holding {hold.drug}")
        for fact in hold.missing:
            b.need(hold.rule, f"{fact} (for {hold.drug})")
        if hold.action is HoldAction.CONTINUE and hold.decision is not None:
            b.note(
                R_DECISION_RECORDED,
                Effect.CAUTION,
                f"{hold.drug} continued on the prescriber's decision of {hold.decision.agreed_on.isoformat()}",
            )
            continue
        if hold.decision is not None:
            b.note(
                R_DECISION_RECORDED,
                Effect.NOTE,
                f"{hold.drug}: {hold.decision.decision} agreed with the prescriber on "
                f"{hold.decision.agreed_on.isoformat()}",
            )
        if hold.condition is not None:
            on_vka = True
        if case.procedure_date is None:
            continue
        last = hold.last_dose_on or (hold.last_dose_by.date() if hold.last_dose_by else None)
        if last is not None and last < ctx.as_of and hold.action is HoldAction.HOLD:
            b.cap(
                Category.NOT_APPROPRIATE,
                R_DATE,
                Effect.AGAINST,
                f"{hold.drug}: last dose had to be on {last.isoformat()}, before {ctx.as_of.isoformat()}",
            )
    if ctx.holds and case.procedure_date is None:
        b.need(R_DATE, "procedure date (to date the holds)")

    inr, platelets = case.labs.inr, case.labs.platelets
    if inr is None:
        b.need(R_LABS, "INR")
    elif inr > policy.inr_max:
        if on_vka:
            b.note(
                R_LABS,
                Effect.CAUTION,
                f"INR {inr:g} on a vitamin K antagonist: recheck on the day",
            )
        else:
            b.cap(
                Category.NOT_APPROPRIATE,
                R_LABS,
                Effect.AGAINST,
                f"INR {inr:g} > {policy.inr_max:g}: correct first",
            )
    else:
        b.note(R_LABS, Effect.SUPPORTS, f"INR {inr:g}")
    if platelets is None:
        b.need(R_LABS, "platelet count")
    elif platelets < policy.platelets_min:
        b.cap(
            Category.NOT_APPROPRIATE,
            R_LABS,
            Effect.AGAINST,
            f"platelets {platelets:g} x 10^9/L < {policy.platelets_min:g}: transfuse or correct first",
        )
    else:
        b.note(R_LABS, Effect.SUPPORTS, f"platelets {platelets:g} x 10^9/L")
    return b.verdict(LABELS if case.procedure_date is not None else UNDATED_LABELS)
