"""Render an assessment for a person at a terminal (Rich).

Every value printed is data, never markup: table cells go through :func:`rich.markup.escape` and panels
are built from :class:`rich.text.Text`, so "[unverified]" and "[verify]" marks are printed as written.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

DISCLAIMER = (
    "Decision support for clinicians. It does not replace clinical judgement, and rules marked "
    "[unverified] rest on sources not yet checked in their primary document."
)
_CATEGORY_STYLE = {
    "appropriate": "bold green",
    "uncertain": "bold yellow",
    "not_appropriate": "bold red",
    "contraindicated": "bold magenta",
}


def _cells(*values: str) -> tuple[str, ...]:
    """Table cells as literal text (Rich would read "[verify]" as a style tag and drop it)."""
    return tuple(escape(v) for v in values)


def _mark(unverified: bool) -> str:
    return " [unverified]" if unverified else ""


def _fractures(data: dict[str, Any]) -> Table:
    table = Table(title="Fractures", title_justify="left", expand=True)
    for column in ("level", "cause", "age", "unhealed on imaging", "height loss", "Genant", "shape"):
        table.add_column(column)
    for f in data["fractures"]:
        loss = (
            "-"
            if f["height_loss_percent"] is None
            else f"{f['height_loss_percent']:g} % ({f['height_loss_reference']})"
        )
        unhealed = {True: "yes", False: "no (healed)", None: "not imaged"}[f["imaging_acute"]]
        shape = f["morphology"] or "-"
        if f["vertebra_plana"]:
            shape += ", vertebra plana"
        table.add_row(
            *_cells(
                f["level"],
                f["cause"],
                f["age_band"] or "-",
                unhealed,
                loss,
                "-" if f["genant_grade"] is None else str(f["genant_grade"]),
                shape,
            )
        )
    return table


def _profiles(data: dict[str, Any]) -> Group:
    parts: list[Any] = []
    summary = Table(title="Guideline profiles (each evaluated on its own terms)", title_justify="left", expand=True)
    summary.add_column("profile")
    summary.add_column("verdict")
    summary.add_column("label")
    for pid, v in data["profiles"].items():
        marker = " (default)" if pid == data["default_profile"] else ""
        summary.add_row(
            escape(pid + marker), Text(v["category"], style=_CATEGORY_STYLE[v["category"]]), escape(v["label"])
        )
    parts.append(summary)
    if data["disagreement"]:
        parts.append(Text(data["disagreement"]["summary"], style="bold yellow"))
    for pid, v in data["profiles"].items():
        lines = Text()
        for r in v["reasons"]:
            lines.append(f"  {r['effect']:<16} ", style="dim")
            lines.append(f"{r['detail']}  ")
            lines.append(f"[{r['rule']}: {', '.join(r['sources'])}]{_mark(r['unverified'])}\n", style="cyan")
        if v["missing"]:
            lines.append("  missing: " + "; ".join(v["missing"]) + "\n", style="yellow")
        parts.append(Panel(lines, title=f"{pid}: {v['title']}", title_align="left"))
    return Group(*parts)


def _recommendation(data: dict[str, Any]) -> Panel:
    rec = data["recommendation"]
    text = Text()
    text.append(rec["treatment"].replace("_", " "), style="bold")
    if rec["levels"]:
        text.append(f"  levels: {', '.join(rec['levels'])}")
    if rec["sessions"]:
        text.append("  sessions: " + " | ".join(", ".join(s) for s in rec["sessions"]))
    if rec["mdt_review"]:
        text.append("  (multidisciplinary review)", style="yellow")
    if rec["also"]:
        text.append("\n  also: " + ", ".join(a.replace("_", " ") for a in rec["also"]))
    for why in rec["why"]:
        text.append(f"\n  - {why['detail']} ", style="")
        text.append(f"[{why['rule']}]", style="cyan")
    return Panel(text, title=f"Recommendation (default profile: {data['default_profile']})", title_align="left")


def _interval(hold: dict[str, Any], which: str) -> str:
    """Describe a hold's interval when there is no procedure date to turn it into a date."""
    if which == "stop":
        if hold["stop_days_before"]:
            return f"{hold['stop_days_before']} days before"
        if hold["stop_hours_before"]:
            return f"{hold['stop_hours_before']} h before"
        return "-"
    low, high = hold["restart_after_hours"], hold["restart_after_hours_max"]
    if not low:
        return "-"
    return f"{low}-{high} h after" if high else f"{low} h after"


def _preparation(data: dict[str, Any]) -> Group:
    prep = data["preparation"]
    holds = Table(title="Medication holds", title_justify="left", expand=True)
    for column in ("drug", "action", "last dose", "restart from", "condition / note", "rule"):
        holds.add_column(column)
    for h in prep["medication_holds"]:
        waiting = "waiting for: " + "; ".join(h["outstanding"]) if h.get("outstanding") else None
        note = "; ".join(x for x in (waiting, h["condition"], h["note"]) if x)
        rule = h["rule"] + (" [verify]" if h["verify"] else "")
        holds.add_row(
            *_cells(
                h["drug"],
                h["action"],
                h["stop"] or ("no date yet" if h.get("outstanding") else _interval(h, "stop")),
                h["restart"] or _interval(h, "restart"),
                note,
                rule,
            )
        )
    items = Table(title="Preparation checklist", title_justify="left", expand=True)
    for column in ("kind", "instruction", "due", "status"):
        items.add_column(column)
    for item in prep["items"]:
        items.add_row(*_cells(item["kind"], item["instruction"], item["due"] or "-", item["status"]))
    parts: list[Any] = []
    if prep["procedure_start"]:
        parts.append(Text(f"Procedure starts {prep['procedure_start']}; arrive by {prep['arrival']}"))
    else:
        parts.append(Text("No procedure date yet: intervals are given without dates.", style="yellow"))
    if prep["medication_holds"]:
        parts.append(holds)
    parts.append(items)
    return Group(*parts)


def _procedure_and_recovery(data: dict[str, Any]) -> Group:
    proc, rec = data["procedure"], data["recovery"]
    cement = proc["cement"]
    phases = ", ".join(f"{p['name']} {p['start_min']:g}-{p['end_min']:g} min" for p in cement["phases"])
    text = Text()
    if proc["sessions"]:
        minutes = ", ".join(str(m) for m in proc["room_minutes_per_session"])
        text.append(
            f"Room time per session: {minutes} min ({proc['levels']} level(s), {proc['sessions']} session(s))\n"
        )
    text.append(
        f"Cement {cement['product']['name']} at {cement['temperature_c']:g} C: {phases}{_mark(cement['verify'])}\n"
    )
    text.append(f"Monitoring: {rec['monitoring_minutes']} min. " + "; ".join(rec["monitoring_checks"]) + "\n")
    text.append("Discharge when: " + "; ".join(rec["discharge_criteria"]) + "\n")
    if rec["escort_required"]:
        until = f" until {rec['escort_until']}" if rec["escort_until"] else ""
        text.append(f"Escort: an adult takes the patient home and stays{until}\n")
    for step in rec["aftercare"]:
        span = f" ({step['start']} to {step['end']})" if step["start"] else ""
        text.append(f"Aftercare: {step['instruction']}{span}\n")
    for visit in rec["follow_up"]:
        span = f" {visit['due_from']} to {visit['due_until']}" if visit["due_from"] else ""
        text.append(f"Follow-up: {visit['name']}{span}: {', '.join(visit['questionnaires'])}\n")
    if rec["bone_health_referral"]:
        text.append("Bone health: refer for bone-density evaluation and osteoporosis treatment\n")
    for flag in rec["red_flags"]:
        text.append(f"Red flag: {flag['symptom']}: {flag['action']}\n", style="red")
    targets = data["outcome_targets"]
    if targets["nrs_responder_at_most"] is not None:
        text.append(
            f"Responder if NRS at follow-up is {targets['nrs_responder_at_most']} or less "
            f"(baseline {targets['nrs_baseline']})\n"
        )
    return Group(Panel(text, title="Procedure, recovery and follow-up", title_align="left"))


def _sources(data: dict[str, Any]) -> Panel:
    text = Text()
    for i, (sid, s) in enumerate(data["sources"].items(), start=1):
        year = f" ({s['year']})" if s["year"] else ""
        text.append(f"[{i}] {sid}: {s['citation']}{year}. {s['locator']} [{s['confirmation']}]\n")
    return Panel(text, title="Sources", title_align="left")


def print_assessment(console: Console, data: dict[str, Any], patient: str) -> None:
    """Print a whole assessment (as produced by ``assessment_json``) for a clinician."""
    console.print(Text(DISCLAIMER, style="italic"))
    console.print(Text(f"{patient} — ruleset {data['ruleset_version']}, assessed {data['as_of']}", style="bold"))
    console.print(_fractures(data))
    console.print(_profiles(data))
    console.print(_recommendation(data))
    console.print(_preparation(data))
    console.print(_procedure_and_recovery(data))
    console.print(_sources(data))
