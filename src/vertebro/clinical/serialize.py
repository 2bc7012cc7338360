"""The assessment as plain JSON-compatible data (the CLI's ``--format json`` and the stored result)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from vertebro.clinical.assessment import Assessment
from vertebro.clinical.evidence import source
from vertebro.clinical.findings import FractureFinding
from vertebro.clinical.medications import MedicationHold
from vertebro.clinical.rules import Rule
from vertebro.clinical.verdicts import ProfileVerdict, Reason

JSON = dict[str, Any]


_FIELDS: dict[type, tuple[str, ...]] = {}
_ATOMS = (str, int, bool, type(None))


def _field_names(kind: type) -> tuple[str, ...] | None:
    """Return a dataclass type's field names (looked up once per type), or None for other types."""
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(kind):
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


def _plain(value: Any, rules: dict[str, Rule]) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is float:
        return round(value, 3)
    if isinstance(value, Rule):
        rules[value.id] = value
        return value.id
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    names = _field_names(kind)
    if names is not None:
        return {name: _plain(getattr(value, name), rules) for name in names}
    if isinstance(value, dict):
        return {str(k): _plain(v, rules) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, rules) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def _reason(reason: Reason, rules: dict[str, Rule]) -> JSON:
    rules[reason.rule.id] = reason.rule
    return {
        "rule": reason.rule.id,
        "effect": reason.effect.value,
        "detail": reason.detail,
        "sources": list(reason.rule.sources),
        "unverified": reason.rule.unverified,
    }


def _verdict(verdict: ProfileVerdict, rules: dict[str, Rule]) -> JSON:
    return {
        "title": verdict.title,
        "category": verdict.category.value,
        "label": verdict.label,
        "reasons": [_reason(r, rules) for r in verdict.reasons],
        "missing": list(verdict.missing),
    }


def _fracture(f: FractureFinding, rules: dict[str, Rule]) -> JSON:
    m = f.morphometry
    return {
        "level": f.level,
        "cause": f.fracture.cause,
        "age_band": None if f.age_band is None else f.age_band.value,
        "imaging_acute": f.imaging_acute,
        "height_loss_percent": None if m is None else m.height_loss_percent,
        "height_loss_reference": None if m is None else m.reference.value,
        "reported_height_loss_discrepancy": f.height_loss_discrepancy,
        "genant_grade": None if m is None else m.genant_grade,
        "morphology": None if m is None or m.morphology is None else m.morphology.value,
        "vertebra_plana": None if m is None else m.vertebra_plana,
        "wedge_ratio": None if m is None else m.wedge_ratio,
        "biconcavity_ratio": None if m is None else m.biconcavity_ratio,
        "crush_ratio_above": None if m is None else m.crush_ratio_above,
        "crush_ratio_below": None if m is None else m.crush_ratio_below,
    }


def _hold(h: MedicationHold, rules: dict[str, Rule]) -> JSON:
    rules[h.rule.id] = h.rule
    stop = h.last_dose_on.isoformat() if h.last_dose_on else (h.last_dose_by.isoformat() if h.last_dose_by else None)
    return {
        "drug": h.drug,
        "drug_class": h.drug_class,
        "action": h.action.value,
        "stop": stop,
        "stop_days_before": h.stop_days_before,
        "stop_hours_before": h.stop_hours_before,
        "restart": None if h.restart_from is None else h.restart_from.isoformat(),
        "restart_latest": None if h.restart_until is None else h.restart_until.isoformat(),
        "restart_after_hours": h.restart_after_hours,
        "restart_after_hours_max": h.restart_after_hours_max,
        "condition": h.condition,
        "note": h.note,
        "verify": h.verify,
        "rule": h.rule.id,
        "sources": list(h.rule.sources),
        "missing": list(h.missing),
        "outstanding": list(h.outstanding),
        "decision_required": h.decision_required,
        "decision": None if h.decision is None else h.decision.model_dump(mode="json"),
    }


def _source_json(sid: str) -> JSON:
    found = source(sid)
    return {
        "citation": found.citation,
        "locator": found.locator,
        "identifier": found.identifier,
        "read_at": found.read_at,
        "year": found.year,
        "confirmation": found.confirmation.value,
    }


def assessment_json(a: Assessment) -> JSON:
    """Return the assessment as JSON-compatible data, with every rule and source it cites."""
    rules: dict[str, Rule] = {}
    rec = a.recommendation
    prep = a.preparation
    result: JSON = {
        "ruleset_version": a.ruleset_version,
        "as_of": a.as_of.isoformat(),
        "default_profile": rec.default_profile,
        "fractures": [_fracture(f, rules) for f in a.fractures],
        "profiles": {pid: _verdict(v, rules) for pid, v in a.profiles.items()},
        "disagreement": None
        if a.disagreement is None
        else {
            "summary": a.disagreement.summary,
            "categories": _plain(a.disagreement.categories, rules),
        },
        "recommendation": {
            "treatment": rec.treatment.value,
            "levels": list(rec.levels),
            "sessions": [list(s) for s in rec.sessions],
            "also": list(rec.also),
            "mdt_review": rec.mdt_review,
            "why": [{"rule": _plain(r, rules), "detail": d} for r, d in rec.why],
        },
        "preparation": {
            "procedure_start": None if prep.procedure_start is None else prep.procedure_start.isoformat(),
            "arrival": None if prep.arrival is None else prep.arrival.isoformat(),
            "medication_holds": [_hold(h, rules) for h in prep.medication_holds],
            "items": _plain(prep.items, rules),
        },
        "procedure": _plain(a.procedure, rules),
        "recovery": _plain(a.recovery, rules),
        "outcome_targets": _plain(a.outcome_targets, rules),
        "unrecorded": [{"path": g.path, "label": g.label} for g in a.unrecorded],
    }
    result["rules"] = {
        rid: {
            "statement": r.statement,
            "sources": list(r.sources),
            "confirmation": r.confirmation.value,
            "unverified": r.unverified,
        }
        for rid, r in sorted(rules.items())
    }
    cited = sorted({s for r in rules.values() for s in r.sources})
    result["sources"] = {sid: _source_json(sid) for sid in cited}
    return result
