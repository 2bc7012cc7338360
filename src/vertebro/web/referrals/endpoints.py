"""A new referral entered by staff: the patient (date of birth, contact), the referrer, the level(s), the first facts.

The case is validated strictly like a case file, assessed with the current ruleset and stored in state
'requested'; the radiologist completes the imaging facts during screening.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from vertebro.clinical import Case, assess, assessment_json
from vertebro.clinical.facts import OLDEST_AGE, age_on, birth_date_in_range
from vertebro.clinical.validation import validation_problems
from vertebro.errors import InvalidInput, VertebroError
from vertebro.intake.answers import read_day
from vertebro.pathway.machine import Role
from vertebro.store.base import clinic_today
from vertebro.store.referral import ReferralDetails, record_referral_details
from vertebro.store.service import record_assessment
from vertebro.web.deps import Policy, Staff, UoW, allow
from vertebro.web.forms import FormData, email_shaped, enough_phone_digits, form_data
from vertebro.web.safety_forms import safety_patch
from vertebro.web.templating import page

router = APIRouter()
DESK = (Role.COORDINATOR, Role.NURSE)
CAUSES = ("osteoporotic", "low_energy_trauma", "myeloma", "metastasis", "hemangioma", "high_energy_trauma", "unknown")


@router.get("/referrals/new", response_class=HTMLResponse)
def referral_form(request: Request, staff: Annotated[Staff, Depends(allow(*DESK))]) -> HTMLResponse:
    """The form for a new referral."""
    return page(request, "referral.html", staff, errors={}, values={}, causes=CAUSES, labels=LABELS)


T = TypeVar("T")


def _birth_date(form: FormData, today: dt.date) -> dt.date:
    text = form.required_text("birth_date", 10)
    born = read_day(text)
    if born is None:
        raise InvalidInput(f"{text!r} is not a real date: give the day, month and year", field="birth_date")
    if born > today:
        raise InvalidInput("the date of birth is in the future", field="birth_date")
    if not birth_date_in_range(born, today):
        raise InvalidInput(f"the date of birth is more than {OLDEST_AGE} years ago: check the year", field="birth_date")
    return born


def _phone_shaped(value: str) -> bool:
    """A phone number staff write: every digit with the area code, and no letters."""
    return enough_phone_digits(value) and not any(c.isalpha() for c in value)


def _email(form: FormData, name: str) -> str | None:
    value = form.text(name, 254)
    if value and not email_shaped(value):
        raise InvalidInput("not an e-mail address (for example name@example.org)", field=name)
    return value.lower() if value else None


def _phone(form: FormData, name: str) -> str | None:
    value = form.text(name, 40)
    if value and not _phone_shaped(value):
        raise InvalidInput("not a phone number: write every digit, with the area code", field=name)
    return value


def _referrer_contact(form: FormData) -> str:
    value = form.required_text("referrer_contact", 254)
    if not (email_shaped(value) or _phone_shaped(value)):
        raise InvalidInput("give the referrer's phone number or e-mail address", field="referrer_contact")
    return value


def _referral(form: FormData, today: dt.date) -> tuple[dict[str, Any], ReferralDetails | None, dict[str, str]]:
    """Read the whole form: the case's facts, the referrer and contact, and every problem at once (by field)."""
    errors: dict[str, str] = {}

    def field(name: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except InvalidInput as error:
            errors[error.field or name] = error.message
            return None

    levels = [
        lv.strip().upper()
        for lv in (field("levels", lambda: form.required_text("levels", 60)) or "").replace(";", ",").split(",")
        if lv.strip()
    ]
    born = field("birth_date", lambda: _birth_date(form, today))
    patient: dict[str, Any] = {
        "identifier": field("identifier", lambda: form.required_text("identifier", 64)),
        "name": field("name", lambda: form.required_text("name", 200)),
        "birth_date": born.isoformat() if born else None,
        "age": age_on(born, today) if born else None,
        "sex": field("sex", lambda: form.choice("sex", ("female", "male", "other"))),
    }
    cause = field("cause", lambda: form.choice("cause", CAUSES))
    onset = field("onset_weeks", lambda: form.number("onset_weeks", 0, 1040))
    data: dict[str, Any] = {
        "patient": patient,
        "fractures": [{"level": level, "cause": cause, "onset_weeks": onset} for level in levels],
        "pain": {"nrs": field("nrs", lambda: form.required_integer("nrs", 0, 10))},
    }
    concordant = field("concordant", lambda: form.tristate("concordant"))
    if concordant is not None:
        data["pain"]["concordant_with_fracture"] = concordant
    safety = field("safety", lambda: safety_patch(form)) or {"patient": {}}
    patient.update(safety.pop("patient"))
    data.update(safety)
    referrer = field("referrer_name", lambda: form.required_text("referrer_name", 200))
    organisation = field("referrer_organisation", lambda: form.required_text("referrer_organisation", 200))
    contact = field("referrer_contact", lambda: _referrer_contact(form))
    phone = field("phone", lambda: _phone(form, "phone"))
    email = field("email", lambda: _email(form, "email"))
    if not phone and not email and "phone" not in errors and "email" not in errors:
        errors["phone"] = "give the patient's phone number or e-mail address, so that the team can reach them"
    if errors or referrer is None or organisation is None or contact is None:
        return data, None, errors
    return data, ReferralDetails(referrer, organisation, contact, phone, email), {}


@router.post("/referrals", response_model=None)
def create_referral(
    request: Request,
    uow: UoW,
    staff: Annotated[Staff, Depends(allow(*DESK))],
    policy: Policy,
    form: Annotated[FormData, Depends(form_data)],
) -> Response:
    """Register the referral; every mistake comes back at once, next to its field, with what was typed."""
    data, details, errors = _referral(form, clinic_today(policy.time_zone))
    try:
        if errors:
            raise InvalidInput(_summary(errors), field=next(iter(errors)))
        try:
            case = Case.model_validate_json(json.dumps(data))
        except ValidationError as error:
            problems = validation_problems(error)
            raise InvalidInput("; ".join(problems), field=problems[0].split(":")[0].split(".")[-1]) from error
        if uow.patients.get_by_identifier(case.patient.identifier or "") is not None:
            raise InvalidInput("a patient with this identifier exists: open the chart instead", field="identifier")
        assessment = assess(case, policy)
        actor, source = staff.actor.username, staff.actor.source or "web"
        recorded = record_assessment(uow, case, assessment, assessment_json(assessment), actor=actor, source=source)
        assert details is not None
        record_referral_details(uow, recorded, details, actor=actor, source=source)
        uow.commit()
    except VertebroError as error:
        if error.status_code in (401, 403):
            raise
        uow.rollback()
        field = (error.field or "form").split(".")[-1].split("[")[0]
        field = {"level": "levels", "age": "birth_date"}.get(field, field)  # the form's name for the fact
        shown = errors or {field: error.message}
        return page(
            request,
            "referral.html",
            staff,
            error.status_code,
            errors={**shown, "form": error.message},
            values=form.raw,
            causes=CAUSES,
            labels=LABELS,
        )
    return RedirectResponse(f"/patients/{recorded.patient_id}#case-{recorded.case_id}", status_code=303)


LABELS = {
    "identifier": "Patient identifier (MRN)",
    "name": "Name",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "phone": "Patient's phone",
    "email": "Patient's e-mail",
    "referrer_name": "Referrer's name",
    "referrer_organisation": "Referrer's organisation",
    "referrer_contact": "Referrer's phone or e-mail",
    "levels": "Fractured level(s)",
    "cause": "Cause",
    "onset_weeks": "Weeks since the pain began",
    "nrs": "Pain now (0-10)",
}


def _summary(errors: dict[str, str]) -> str:
    """One line naming every field with a problem (the flash above the form)."""
    count = len(errors)
    named = "; ".join(f"{LABELS.get(name, name)}: {message}" for name, message in errors.items())
    return f"{count} {'answer needs' if count == 1 else 'answers need'} another look: {named}"
