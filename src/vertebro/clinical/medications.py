"""Peri-procedural antithrombotic holds for a high bleeding-risk spine procedure (ASRA 2018).

Vertebral augmentation is a *high* bleeding-risk procedure in the ASRA 2018 interventional spine and
pain guidelines. Rows the reference could not confirm in the primary document carry ``verify=True``
and are shown as unverified in every output. For the direct oral anticoagulants a clinic chooses
between the ASRA rows and the PAUSE protocol (``ClinicPolicy.doac_protocol``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.facts import Case, Medication
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
R_DOAC_ASRA = rule(
    "asra.doac",
    "DOACs (five half-lives): rivaroxaban, apixaban, edoxaban stop 3 days before; dabigatran 4-5 "
    "days, 6 days with renal impairment; restart 24 h after.",
    "asra-2018-unconfirmed-rows",
)
R_FONDAPARINUX = rule(
    "asra.fondaparinux",
    "Fondaparinux: stop 4 days before; restart 24 h after.",
    "asra-2018-unconfirmed-rows",
)
R_DOAC_PAUSE = rule(
    "pause.doac",
    "PAUSE protocol, high bleeding risk: apixaban, rivaroxaban, edoxaban stop 2 days before; "
    "dabigatran 2 days (creatinine clearance 50 mL/min or more) or 4 days (below 50); resume "
    "48-72 h after.",
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
    """What to do with one medication before the procedure."""

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
    action: HoldAction = HoldAction.HOLD
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MedicationHold:
    """One medication's plan: when the last dose is, when it may restart, on what condition."""

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


def _spec(med: Medication, case: Case, policy: ClinicPolicy) -> _Spec | None:
    drug = normalized_drug(med.name)
    crcl = case.labs.creatinine_clearance_ml_min
    if drug == "warfarin":
        return _Spec(
            "vitamin K antagonist",
            R_WARFARIN,
            stop_days=5,
            restart_hours=6,
            condition=_INR_NORMAL,
        )
    if drug == "acenocoumarol":
        return _Spec("vitamin K antagonist", R_ACENOCOUMAROL, stop_days=3, condition=_INR_NORMAL)
    if drug == "aspirin":
        if med.purpose == "primary_prevention":
            return _Spec(
                "antiplatelet (aspirin, primary prophylaxis)",
                R_ASPIRIN_PRIMARY,
                stop_days=6,
            )
        if med.purpose == "secondary_prevention":
            return _Spec(
                "antiplatelet (aspirin, secondary prophylaxis)",
                R_ASPIRIN_SECONDARY,
                stop_days=6,
                action=HoldAction.SHARED_DECISION,
                note="decide with the prescriber whether to hold; if held, the last dose is shown",
            )
        return _Spec(
            "antiplatelet (aspirin)",
            R_ASPIRIN_SECONDARY,
            stop_days=6,
            action=HoldAction.SHARED_DECISION,
            note="purpose not recorded: record primary or secondary prevention before deciding",
        )
    if drug in _NSAID_DAYS:
        return _Spec("NSAID", R_NSAID, stop_days=_NSAID_DAYS[drug])
    if drug in ("cilostazol", "dipyridamole"):
        return _Spec("antiplatelet (phosphodiesterase inhibitor)", R_CILOSTAZOL, stop_days=2)
    if drug in ("heparin", "ufh"):
        if med.route == "iv":
            return _Spec("unfractionated heparin (IV)", R_UFH, stop_hours=6, restart_hours=2)
        return _Spec(
            "unfractionated heparin (subcutaneous)",
            R_UFH,
            stop_hours=24,
            restart_hours=6,
            note=None if med.route == "sc" else "route not recorded: subcutaneous timing applied",
        )
    if drug in ("enoxaparin", "dalteparin", "tinzaparin"):
        if med.purpose == "prophylactic":
            return _Spec(
                "LMWH (prophylactic dose)",
                R_LMWH,
                stop_hours=12,
                restart_hours=12,
                restart_hours_max=24,
            )
        return _Spec(
            "LMWH (therapeutic dose)",
            R_LMWH,
            stop_hours=24,
            restart_hours=12,
            restart_hours_max=24,
            note=None if med.purpose == "therapeutic" else "dose not recorded: therapeutic timing applied",
        )
    if drug == "clopidogrel":
        return _Spec(
            "P2Y12 inhibitor",
            R_P2Y12,
            stop_days=7,
            restart_hours=12,
            restart_hours_max=24,
        )
    if drug == "prasugrel":
        return _Spec(
            "P2Y12 inhibitor",
            R_P2Y12,
            stop_days=10,
            restart_hours=12,
            restart_hours_max=24,
            note="7-10 days in the table; the longer interval is applied",
        )
    if drug == "ticagrelor":
        return _Spec(
            "P2Y12 inhibitor",
            R_P2Y12,
            stop_days=5,
            restart_hours=12,
            restart_hours_max=24,
        )
    if drug in ("rivaroxaban", "apixaban", "edoxaban", "dabigatran"):
        return _doac_spec(drug, crcl, policy)
    if drug == "fondaparinux":
        return _Spec("factor Xa inhibitor (indirect)", R_FONDAPARINUX, stop_days=4)
    return None


def _doac_spec(drug: str, crcl: float | None, policy: ClinicPolicy) -> _Spec:
    renal_unknown = "creatinine clearance not recorded: the longer interval is applied"
    if policy.doac_protocol == "pause":
        if drug != "dabigatran":
            return _Spec(
                "DOAC",
                R_DOAC_PAUSE,
                stop_days=2,
                restart_hours=48,
                restart_hours_max=72,
            )
        days = 2 if crcl is not None and crcl >= 50 else 4
        return _Spec(
            "DOAC",
            R_DOAC_PAUSE,
            stop_days=days,
            restart_hours=48,
            restart_hours_max=72,
            note=renal_unknown if crcl is None else None,
        )
    if drug != "dabigatran":
        return _Spec("DOAC", R_DOAC_ASRA, stop_days=3)
    days = 6 if crcl is None or crcl < 50 else 5
    return _Spec(
        "DOAC",
        R_DOAC_ASRA,
        stop_days=days,
        note=renal_unknown if crcl is None else None,
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


def medication_holds(
    case: Case,
    policy: ClinicPolicy,
    procedure_start: dt.datetime | None,
    procedure_end: dt.datetime | None,
) -> tuple[MedicationHold, ...]:
    """Return the hold plan for every medication on the list (ASRA 2018 high-risk table).

    Dates are calendar dates from the procedure date. A hold of N days means N whole days without the
    drug before the procedure day (the reading of PAUSE and of the usual 5-day warfarin hold): for a
    procedure on the 14th, warfarin's last dose is on the 8th. Without a procedure date the intervals are given but
    no dates. Unlisted medications are returned with action ``check`` (rule medications.unlisted).
    """
    holds: list[MedicationHold] = []
    for med in case.medications or ():
        spec = _spec(med, case, policy)
        if spec is None:
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
        last_on: dt.date | None = None
        last_by: dt.datetime | None = None
        if procedure_start is not None:
            if spec.stop_days:
                # N full days without the drug before the procedure day: the last dose is on day -(N+1)
                last_on = procedure_start.date() - dt.timedelta(days=spec.stop_days + 1)
            else:
                last_by = procedure_start - dt.timedelta(hours=spec.stop_hours)
        restart_from = restart_until = None
        if procedure_end is not None:
            restart_from = procedure_end + dt.timedelta(hours=spec.restart_hours)
            if spec.restart_hours_max is not None:
                restart_until = procedure_end + dt.timedelta(hours=spec.restart_hours_max)
        holds.append(
            MedicationHold(
                drug=med.name,
                drug_class=spec.drug_class,
                action=spec.action,
                stop_days_before=spec.stop_days or None,
                stop_hours_before=None if spec.stop_days else spec.stop_hours,
                restart_after_hours=spec.restart_hours,
                restart_after_hours_max=spec.restart_hours_max,
                last_dose_on=last_on,
                last_dose_by=last_by,
                hold_complete_by=procedure_start,
                restart_from=restart_from,
                restart_until=restart_until,
                condition=spec.condition,
                note=spec.note,
                verify=spec.rule.unverified,
                rule=spec.rule,
            )
        )
    return tuple(holds)
