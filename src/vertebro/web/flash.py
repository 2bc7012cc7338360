"""Success messages after an action, in one place (decision 0033).

A route that changed something redirects with ``?done=<code>`` (and ``&case=<id>`` when a case is concerned);
the next page shows the message registered for that code. Only registered codes are shown (nothing typed in
the address reaches the page), so a message cannot be forged into the layout; reloading shows it again, which
is harmless because it only says what was done. ``layout`` in ``templating.page`` renders it as a status
message; an undo offered with it (an accepted or declined case) is a form the chart adds next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

# code -> what was done, in the words staff read after the redirect
MESSAGES: dict[str, str] = {
    "start_screening": "Screening started.",
    "accept": "Accepted: the case is eligible and moves to preparation.",
    "decline": "Declined: the case is closed to treatment; it can be closed when the letter has gone.",
    "undo_decision": "Decision undone: the case is back in screening; the decision and its undo are in the audit log.",
    "complete_preparation": "Preparation complete: the case can be booked.",
    "start_procedure": "Procedure started.",
    "sign_procedure": "Procedure signed: monitoring has started.",
    "start_follow_up": "Follow-up started: the questionnaires are planned.",
    "close": "Case closed.",
    "facts": "Imaging facts saved; the case was assessed again.",
    "checklist": "Checklist saved.",
    "insurance": "Insurance saved.",
    "booked": "Booked.",
    "cancelled": "Booking cancelled and its slot freed.",
    "procedure": "Procedure record saved.",
    "observation": "Observations recorded.",
    "discharged": "Discharged: the aftercare plan is issued.",
    "follow-up": "Follow-up recorded.",
    "complication": "Complication recorded.",
    "safety": "Safety facts saved; the case was assessed again.",
    "prescriber": "The prescriber's decision is recorded; the hold dates follow it.",
    "creatinine-clearance": "Creatinine clearance saved; the case was assessed again.",
    "portal-link": "A new portal sign-in link was sent.",
    "smart-revoked": "Revoked: every token it was given has ended, and it gets no new one.",
    "smart-registered": "Registered: it is listed below with what it may ask for.",
    "change-answered": "The patient's request is answered; the patient sees the answer on their portal page.",
    "change-unreached": "The call is noted; the request stays open until the patient is reached.",
}


@dataclass(frozen=True, slots=True)
class Flash:
    """A message shown once at the top of a page: what was done, and the case it concerns."""

    text: str
    code: str
    case_id: int | None = None
    kind: str = "ok"


def done_url(path: str, code: str, case_id: int | None = None, anchor: str | None = None) -> str:
    """Return ``path`` with the success flag (and the case) for the next page, e.g. after a form's redirect."""
    query = f"done={code}" + (f"&case={case_id}" if case_id is not None else "")
    return f"{path}?{query}" + (f"#{anchor}" if anchor else "")


def flash_of(request: Request) -> Flash | None:
    """Return the success message the address asks for, or None (unknown codes are ignored)."""
    code = request.query_params.get("done")
    if code not in MESSAGES:
        return None
    case = request.query_params.get("case", "")
    case_id = int(case) if case.isdigit() and len(case) < 12 else None
    return Flash(MESSAGES[code], code, case_id)
