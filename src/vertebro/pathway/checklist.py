"""The pre-procedure call: what staff confirm with the patient, and what is still missing.

The clinical core's preparation plan says what must happen (holds with dates, labs, pregnancy test,
fasting, escort, arrival); the checklist records that staff went through each item with the patient.
A case cannot be prepared or booked while anything here is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from vertebro.clinical import Assessment, Case
from vertebro.clinical.allergens import allergy_labels
from vertebro.clinical.medications import HoldAction
from vertebro.clinical.preparation import Status


@dataclass(frozen=True, slots=True)
class Confirmations:
    """What staff recorded during the pre-procedure call."""

    medications_reviewed: bool = False
    holds_explained: bool = False
    allergies_reviewed: bool = False
    pregnancy_test_negative: bool | None = None
    fasting_explained: bool = False
    driver_name: str | None = None
    companion_name: str | None = None
    arrival_time_told: bool = False


def missing_items(case: Case, assessment: Assessment, done: Confirmations) -> tuple[str, ...]:
    """Return, in plain words, every checklist item that stops the case from being booked."""
    missing: list[str] = []
    if not done.medications_reviewed:
        missing.append("medication list reviewed with the patient")
    holds = [h for h in assessment.preparation.medication_holds if h.action is not HoldAction.CONTINUE]
    if holds and not done.holds_explained:
        missing.append("medication holds and restart dates explained: " + ", ".join(h.drug for h in holds))
    for hold in holds:
        if hold.action is HoldAction.SHARED_DECISION:
            missing.append(f"prescriber's decision on {hold.drug} recorded")
        for fact in hold.missing:  # a hold that cannot be dated yet (e.g. a DOAC without kidney function)
            missing.append(f"{fact} recorded (to date the {hold.drug} hold)")
        if hold.action is HoldAction.CHECK:
            missing.append(f"{hold.drug} checked with the prescriber")
    for item in assessment.preparation.items:
        if item.kind == "lab" and item.status is not Status.DONE and item.blocking:
            missing.append(f"lab: {item.instruction}")
        if item.kind == "imaging" and item.status is not Status.DONE and item.blocking:
            missing.append(f"imaging: {item.instruction}")
        if item.kind == "pregnancy" and done.pregnancy_test_negative is not True:
            missing.append("negative pregnancy test recorded")
    allergies = allergy_labels(case.allergies)
    if allergies and not done.allergies_reviewed:
        missing.append("allergies reviewed: " + ", ".join(allergies))
    gaps = [gap.label for gap in assessment.unrecorded]
    if gaps:
        missing.append("safety facts not recorded: " + "; ".join(gaps))
    if case.sedation_planned is None:
        missing.append("sedation decided (yes or no)")
    if case.sedation_planned:
        if not done.fasting_explained:
            missing.append("fasting times explained")
        if not (done.driver_name or "").strip():
            missing.append("name of the driver home")
        if not (done.companion_name or "").strip():
            missing.append("name of the adult staying 12 hours")
    if not done.arrival_time_told:
        missing.append("arrival time (15 minutes early) told to the patient")
    return tuple(missing)


def holds_not_dated(case: Case, assessment: Assessment) -> tuple[str, ...]:
    """Return why "holds and restart dates explained" cannot be confirmed yet (nothing when it can; decision 0034).

    The patient can only be told dates that exist: the medicine list must be reviewed, and every medicine to hold
    must have its plan complete (no prescriber's decision or fact outstanding, nothing left to check).
    """
    if case.medications is None:
        return ("the medicine list is reviewed (safety facts)",)
    reasons: list[str] = []
    for hold in assessment.preparation.medication_holds:
        if hold.action is HoldAction.CONTINUE:
            continue
        for item in hold.outstanding:
            if item.startswith("prescriber"):
                reasons.append(f"the {item} is recorded")
            else:
                reasons.append(f"the {item} is recorded (for the {hold.drug} hold)")
        if hold.action is HoldAction.CHECK:
            reasons.append(f"{hold.drug} is checked with the prescriber")
    return tuple(reasons)
