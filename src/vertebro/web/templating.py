"""Jinja2 templates (autoescaped) and the helpers every page uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from vertebro.clinical.allergens import allergy_labels
from vertebro.web.deps import Staff
from vertebro.web.safety_forms import YES_NO_FACTS

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().with_name("templates")))
TEMPLATES.env.auto_reload = False  # templates ship with the package: no file-system check on every render
DISCLAIMER = "Decision support for clinicians: it does not replace clinical judgement."


def _when(value: dt.datetime | dt.date | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value.replace("T", " ")[:16]
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def yes_no(value: bool | None) -> str:
    """Return a recorded yes/no fact in words: "yes", "no", or "not recorded" when unknown (never None)."""
    if value is None:
        return "not recorded"
    return "yes" if value else "no"


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["yes_no"] = yes_no
TEMPLATES.env.filters["words"] = lambda value: str(value).replace("_", " ")
TEMPLATES.env.filters["zip"] = lambda left, right: zip(left, right, strict=True)
TEMPLATES.env.globals["safety_facts"] = YES_NO_FACTS
TEMPLATES.env.globals["allergy_words"] = lambda entries: ", ".join(allergy_labels(entries))


def page(request: Request, template: str, staff: Staff | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the layout's context (the user, role and CSRF token)."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "csrf_token": None if staff is None else staff.session.csrf_token,
            "disclaimer": DISCLAIMER,
            **context,
        },
        status_code=status_code,
    )
