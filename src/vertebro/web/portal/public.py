"""The portal's open pages: home, patient information, requesting an appointment, activation, sign-in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from vertebro.clinical.facts import birth_date_in_range
from vertebro.education.content import page as education_page
from vertebro.education.content import pages, render_page
from vertebro.education.glossary import GLOSSARY
from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.intake.answers import DATE_PROBLEM, REQUEST_WHERE, read_day, request_levels
from vertebro.store import credentials, staff_service
from vertebro.store.base import clinic_today
from vertebro.store.portal import accounts
from vertebro.store.portal.outbox import queue_activation, queue_password_reset, queue_request_received
from vertebro.web.deps import Policy, UoW, client_address
from vertebro.web.forms import FormData, email_shaped, enough_phone_digits, form_data
from vertebro.web.inbox.delivery import deliver_now
from vertebro.web.portal.deps import PORTAL_COOKIE
from vertebro.web.portal.templating import portal_page

router = APIRouter(prefix="/portal", tags=["portal"])
T = TypeVar("T")
SEXES = (("female", "Female"), ("male", "Male"), ("other", "Other or I prefer not to say"))
LABELS = {
    "name": "Your full name",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "email": "E-mail address",
    "phone": "Phone number",
    "referring_doctor": "Doctor who sent you",
    "where_it_hurts": "Where it hurts most",
    "pain_since": "When the pain started",
    "levels": "Which bone is broken",
    "pain_now": "Pain today",
}


def set_portal_cookie(response: Response, request: Request, token: str) -> None:
    """Set the patient's session cookie (HttpOnly, SameSite=Strict, Secure unless on 127.0.0.1)."""
    response.set_cookie(
        PORTAL_COOKIE,
        token,
        max_age=int(staff_service.ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/portal",
    )


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The portal's home page: what the service is, how to ask for an appointment, sign-in."""
    return portal_page(request, "home.html", None, pages=pages())


@router.get("/info", response_class=HTMLResponse)
def info_index(request: Request) -> HTMLResponse:
    """Patient information: every topic, in reading order."""
    return portal_page(request, "info_index.html", None, pages=pages())


@router.get("/info/{slug}.html", response_class=HTMLResponse)
def info_page(request: Request, slug: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,80}$")]) -> HTMLResponse:
    """One patient information page with its numbered sources (or the word list)."""
    if slug == "glossary":
        return portal_page(request, "glossary.html", None, terms=GLOSSARY)
    try:
        rendered = render_page(education_page(slug))
    except KeyError:
        raise NotFound(f"there is no page called {slug}", field="slug") from None
    all_pages = pages()
    index = [p.slug for p in all_pages].index(slug)
    return portal_page(
        request,
        "info_page.html",
        None,
        rendered=rendered,
        previous=all_pages[index - 1] if index > 0 else None,
        following=all_pages[index + 1] if index + 1 < len(all_pages) else None,
    )


def _day(form: FormData, name: str) -> dt.date:
    """Return a date from the portal's date control (or typed day/month/year), or say how to give it."""
    day = read_day(form.required_text(name, 10))
    if day is None:
        raise InvalidInput(DATE_PROBLEM, field=name)
    return day


def _chosen(form: FormData, name: str, options: tuple[tuple[str, str], ...]) -> str:
    """Return the chosen answer, or ask for one in plain words."""
    value = form.raw.get(name, "")
    if value not in {key for key, _ in options}:
        raise InvalidInput("choose one of the answers", field=name)
    return value


FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _form_id(form: FormData) -> str | None:
    """Return the request form's random id as sent (None when missing or not one we could have made)."""
    value = form.raw.get("form_id", "")
    return value if FORM_ID.fullmatch(value) else None


def _already_sent(request: Request, reference: str) -> HTMLResponse:
    """The confirmation for a form sent a second time: the first request stands, nothing new is opened."""
    return portal_page(request, "request_done.html", None, receipt=None, reference=reference, repeated=True)


def _request_fields(form: FormData, today: dt.date) -> tuple[accounts.NewRequest | None, dict[str, str]]:
    """Check the request form field by field; return the request or every problem, in plain words."""
    errors: dict[str, str] = {}

    def field(name: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except InvalidInput as error:
            errors[name] = error.message
            return None

    name = field("name", lambda: form.required_text("name", 200))
    born = field("birth_date", lambda: _day(form, "birth_date"))
    if born is not None and not birth_date_in_range(born, today):
        errors["birth_date"] = "check the year of your date of birth"
    sex = field("sex", lambda: _chosen(form, "sex", SEXES))
    email = field("email", lambda: form.text("email", 254))
    if email and not email_shaped(email):
        errors["email"] = "this does not look like an e-mail address, for example name@example.org"
    phone = field("phone", lambda: form.text("phone", 40))
    if phone and not enough_phone_digits(phone):
        errors["phone"] = "write the whole phone number, with the area code"
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["email"] = "give an e-mail address or a phone number, so that we can reach you"
    doctor = field("referring_doctor", lambda: form.required_text("referring_doctor", 200))
    where = field("where_it_hurts", lambda: _chosen(form, "where_it_hurts", REQUEST_WHERE))
    since = field("pain_since", lambda: _day(form, "pain_since"))
    if since is not None and since > today:
        errors["pain_since"] = "this date is in the future: give the day the pain started"
    levels, level_problem = request_levels(form.raw.get("levels", ""), form.raw.get("levels_unknown") == "yes")
    if level_problem:
        errors["levels"] = level_problem
    pain = field("pain_now", lambda: form.required_integer("pain_now", 0, 10))
    if errors or name is None or born is None or sex is None or doctor is None or where is None:
        return None, errors
    if since is None or pain is None:
        return None, errors
    return (
        accounts.NewRequest(
            name=name,
            birth_date=born,
            sex=sex,
            email=email.lower() if email else None,
            phone=phone,
            referring_doctor=doctor,
            where_it_hurts=where,
            pain_since=since,
            levels=tuple(levels),
            pain_now=pain,
            form_id=_form_id(form),
        ),
        {},
    )


@router.get("/request", response_class=HTMLResponse)
def request_form(request: Request) -> HTMLResponse:
    """The appointment request form (no account needed)."""
    values = {"form_id": credentials.new_token()}  # a form sent twice (reload, double click) opens one request
    return portal_page(
        request, "request.html", None, errors={}, values=values, sexes=SEXES, where=REQUEST_WHERE, labels=LABELS
    )


@router.post("/request", response_model=None)
def send_request(
    request: Request, uow: UoW, policy: Policy, form: Annotated[FormData, Depends(form_data)]
) -> HTMLResponse:
    """Open the request: the patient gets a reference number and a one-time activation link."""
    today = clinic_today(policy.time_zone)
    new, errors = _request_fields(form, today)
    if new is not None and (reference := accounts.request_already_sent(uow, new.form_id)) is not None:
        uow.commit()
        return _already_sent(request, reference)
    if new is not None:
        try:
            receipt = accounts.request_appointment(uow, new, policy, ip=client_address(request), today=today)
            path = f"/portal/activate/{receipt.activation_token}"
            link = f"{request.app.state.settings.portal_url}{path}"
            account = uow.portal.account_for_patient(receipt.patient_id)
            assert account is not None
            queue_request_received(uow, account, policy.clinic)  # demo mode too: /outbox shows what was sent
            queue_activation(uow, account, link, policy.clinic)
            uow.commit()
        except VertebroError as error:
            uow.rollback()
            errors = {error.field or "form": error.message}
        except IntegrityError:  # the same form, sent twice at the same moment: the other one was stored
            uow.rollback()
            reference = accounts.request_already_sent(uow, new.form_id)
            if reference is None:
                raise
            return _already_sent(request, reference)
        else:
            deliver_now(request)
            return portal_page(request, "request_done.html", None, receipt=receipt, path=path, account=account)
    values = dict(form.raw)
    return portal_page(
        request,
        "request.html",
        None,
        422,
        errors=errors,
        values=values,
        sexes=SEXES,
        where=REQUEST_WHERE,
        labels=LABELS,
    )


@router.get("/activate/{token}", response_class=HTMLResponse)
def activation_form(request: Request, token: Annotated[str, Path(max_length=100)], uow: UoW) -> HTMLResponse:
    """Choose a password with the one-time link."""
    try:
        account = accounts.account_to_activate(uow, token)
    except VertebroError as error:
        return portal_page(request, "error.html", None, 410, title="This link has expired", message=error.message)
    actor = accounts.PatientActor(account.id, account.patient_id, account.reference, client_address(request))
    accounts.audit(uow, actor, "read", "patient_account", account.id, view="portal:activate")
    uow.commit()
    return portal_page(request, "activate.html", None, errors={}, token=token, reference=account.reference)


@router.post("/activate/{token}", response_model=None)
def activate(
    request: Request,
    token: Annotated[str, Path(max_length=100)],
    uow: UoW,
    password: Annotated[str, Form(max_length=200)] = "",
    repeated: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Set the password; the link stops working and the patient is signed in."""
    try:
        session_token = accounts.activate(uow, token, password, repeated, ip=client_address(request))
        uow.commit()
    except VertebroError as error:
        uow.rollback()
        if error.field == "token":
            return portal_page(request, "error.html", None, 410, title="This link has expired", message=error.message)
        account = accounts.account_to_activate(uow, token)
        errors = {error.field or "form": error.message}
        return portal_page(request, "activate.html", None, 422, errors=errors, token=token, reference=account.reference)
    response = RedirectResponse("/portal/me", status_code=303)
    set_portal_cookie(response, request, session_token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The patient sign-in page."""
    return portal_page(request, "login.html", None, errors={}, login="")


@router.post("/login", response_model=None)
def login(
    request: Request,
    uow: UoW,
    login: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the reference number (or e-mail) and password."""
    try:
        token = accounts.sign_in(uow, login=login, password=password, ip=client_address(request))
    except (staff_service.NotAuthenticated, staff_service.TooManyAttempts) as error:
        uow.commit()  # the failed attempt counts towards the rate limit and is audited
        return portal_page(request, "login.html", None, error.status_code, errors={"form": error.message}, login=login)
    uow.commit()
    response = RedirectResponse("/portal/me", status_code=303)
    set_portal_cookie(response, request, token)
    return response


@router.get("/reset", response_class=HTMLResponse)
def reset_form(request: Request) -> HTMLResponse:
    """Ask for a new password link (reference number or e-mail, and date of birth)."""
    return portal_page(request, "reset.html", None, errors={}, values={}, sent=False)


@router.post("/reset", response_model=None)
def reset(request: Request, uow: UoW, policy: Policy, form: Annotated[FormData, Depends(form_data)]) -> HTMLResponse:
    """Send a one-time link (1 hour) to the contact held for the account; the answer never says if one matched.

    Rate limited like sign-in and audited whether or not the details matched (store/portal/accounts.py).
    """
    errors: dict[str, str] = {}
    login = form.raw.get("login", "").strip()[:254]
    if not login:
        errors["login"] = "give your reference number or e-mail address"
    try:
        born = _day(form, "birth_date")
    except InvalidInput as error:
        errors["birth_date"] = error.message
    if errors:
        return portal_page(request, "reset.html", None, 422, errors=errors, values=dict(form.raw), sent=False)
    try:
        issued = accounts.request_password_reset(uow, login=login, birth_date=born, ip=client_address(request))
    except staff_service.TooManyAttempts:
        uow.commit()
        message = "too many requests for a new link: wait 15 minutes, or call us"
        return portal_page(request, "reset.html", None, 429, errors={"login": message}, values={}, sent=False)
    if issued is not None:
        link = f"{request.app.state.settings.portal_url}/portal/activate/{issued.token}"
        queue_password_reset(uow, issued.account, link, policy.clinic)
    uow.commit()
    deliver_now(request)  # matched or not, the same work: the answer's timing says nothing either
    return portal_page(request, "reset.html", None, errors={}, values={}, sent=True)
