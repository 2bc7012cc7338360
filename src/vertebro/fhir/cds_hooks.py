"""CDS Hooks 2.0: the services vertebro offers an EHR and the cards it answers with.

Three services: ``vertebro-order-select`` and ``vertebro-order-sign`` (a vertebral augmentation ServiceRequest
among the draft orders) and ``vertebro-patient-view`` (a patient with a vertebral fracture on record). Each reads
only what the EHR sends in ``prefetch`` (vertebro never queries the EHR's FHIR server, so a missing Patient
prefetch is answered 412), builds a case with the reader the caller passes (``intake.fhir_bundle``), assesses it
with the clinic policy and answers cards: one per guideline profile, missing data, medication holds (dated when
the order has an occurrence date) and a link to vertebro's patient page when vertebro knows the patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from vertebro.clinical import Case, ClinicPolicy, assess, assessment_json
from vertebro.errors import InvalidInput, NotFound, PreconditionFailed
from vertebro.fhir.codes import maps, system
from vertebro.fhir.elements import Resource

SOURCE_LABEL = "vertebro (decision support, not a substitute for clinical judgement)"
NO_FRACTURE = "Bundle.entry: no Condition is a vertebral fracture"  # intake.fhir_bundle's message (tested)
ORDER_WORDS = ("vertebroplasty", "kyphoplasty", "vertebral augmentation")
INDICATORS = {
    "appropriate": "info",
    "uncertain": "warning",
    "not_appropriate": "warning",
    "contraindicated": "critical",
}

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    # _include: an order or statement may name its drug by medicationReference (US Core MedicationRequest does;
    # its servers SHALL support _include=MedicationRequest:medication); without the Medication the drug is unread.
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}&_include=MedicationStatement:medication",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active"
    "&_include=MedicationRequest:medication",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
    # the current stay (intake reads inpatient status from the class of an open encounter)
    "encounters": "Encounter?patient={{context.patientId}}&status=arrived,triaged,in-progress,onleave",
}
SERVICES: dict[str, dict[str, str]] = {
    "vertebro-order-select": {
        "hook": "order-select",
        "title": "vertebro: vertebral augmentation candidacy",
        "description": "When a vertebroplasty or kyphoplasty order is selected: each guideline profile's verdict, "
        "missing data and medication holds.",
    },
    "vertebro-order-sign": {
        "hook": "order-sign",
        "title": "vertebro: vertebral augmentation check before signing",
        "description": "When a vertebroplasty or kyphoplasty order is signed: each guideline profile's verdict, "
        "missing data and medication holds dated from the order's occurrence date.",
    },
    "vertebro-patient-view": {
        "hook": "patient-view",
        "title": "vertebro: vertebral fracture candidacy",
        "description": "When a patient with a vertebral fracture on record is opened: each guideline profile's "
        "verdict and the data still missing.",
    },
}


class CaseReader(Protocol):
    """Reads one patient's FHIR resources into a case (``vertebro.intake.fhir_bundle.case_from_resources``)."""

    def __call__(self, resources: list[Resource], *, as_of: dt.date | None = None) -> Case: ...


def discovery(*, jwt_required: bool) -> dict[str, Any]:
    """Return the discovery document (``GET /cds-services``); ``usageRequirements`` says how calls authenticate."""
    usage = (
        "Calls must carry a JWT (Authorization: Bearer) signed by a key of vertebro's configured JWKS, with aud = "
        "the service URL."
        if jwt_required
        else "No JWKS is configured on this server: calls are accepted without a JWT, and vertebro then never "
        "looks up whether it knows the patient. Configure VERTEBRO_CDS_JWKS before connecting a real EHR."
    )
    return {
        "services": [
            {
                "id": service_id,
                **spec,
                "prefetch": dict(PREFETCH),
                "usageRequirements": usage + " Only prefetched data is used; vertebro never calls the EHR back.",
            }
            for service_id, spec in SERVICES.items()
        ]
    }


def _entries(value: object) -> list[Resource]:
    """Return the resources of one prefetch value: a resource, a Bundle of them, or null."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [
            e["resource"]
            for e in value.get("entry") or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    return [value] if "resourceType" in value else []


def _order_codes() -> set[tuple[str, str]]:
    return {(system(c["system"]), c["code"]) for entries in maps()["procedure"].values() for c in entries}


def augmentation_orders(context: dict[str, Any]) -> list[Resource]:
    """Return the draft ServiceRequests that order vertebral augmentation (by our procedure codes or their text).

    ``order-select`` narrows them to ``context.selections`` when it names any.
    """
    orders = [r for r in _entries(context.get("draftOrders")) if r.get("resourceType") == "ServiceRequest"]
    selections = {s for s in context.get("selections") or [] if isinstance(s, str)}
    if selections:
        orders = [r for r in orders if f"ServiceRequest/{r.get('id')}" in selections]
    codes = _order_codes()
    found = []
    for order in orders:
        code = order.get("code")
        concept: dict[str, Any] = code if isinstance(code, dict) else {}
        codings = {(c.get("system"), c.get("code")) for c in concept.get("coding") or [] if isinstance(c, dict)}
        words = " ".join(
            [str(concept.get("text") or ""), *(str(c.get("display") or "") for c in concept.get("coding") or [])]
        )
        if codings & codes or any(w in words.lower() for w in ORDER_WORDS):
            found.append(order)
    return found


def occurrence_date(order: Resource) -> dt.date | None:
    """Return the date an order is planned for (``occurrenceDateTime`` or ``occurrencePeriod.start``), or None."""
    value = order.get("occurrenceDateTime") or (order.get("occurrencePeriod") or {}).get("start")
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        raise InvalidInput(
            f"ServiceRequest/{order.get('id')}.occurrence: {value!r} is not a date", field="context.draftOrders"
        ) from None


def _card(summary: str, indicator: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = {"summary": summary[:140], "indicator": indicator, "source": {"label": SOURCE_LABEL}}
    if detail:
        card["detail"] = detail
    card.update(extra)
    return card


def _profile_cards(result: dict[str, Any]) -> list[dict[str, Any]]:
    cards = []
    for profile, verdict in result["profiles"].items():
        lines = [
            f"- {r['effect']}: {r['detail']} (`{r['rule']}`{', **unverified source**' if r.get('unverified') else ''})"
            for r in verdict["reasons"]
        ]
        lines += [f"- missing: {m}" for m in verdict["missing"]]
        default = " (the clinic's default profile)" if profile == result["default_profile"] else ""
        detail = f"**{verdict['title']}**{default}\n\n" + "\n".join(lines)
        short = verdict["title"].split(":")[0]
        cards.append(_card(f"{short}: {verdict['label']}", INDICATORS[verdict["category"]], detail))
    return cards


def _missing_card(result: dict[str, Any]) -> list[dict[str, Any]]:
    by_item: dict[str, list[str]] = {}
    for profile, verdict in result["profiles"].items():
        for item in verdict["missing"]:
            by_item.setdefault(str(item), []).append(profile)
    if not by_item:
        return []
    items = list(by_item)
    summary = f"Missing data: {items[0]}" + (f" and {len(items) - 1} more" if len(items) > 1 else "")
    detail = "\n".join(f"- {item} (needed by {', '.join(profiles)})" for item, profiles in by_item.items())
    return [_card(summary, "warning", detail)]


def _hold_line(hold: dict[str, Any]) -> str:
    waiting = hold.get("outstanding") or []
    when = (
        "no date until recorded: " + "; ".join(waiting)
        if waiting
        else f"stop on {hold['stop']}"
        if hold.get("stop")
        else f"stop {hold['stop_days_before']} days before"
        if hold.get("stop_days_before") is not None
        else f"stop {hold['stop_hours_before']} hours before"
        if hold.get("stop_hours_before") is not None
        else hold["action"]
    )
    restart = f"; restart {hold['restart']}" if hold.get("restart") else ""
    condition = f"; {hold['condition']}" if hold.get("condition") else ""
    verify = " (**verify**: unverified source)" if hold.get("verify") else ""
    return f"- **{hold['drug']}** ({hold['drug_class']}): {when}{restart}{condition}{verify} (`{hold['rule']}`)"


def _holds_card(result: dict[str, Any], planned: dt.date | None) -> list[dict[str, Any]]:
    holds = [h for h in result["preparation"]["medication_holds"] if h["action"] != "continue"]
    if not holds:
        return []
    names = ", ".join(h["drug"] for h in holds)
    dated = (
        f"Dated from the planned procedure on {planned.isoformat()}."
        if planned
        else "No procedure date is known: the holds are given relative to the procedure day."
    )
    detail = dated + "\n\n" + "\n".join(map(_hold_line, holds))
    return [_card(f"Medication holds before the procedure: {names}", "warning", detail)]


MEDICATION_PREFETCH = ("medicationStatements", "medicationRequests")


def _fetch_failed(value: object) -> bool:
    """Whether a prefetch value is the EHR saying it could not fetch it (CDS Hooks 2.0: an OperationOutcome)."""
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _failed_prefetch_card(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """Name each prefetch the EHR could not fetch, with its reason: what it holds is unknown here, never none."""
    failed = {key: value for key, value in prefetch.items() if _fetch_failed(value)}
    if not failed:
        return []

    def reason(outcome: dict[str, Any]) -> str:
        issues = [i for i in outcome.get("issue") or [] if isinstance(i, dict)]
        said = [str(i.get("diagnostics") or i.get("code") or "") for i in issues]
        return "; ".join(s for s in said if s) or "no reason given"

    detail = "The EHR could not fetch this data, so vertebro read it as not recorded (never as none):\n\n" + "\n".join(
        f"- {key}: {reason(outcome)}" for key, outcome in failed.items()
    )
    return [_card("EHR data not fetched: " + ", ".join(failed), "warning", detail)]


def _medication_prefetch_card(prefetch: dict[str, Any]) -> list[dict[str, Any]]:
    """Say so when no medication prefetch came: the medicines are then not reviewed, never "takes none"."""
    if any(isinstance(prefetch.get(key), dict) and not _fetch_failed(prefetch[key]) for key in MEDICATION_PREFETCH):
        return []
    detail = (
        "The EHR sent no medication prefetch (" + ", ".join(MEDICATION_PREFETCH) + "). vertebro reads the "
        "medicines as not reviewed, never as none: record the medication list before planning holds."
    )
    return [_card("Medication list not sent: medicines not reviewed", "warning", detail)]


def _problem_card(problems: list[str]) -> dict[str, Any]:
    detail = "vertebro cannot assess this patient from the data sent:\n\n" + "\n".join(f"- {p}" for p in problems)
    return _card("vertebro cannot assess: " + problems[0], "warning", detail)


def cards(
    service_id: str,
    request: dict[str, Any],
    *,
    reader: CaseReader,
    policy: ClinicPolicy,
    patient_link: Callable[[Resource], str | None] | None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Return the CDS Hooks response (``{"cards": [...]}``) of one service call.

    ``patient_link`` returns the URL of vertebro's page for the prefetched Patient when vertebro knows them (the
    endpoint passes None for unauthenticated calls). Raises NotFound for an unknown service, InvalidInput for a
    malformed request and PreconditionFailed (412) when the Patient prefetch is missing.
    """
    spec = SERVICES.get(service_id)
    if spec is None:
        raise NotFound(f"no CDS service {service_id!r} (see GET /cds-services)", field="id")
    if request.get("hook") != spec["hook"]:
        raise InvalidInput(
            f"hook {request.get('hook')!r} does not match service {service_id} ({spec['hook']})", field="hook"
        )
    if not isinstance(request.get("hookInstance"), str):
        raise InvalidInput("hookInstance (a string) is required", field="hookInstance")
    context = request.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("patientId"), str):
        raise InvalidInput("context.patientId (a string) is required", field="context.patientId")
    prefetch = request.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise InvalidInput("prefetch must be an object", field="prefetch")
    patients = [r for r in _entries(prefetch.get("patient")) if r.get("resourceType") == "Patient"]
    if not patients:
        raise PreconditionFailed(
            "prefetch.patient is missing: vertebro uses only prefetched data and never queries the EHR",
            field="prefetch.patient",
        )
    orders: list[Resource] = []
    if spec["hook"] != "patient-view":
        if not isinstance(context.get("draftOrders"), dict):
            raise InvalidInput("context.draftOrders (a Bundle) is required", field="context.draftOrders")
        orders = augmentation_orders(context)
        if not orders:
            return {"cards": []}
    resources = [patients[0]]
    for key, value in prefetch.items():
        if key != "patient":
            resources.extend(r for r in _entries(value) if r.get("resourceType") != "Patient")
    planned = next((d for d in map(occurrence_date, orders) if d is not None), None)
    result: dict[str, Any] | None = None
    found: list[dict[str, Any]] = []
    try:
        case = reader(resources, as_of=today)
    except ValueError as error:  # intake's CaseFileError
        problems = [str(p) for p in getattr(error, "problems", [str(error)])]
        if (
            spec["hook"] == "patient-view"
            and problems[0].startswith(NO_FRACTURE)
            and not _fetch_failed(prefetch.get("conditions"))
        ):
            return {"cards": []}
        found.append(_problem_card(problems))
    else:
        if planned is not None:
            case = case.model_copy(update={"procedure_date": planned})
        result = assessment_json(assess(case, policy, as_of=today))
        found += [*_profile_cards(result), *_missing_card(result), *_holds_card(result, planned)]
        found += _medication_prefetch_card(prefetch)
    found += _failed_prefetch_card(prefetch)
    url = patient_link(patients[0]) if patient_link is not None else None
    if url is not None:
        link = {"label": "Open the assessment in vertebro", "url": url, "type": "absolute"}
        found.append(_card("vertebro knows this patient: open the assessment", "info", links=[link]))
    return {"cards": found}
