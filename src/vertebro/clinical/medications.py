"""Peri-procedural antithrombotic holds for a high bleeding-risk spine procedure (ASRA 2018).

Vertebral augmentation is a *high* bleeding-risk procedure in the ASRA 2018 interventional spine and
pain guidelines. Rows the reference could not confirm in the primary document carry ``verify=True``
and are shown as unverified in every output. For the direct oral anticoagulants a clinic chooses
between the ASRA rows and the PAUSE protocol (``ClinicPolicy.doac_protocol``).

Some holds are never dated automatically. Antiplatelet therapy for secondary prevention (a coronary
stent, a heart attack or stroke; and a P2Y12 inhibitor or aspirin whose purpose is not recorded) and
anticoagulation at high thrombotic risk are a *required decision with the prescriber*: the plan lists
the decision as outstanding and gives no date until a clinician records it (``Medication.
prescriber_decision``); the dates then follow that decision. A hold that needs a fact that is not
recorded (creatinine clearance for a DOAC, thrombotic risk for a vitamin K antagonist) lists it as
missing and gives no date either. Hour intervals are elapsed time in the clinic's zone (``clock.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from vertebro.clinical.clock import shifted
from vertebro.clinical.facts import Case, Medication, PrescriberDecision
from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.rules import Rule, rule

R_HIGH_RISK = rule(
    "asra.high_risk_procedure",
    "Vertebral augmentation is a high bleeding-risk procedure; antithrombotics are held by the high-risk table.",
    "asra-2018",
)
R_WARFARIN = rule(
    "asra.warfarin",
    "Warfarin: stop 5 days before, with a normal INR on the day; restart 6 h after.",
    "asra-2018",
)
R_ACENOCOUMAROL = rule(
    "asra.acenocoumarol",
    "Acenocoumarol: stop 3 days before, with a normal INR; restart 24 h after.",
    "asra-2018",
)
R_ASPIRIN_PRIMARY = rule(
    "asra.aspirin_primary",
    "Aspirin for primary prophylaxis: stop 6 days before; restart 24 h after.",
    "asra-2018",
)
R_ASPIRIN_SECONDARY = rule(
    "asra.aspirin_secondary",
    "Aspirin for secondary prophylaxis: hold only after shared assessment and risk stratification "
    "with the prescriber; restart 24 h after.",
    "asra-2018",
)
R_NSAID = rule(
    "asra.nsaid",
    "NSAIDs: stop five half-lives before (diclofenac, ketorolac, ibuprofen 1 day; etodolac, "
    "indomethacin 2 days; naproxen, meloxicam 4 days; nabumetone 6 days; oxaprozin, piroxicam "
    "10 days); restart 24 h after.",
    "asra-2018",
)
R_CILOSTAZOL = rule(
    "asra.cilostazol_dipyridamole",
    "Cilostazol and dipyridamole: stop 2 days before; restart 24 h after.",
    "asra-2018",
)
R_UFH = rule(
    "asra.unfractionated_heparin",
    "Unfractionated heparin: IV stop 6 h before, restart 2 h after; subcutaneous stop 24 h before, restart 6 h after.",
    "asra-2018",
)
R_LMWH = rule(
    "asra.lmwh",
    "Low-molecular-weight heparin: prophylactic dose stop 12 h before, therapeutic dose stop 24 h "
    "before; restart 12-24 h after.",
    "asra-2018",
)
R_P2Y12 = rule(
    "asra.p2y12",
    "P2Y12 inhibitors: clopidogrel stop 7 days, prasugrel 7-10 days, ticagrelor 5 days before; restart 12-24 h after.",
    "asra-2018-unconfirmed-rows",
)
R_ANTIPLATELET_SECONDARY = rule(
    "medications.antiplatelet_secondary_decision",
    "Antiplatelet therapy for secondary prevention (a coronary stent, a heart attack or a stroke), and a "
    "P2Y12 inhibitor or aspirin whose purpose is not recorded, is stopped only after shared assessment "
    "and risk stratification with the prescriber; elective procedures are deferred 6 weeks after a "
    "bare-metal and 6 months after a drug-eluting coronary stent. No hold date is given until the "
    "decision is recorded.",
    "asra-2018",
    "accp-2012-perioperative",
)
R_THROMBOTIC_RISK = rule(
    "medications.thrombotic_risk_decision",
    "Before a vitamin K antagonist is stopped, the thrombotic risk is assessed. At high risk (a "
    "mechanical heart valve, atrial fibrillation with a recent stroke, a venous clot within 3 months) "
    "stopping any anticoagulant, and bridging with heparin, are decided with the prescriber; bridging "
    "is suggested at high risk and not at low risk. No hold date is given until the decision is recorded.",
    "asra-2018",
    "accp-2012-perioperative",
)
R_DECISION_RECORDED = rule(
    "medications.prescriber_decision_recorded",
    "A recorded prescriber decision sets the plan: hold as the table plans (never shorter than the "
    "table), continue, or hold with a bridging plan; the plan shows the date the prescriber agreed "
    "and who recorded it.",
    "asra-2018",
    "local-policy",
)
R_DOAC_ASRA = rule(
    "asra.doac",
    "DOACs (five half-lives, which lengthen as kidney function falls): rivaroxaban, apixaban, edoxaban "
    "stop 3 days before with creatinine clearance 30 mL/min or more (below 30 the interval is set with "
    "the prescriber); dabigatran 4-5 days (5 applied) with creatinine clearance 50 mL/min or more, 6 "
    "days below 50; restart 24 h after. Creatinine clearance is needed before a date is given.",
    "asra-2018-unconfirmed-rows",
)
R_FONDAPARINUX = rule(
    "asra.fondaparinux",
    "Fondaparinux: stop 4 days before; restart 24 h after.",
    "asra-2018-unconfirmed-rows",
)
R_DOAC_PAUSE = rule(
    "pause.doac",
    "PAUSE protocol, high bleeding risk: apixaban, rivaroxaban stop 2 days before; dabigatran 2 days "
    "(creatinine clearance 50 mL/min or more) or 4 days (below 50); resume 48-72 h after. Edoxaban was "
    "not studied, nor creatinine clearance below 30 mL/min: the ASRA interval applies to them.",
    "pause-2019",
)
R_NO_HOLD = rule(
    "medications.no_hold",
    "Medicines with no antiplatelet or anticoagulant effect (bone-health drugs, paracetamol, common "
    "cardiovascular and diabetes drugs, opioids) are not in the hold table and are continued.",
    "asra-2018",
)
R_UNKNOWN_DRUG = rule(
    "medications.unlisted",
    "A medication that is not in vertebro's antithrombotic table is checked with the prescriber "
    "before the procedure; vertebro never assumes it is safe to continue.",
    "asra-2018",
)


class HoldAction(StrEnum):
    """What to do with one medication before the procedure.

    ``SHARED_DECISION`` is a required decision with the prescriber that is still outstanding: such a
    medicine has no date until the decision is recorded.
    """

    HOLD = "hold"
    SHARED_DECISION = "shared_decision"
    CONTINUE = "continue"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class _Spec:
    drug_class: str
    rule: Rule
    stop_days: int = 0
    stop_hours: int = 0
    restart_hours: int = 24
    restart_hours_max: int | None = None
    condition: str | None = None
    note: str | None = None
    decision: Rule | None = None  # the rule that makes this a required decision with the prescriber
    missing: tuple[str, ...] = ()  # facts needed before a date can be given
    anticoagulant: bool = False


@dataclass(frozen=True, slots=True)
class MedicationHold:
    """One medication's plan: when the last dose is, when it may restart, on what condition.

    ``missing`` names the facts still needed before a date can be given; ``decision`` is the recorded
    prescriber decision, if any; ``decision_required`` says the plan waits for (or followed) one.
    A hold with anything :attr:`outstanding` has no dates.
    """

    drug: str
    drug_class: str
    action: HoldAction
    stop_days_before: int | None
    stop_hours_before: int | None
    restart_after_hours: int | None
    restart_after_hours_max: int | None
    last_dose_on: dt.date | None
    last_dose_by: dt.datetime | None
    hold_complete_by: dt.datetime | None
    restart_from: dt.datetime | None
    restart_until: dt.datetime | None
    condition: str | None
    note: str | None
    verify: bool
    rule: Rule
    missing: tuple[str, ...] = ()
    decision_required: bool = False
    decision: PrescriberDecision | None = None

    @property
    def outstanding(self) -> tuple[str, ...]:
        """What must be recorded before this medicine's plan is complete (empty when it is)."""
        waiting = list(self.missing)
        if self.action is HoldAction.SHARED_DECISION:
            waiting.append(f"prescriber's decision on {self.drug}")
        return tuple(waiting)


_NSAID_DAYS = {
    "diclofenac": 1,
    "ketorolac": 1,
    "ibuprofen": 1,
    "etodolac": 2,
    "indomethacin": 2,
    "naproxen": 4,
    "meloxicam": 4,
    "nabumetone": 6,
    "oxaprozin": 10,
    "piroxicam": 10,
}
_SYNONYMS = {
    "coumadin": "warfarin",
    "jantoven": "warfarin",
    "sintrom": "acenocoumarol",
    "acetylsalicylic acid": "aspirin",
    "asa": "aspirin",
    "plavix": "clopidogrel",
    "effient": "prasugrel",
    "brilinta": "ticagrelor",
    "brilique": "ticagrelor",
    "xarelto": "rivaroxaban",
    "eliquis": "apixaban",
    "lixiana": "edoxaban",
    "savaysa": "edoxaban",
    "pradaxa": "dabigatran",
    "lovenox": "enoxaparin",
    "clexane": "enoxaparin",
    "fragmin": "dalteparin",
    "innohep": "tinzaparin",
    "arixtra": "fondaparinux",
    "advil": "ibuprofen",
    "motrin": "ibuprofen",
    "aleve": "naproxen",
    "voltaren": "diclofenac",
    "pletal": "cilostazol",
    "persantine": "dipyridamole",
}
_NO_HOLD = frozenset(
    {
        "alendronate",
        "risedronate",
        "ibandronate",
        "zoledronic",
        "denosumab",
        "teriparatide",
        "abaloparatide",
        "romosozumab",
        "calcium",
        "vitamin d",
        "vitamin d3",
        "colecalciferol",
        "cholecalciferol",
        "paracetamol",
        "acetaminophen",
        "omeprazole",
        "pantoprazole",
        "lansoprazole",
        "metformin",
        "levothyroxine",
        "amlodipine",
        "ramipril",
        "lisinopril",
        "losartan",
        "bisoprolol",
        "metoprolol",
        "atorvastatin",
        "simvastatin",
        "rosuvastatin",
        "furosemide",
        "oxycodone",
        "morphine",
        "tramadol",
        "codeine",
        "hydromorphone",
        "tapentadol",
        "gabapentin",
        "pregabalin",
        "insulin",
        "prednisolone",
        "prednisone",
        "calcitonin",
    }
)
_INR_NORMAL = "INR within the normal range on the day of the procedure"


def normalized_drug(name: str) -> str:
    """Return the generic drug name for a brand or generic name as written on a medication list."""
    key = " ".join(name.lower().replace("-", " ").split())
    first = key.split(" ")[0] if key else key
    for candidate in (key, first):
        if candidate in _SYNONYMS:
            return _SYNONYMS[candidate]
    return first


_DECIDE = "decide with the prescriber whether and when to stop it; no date until the decision is recorded"
_RISK_MISSING = "thrombotic risk (e.g. mechanical heart valve, clot in the last 3 months)"
_CRCL_MISSING = "creatinine clearance"


def _antiplatelet_decision(med: Medication) -> Rule | None:
    """Return the decision rule when an antiplatelet's purpose makes stopping a prescriber's decision."""
    if med.purpose in ("primary_prevention", "pain", "other"):
        return None
    return R_ANTIPLATELET_SECONDARY


def _anticoagulant(spec: _Spec, med: Medication) -> _Spec:
    """High thrombotic risk turns any anticoagulant hold into a required decision with the prescriber."""
    if med.thrombotic_risk == "high":
        return replace(
            spec,
            decision=R_THROMBOTIC_RISK,
            note="high thrombotic risk: decide with the prescriber whether to stop it and whether to bridge "
            "with heparin; no date until the decision is recorded",
            anticoagulant=True,
        )
    return replace(spec, anticoagulant=True)


def _spec(med: Medication, case: Case, policy: ClinicPolicy) -> _Spec | None:
    drug = normalized_drug(med.name)
    crcl = case.labs.creatinine_clearance_ml_min
    if drug in ("warfarin", "acenocoumarol"):
        spec = (
            _Spec("vitamin K antagonist", R_WARFARIN, stop_days=5, restart_hours=6, condition=_INR_NORMAL)
            if drug == "warfarin"
            else _Spec("vitamin K antagonist", R_ACENOCOUMAROL, stop_days=3, condition=_INR_NORMAL)
        )
        if med.thrombotic_risk is None:
            spec = replace(spec, missing=(_RISK_MISSING,))
        return _anticoagulant(spec, med)
    if drug == "aspirin":
        if med.purpose == "primary_prevention":
            return _Spec("antiplatelet (aspirin, primary prophylaxis)", R_ASPIRIN_PRIMARY, stop_days=6)
        secondary = med.purpose == "secondary_prevention"
        return _Spec(
            "antiplatelet (aspirin, secondary prophylaxis)" if secondary else "antiplatelet (aspirin)",
            R_ASPIRIN_SECONDARY,
            stop_days=6,
            decision=R_ASPIRIN_SECONDARY,
            note=_DECIDE if secondary else "purpose not recorded as primary or secondary prevention: " + _DECIDE,
        )
    if drug in _NSAID_DAYS:
        return _Spec("NSAID", R_NSAID, stop_days=_NSAID_DAYS[drug])
    if drug in ("cilostazol", "dipyridamole"):
        return _Spec("antiplatelet (phosphodiesterase inhibitor)", R_CILOSTAZOL, stop_days=2)
    if drug in ("heparin", "ufh"):
        if med.route == "iv":
            return _anticoagulant(_Spec("unfractionated heparin (IV)", R_UFH, stop_hours=6, restart_hours=2), med)
        return _anticoagulant(
            _Spec(
                "unfractionated heparin (subcutaneous)",
                R_UFH,
                stop_hours=24,
                restart_hours=6,
                note=None if med.route == "sc" else "route not recorded: subcutaneous timing applied",
            ),
            med,
        )
    if drug in ("enoxaparin", "dalteparin", "tinzaparin"):
        if med.purpose == "prophylactic":
            spec = _Spec("LMWH (prophylactic dose)", R_LMWH, stop_hours=12, restart_hours=12, restart_hours_max=24)
        else:
            spec = _Spec(
                "LMWH (therapeutic dose)",
                R_LMWH,
                stop_hours=24,
                restart_hours=12,
                restart_hours_max=24,
                note=None if med.purpose == "therapeutic" else "dose not recorded: therapeutic timing applied",
            )
        return _anticoagulant(spec, med)
    if drug in _P2Y12_DAYS:
        decision = _antiplatelet_decision(med)
        note = "7-10 days in the table; the longer interval is applied" if drug == "prasugrel" else None
        if decision is not None:
            why = "secondary prevention" if med.purpose == "secondary_prevention" else "purpose not recorded"
            note = f"{why}: {_DECIDE}"
        return _Spec(
            "P2Y12 inhibitor",
            R_P2Y12,
            stop_days=_P2Y12_DAYS[drug],
            restart_hours=12,
            restart_hours_max=24,
            note=note,
            decision=decision,
        )
    if drug in ("rivaroxaban", "apixaban", "edoxaban", "dabigatran"):
        return _anticoagulant(_doac_spec(drug, crcl, policy), med)
    if drug == "fondaparinux":
        return _anticoagulant(_Spec("factor Xa inhibitor (indirect)", R_FONDAPARINUX, stop_days=4), med)
    return None


_P2Y12_DAYS = {"clopidogrel": 7, "prasugrel": 10, "ticagrelor": 5}
PAUSE_STUDIED = frozenset({"apixaban", "rivaroxaban", "dabigatran"})


def _doac_spec(drug: str, crcl: float | None, policy: ClinicPolicy) -> _Spec:
    """Return the DOAC interval from the clinic's protocol and the creatinine clearance (rules asra.doac, pause.doac).

    Without a creatinine clearance no date is given (it is listed as missing). PAUSE did not study
    edoxaban or a creatinine clearance below 30 mL/min: those fall back to the ASRA interval, with a note.
    """
    if crcl is None:
        rule_ = R_DOAC_PAUSE if policy.doac_protocol == "pause" and drug in PAUSE_STUDIED else R_DOAC_ASRA
        return _Spec("DOAC", rule_, stop_days=0, missing=(_CRCL_MISSING,))
    fallback: str | None = None
    if policy.doac_protocol == "pause":
        if drug in PAUSE_STUDIED and crcl >= 30:
            days = 4 if drug == "dabigatran" and crcl < 50 else 2
            return _Spec("DOAC", R_DOAC_PAUSE, stop_days=days, restart_hours=48, restart_hours_max=72)
        fallback = (
            "edoxaban was not studied in PAUSE: the ASRA interval applies"
            if drug == "edoxaban"
            else "creatinine clearance below 30 mL/min was not studied in PAUSE: the ASRA interval applies"
        )
    if drug == "dabigatran":
        return _Spec("DOAC", R_DOAC_ASRA, stop_days=5 if crcl >= 50 else 6, note=fallback)
    if crcl >= 30:
        return _Spec("DOAC", R_DOAC_ASRA, stop_days=3, note=fallback)
    why = f"creatinine clearance {crcl:g} mL/min: the half-life is longer than the table assumes"
    return _Spec(
        "DOAC",
        R_DOAC_ASRA,
        stop_days=0,
        decision=R_DOAC_ASRA,
        note=f"{why}; the prescriber sets the interval (recorded with the decision)"
        + ("" if fallback is None else f"; {fallback}"),
    )


def _without_hold(name: str) -> bool:
    """Return True for a medicine known to have no antiplatelet or anticoagulant effect.

    Multi-word names match whole ("vitamin d", never "vitamin e", which has an antiplatelet effect).
    """
    key = " ".join(name.lower().replace("-", " ").split())
    return key in _NO_HOLD or (not key.startswith("vitamin") and key.split(" ")[0] in _NO_HOLD)


def _undated(med: Medication, drug_class: str, action: HoldAction, note: str, why: Rule) -> MedicationHold:
    """A medication entry without hold dates: continued, or to be checked with the prescriber."""
    return MedicationHold(
        drug=med.name,
        drug_class=drug_class,
        action=action,
        stop_days_before=None,
        stop_hours_before=None,
        restart_after_hours=None,
        restart_after_hours_max=None,
        last_dose_on=None,
        last_dose_by=None,
        hold_complete_by=None,
        restart_from=None,
        restart_until=None,
        condition=None,
        note=note,
        verify=False,
        rule=why,
    )


def _agreed(decision: PrescriberDecision) -> str:
    return f"agreed with the prescriber on {decision.agreed_on.isoformat()} (recorded by {decision.recorded_by})"


def _after_decision(spec: _Spec, med: Medication) -> tuple[_Spec, HoldAction]:
    """Apply a recorded prescriber decision to the table's spec (rule medications.prescriber_decision_recorded).

    Without a decision a required decision stays outstanding. ``continue`` keeps the medicine; ``hold``
    and ``bridge`` hold it for the table's interval or the prescriber's, whichever is longer. A decision
    answers the thrombotic-risk question, and the creatinine clearance when it sets the interval itself.
    """
    decision = med.prescriber_decision
    if decision is None:
        return spec, HoldAction.SHARED_DECISION if spec.decision is not None else HoldAction.HOLD
    if decision.decision == "continue":
        return replace(spec, note=f"continued: {_agreed(decision)}", missing=()), HoldAction.CONTINUE
    days = max(spec.stop_days, decision.stop_days_before or 0)
    missing = tuple(
        m for m in spec.missing if m != _RISK_MISSING and not (m == _CRCL_MISSING and decision.stop_days_before)
    )
    notes = [f"{decision.decision}: {_agreed(decision)}"]
    if decision.decision == "bridge":
        notes.append(
            "bridging as the prescriber plans; a therapeutic heparin bridge (LMWH) has its last dose 24 hours "
            "before the procedure"
            if spec.anticoagulant
            else "bridging as the prescriber plans"
        )
    if decision.note:
        notes.append(decision.note)
    if spec.note and spec.decision is None:  # an informational note (not the request for this decision)
        notes.append(spec.note)
    if days == 0 and spec.stop_hours == 0:
        missing = (*missing, "stop interval agreed with the prescriber")
    return replace(spec, stop_days=days, note="; ".join(notes), missing=missing), HoldAction.HOLD


def medication_holds(
    case: Case,
    policy: ClinicPolicy,
    procedure_start: dt.datetime | None,
    procedure_end: dt.datetime | None,
) -> tuple[MedicationHold, ...]:
    """Return the hold plan for every medication on the list (ASRA 2018 high-risk table).

    Dates are calendar dates from the procedure date. A hold of N days means N whole days without the
    drug before the procedure day (the reading of PAUSE and of the usual 5-day warfarin hold): for a
    procedure on the 14th, warfarin's last dose is on the 8th. Hour intervals are elapsed time in the
    clinic's zone. Without a procedure date the intervals are given but no dates. A required decision
    with the prescriber that is not recorded, or a missing fact, gives no dates (rules
    medications.antiplatelet_secondary_decision, medications.thrombotic_risk_decision, asra.doac).
    Unlisted medications are returned with action ``check`` (rule medications.unlisted).
    """
    holds: list[MedicationHold] = []
    for med in case.medications or ():
        table = _spec(med, case, policy)
        if table is None:
            if _without_hold(med.name):
                holds.append(
                    _undated(med, "no antithrombotic effect", HoldAction.CONTINUE, "continue as usual", R_NO_HOLD)
                )
            else:
                holds.append(
                    _undated(
                        med,
                        "not in the antithrombotic table",
                        HoldAction.CHECK,
                        "confirm with the prescriber that it does not affect bleeding",
                        R_UNKNOWN_DRUG,
                    )
                )
            continue
        spec, action = _after_decision(table, med)
        why = table.decision if action is HoldAction.SHARED_DECISION and table.decision is not None else spec.rule
        dated = action is HoldAction.HOLD and not spec.missing and (spec.stop_days or spec.stop_hours)
        last_on: dt.date | None = None
        last_by: dt.datetime | None = None
        restart_from = restart_until = None
        if dated and procedure_start is not None:
            if spec.stop_days:
                # N full days without the drug before the procedure day: the last dose is on day -(N+1)
                last_on = procedure_start.date() - dt.timedelta(days=spec.stop_days + 1)
            else:
                last_by = shifted(procedure_start, policy.time_zone, hours=-spec.stop_hours)
        if dated and procedure_end is not None:
            restart_from = shifted(procedure_end, policy.time_zone, hours=spec.restart_hours)
            if spec.restart_hours_max is not None:
                restart_until = shifted(procedure_end, policy.time_zone, hours=spec.restart_hours_max)
        holding = action in (HoldAction.HOLD, HoldAction.SHARED_DECISION)
        holds.append(
            MedicationHold(
                drug=med.name,
                drug_class=spec.drug_class,
                action=action,
                stop_days_before=(spec.stop_days or None) if holding else None,
                stop_hours_before=(None if spec.stop_days or not spec.stop_hours else spec.stop_hours)
                if holding
                else None,
                restart_after_hours=spec.restart_hours if holding else None,
                restart_after_hours_max=spec.restart_hours_max if holding else None,
                last_dose_on=last_on,
                last_dose_by=last_by,
                hold_complete_by=procedure_start if dated else None,
                restart_from=restart_from,
                restart_until=restart_until,
                condition=spec.condition if holding else None,
                note=spec.note,
                verify=spec.rule.unverified or (table.decision is not None and table.decision.unverified),
                rule=why,
                missing=spec.missing,
                decision_required=table.decision is not None,
                decision=med.prescriber_decision,
            )
        )
    return tuple(holds)
