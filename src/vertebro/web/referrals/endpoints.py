"""A new referral entered by staff: the patient, the fracture level(s) and the first facts.

The case is validated strictly like a case file, assessed with the current ruleset and stored in state
'requested'; the radiologist completes the imaging facts during screening.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.validation import validation_problems
from vertebro.errors import InvalidInput, VertebroError
from vertebro.pathway.machine import Role
from vertebro.store.service import record_assessment
from vertebro.web.deps import Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, form_data
from vertebro.web.safety_forms import safety_patch
from vertebro.web.templating import page

router = APIRouter()
DESK = (Role.COORDINATOR, Role.NURSE)
CAUSES = ("osteoporotic", "low_energy_trauma", "myeloma", "metastasis", "hemangioma", "high_energy_trauma", "unknown")


@router.get("/referrals/new", response_class=HTMLResponse)
def referral_form(request: Request, staff: Annotated[Staff, Depends(allow(*DESK))]) -> HTMLResponse:
    """The form for a new referral."""
    return page(request, "referral.html", staff, errors={}, values={}, causes=CAUSES)


def _case_data(form: FormData) -> dict[str, Any]:
    levels = [
        lv.strip().upper() for lv in (form.required_text("levels", 60)).replace(";", ",").split(",") if lv.strip()
    ]
    cause = form.choice("cause", CAUSES)
    onset = form.number("onset_weeks", 0, 1040)
    data: dict[str, Any] = {
        "patient": {
            "identifier": form.required_text("identifier", 64),
            "name": form.required_text("name", 200),
            "age": form.required_integer("age", 0, 120),
            "sex": form.choice("sex", ("female", "male", "other")),
        },
        "fractures": [{"level": level, "cause": cause, "onset_weeks": onset} for level in levels],
        "pain": {"nrs": form.required_integer("nrs", 0, 10)},
    }
    if form.tristate("concordant") is not None:
        data["pain"]["concordant_with_fracture"] = form.tristate("concordant")
    safety = safety_patch(form)
    data["patient"].update(safety.pop("patient"))
    data.update(safety)
    return data


@router.post("/referrals", response_model=None)
def create_referral(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Register the referral; on a mistake the form comes back with the message next to the field."""
    try:
        data = _case_data(form)
        try:
            case = Case.model_validate_json(json.dumps(data))
        except ValidationError as error:
            problems = validation_problems(error)
            raise InvalidInput("; ".join(problems), field=problems[0].split(":")[0].split(".")[-1]) from error
        if uow.patients.get_by_identifier(case.patient.identifier or "") is not None:
            raise InvalidInput("a patient with this identifier exists: open the chart instead", field="identifier")
        assessment = assess(case, policy)
        recorded = record_assessment(
            uow,
            case,
            assessment,
            assessment_json(assessment),
            actor=staff.actor.username,
            source=staff.actor.source or "web",
        )
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403):
            raise
        uow.rollback()
        field = (error.field or "form").split(".")[-1].split("[")[0]
        return page(
            request,
            "referral.html",
            staff,
            error.status_code,
            errors={field: error.message, "form": error.message},
            values=form.raw,
            causes=CAUSES,
        )
    return RedirectResponse(f"/patients/{recorded.patient_id}#case-{recorded.case_id}", status_code=303)
