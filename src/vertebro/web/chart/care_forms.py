"""What the chart's procedure and monitoring forms show: a saved draft's values, the NEWS2 band's colour and words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.clinical.news2 import Risk
from vertebro.pathway.monitoring import NeuroCheck, neuro_of, risk_of_stored
from vertebro.store.models import ProcedureRecord

DOSE_FIELDS = ("fluoroscopy_minutes", "dap_gy_cm2", "air_kerma_mgy", "ctdivol_mgy", "dlp_mgy_cm")
NEURO_WORDS = {
    NeuroCheck.UNCHANGED: "unchanged",
    NeuroCheck.CHANGED: "CHANGED",
    NeuroCheck.NOT_DONE: "not done",
}


def _local(moment: dt.datetime | None, zone_name: str) -> str:
    """A stored moment as the clinic's wall-clock time in a datetime-local input (read back in the same zone)."""
    return "" if moment is None else moment.astimezone(zone_of(zone_name)).strftime("%Y-%m-%dT%H:%M")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def procedure_form_values(record: ProcedureRecord | None, zone_name: str = DEFAULT_TIME_ZONE) -> dict[str, Any]:
    """Return the procedure form's values from a saved draft, as the form posts them (empty without a draft).

    Times are the clinic's wall-clock times (``zone_name``), as the form reads them back.
    """
    if record is None:
        return {}
    values: dict[str, Any] = {
        "technique": record.technique,
        "sedation": "on" if record.sedation else "",
        "started_at": _local(record.started_at, zone_name) if record.start_recorded is not False else "",
        "ended_at": _local(record.ended_at, zone_name),
        "complications": "; ".join(str(c) for c in record.complications),
        "notes": record.notes or "",
        "date_change_reason": record.date_change_reason or "",
        **{name: _number(getattr(record, name)) for name in DOSE_FIELDS},
    }
    for level in record.levels:
        prefix = f"{level.level}."
        values[prefix + "approach"] = level.approach
        values[prefix + "guidance"] = level.guidance
        values[prefix + "contrast"] = "on" if level.contrast else ""
        values[prefix + "cement_product"] = level.cement_product or ""
        values[prefix + "cement_volume_ml"] = _number(level.cement_volume_ml)
        values[prefix + "leaks"] = list(level.leaks or ([] if level.leakage == "none" else [level.leakage]))
        values[prefix + "leakage_symptomatic"] = "on" if level.leakage_symptomatic else ""
    return values


def selected_leaks(values: dict[str, Any], level: str) -> list[str]:
    """Return the leak sites ticked for a level, from a draft's values or a posted form's raw values."""
    found = values.get(f"{level}.leaks")
    if isinstance(found, list):
        return [str(site) for site in found]
    return [str(found)] if found else []


def observation_words(value: dict[str, Any]) -> dict[str, str]:
    """Return how the chart shows a stored observation set: NEWS2, its band (class and words) and the neuro check."""
    risk = risk_of_stored(value)
    return {
        "news2": "-" if risk is None else str(value.get("news2")),
        "band": "none" if risk is None else risk.value,
        "band_words": "not scored (recorded before NEWS2)" if risk is None else f"{risk.value} risk: {risk.response}",
        "neuro": NEURO_WORDS[neuro_of(value)],
    }


RISKS = tuple(r.value for r in Risk)
