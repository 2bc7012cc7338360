"""vertebro as a SMART app launched from an EHR (SMART App Launch 2.x, "EHR Launch"), to open a patient's chart.

1. The EHR opens ``/smart/launch?iss=…&launch=…``. ``iss`` must be one of the configured EHRs
   (``VERTEBRO_SMART_EHRS``): vertebro never fetches from, nor redirects to, a server it was not told to trust.
   vertebro reads the EHR's ``/.well-known/smart-configuration`` and redirects to its authorization endpoint
   with ``launch``, ``state`` (random, stored as its SHA-256), ``aud`` = ``iss`` and PKCE (S256; the verifier stays
   on the server).
2. The EHR redirects back to ``/smart/callback?code=…&state=…``. The state is looked up (once, unexpired), the code
   exchanged with the verifier, and the token response's ``patient`` read; the EHR's Patient is fetched with the
   token and its identifier of the configured system (the MRN) kept. The callback answers a page with a one-use
   link (stored as its SHA-256), nothing about the patient.
3. ``/smart/open/{link}``: a member of clinical staff signed in to vertebro (role-checked, after signing in if
   needed) is sent to the chart of the one vertebro patient with that identifier and system; no match, or more
   than one, is an error page, never a guess. Every step is audited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import httpx

from vertebro.config import SmartEhr
from vertebro.errors import NotFound, VertebroError
from vertebro.fhir.codes import system
from vertebro.fhir.repository import FhirRepository, PatientQuery
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.store import credentials
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartLaunch
from vertebro.store.workflow import Actor

LAUNCH_LIFETIME = dt.timedelta(minutes=10)  # from the launch to the callback, and from the callback to the chart
APP_SCOPE = "launch openid fhirUser patient/Patient.read"
TIMEOUT = httpx.Timeout(10.0)


class LaunchFailed(VertebroError):
    """The EHR launch cannot go on (400): the reason, for the clinician and the support team."""

    status_code: ClassVar[int] = 400


class LinkGone(VertebroError):
    """The one-use link from an EHR launch was used or has expired (410)."""

    status_code: ClassVar[int] = 410


class EhrUnavailable(VertebroError):
    """The EHR did not answer as SMART says it must (502)."""

    status_code: ClassVar[int] = 502


def _ehr_actor(iss: str) -> str:
    return f"ehr:{iss}"[:128]


def ehr_of(ehrs: tuple[SmartEhr, ...], iss: str) -> SmartEhr:
    """Return the configured EHR whose FHIR base URL is ``iss`` (a trailing slash aside); LaunchFailed otherwise."""
    wanted = iss.rstrip("/")
    for ehr in ehrs:
        if ehr.iss.rstrip("/") == wanted:
            return ehr
    raise LaunchFailed(
        f"{iss!r} is not an EHR vertebro may be launched from (VERTEBRO_SMART_EHRS lists them)", field="iss"
    )


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise EhrUnavailable(f"the EHR's {what} is not a JSON object (HTTP {response.status_code})")
    return body


def _url(value: object, name: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise EhrUnavailable(f"the EHR's smart-configuration has no usable {name}")
    return value


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def begin_launch(uow: UnitOfWork, http: httpx.Client, ehr: SmartEhr, launch: str, redirect_uri: str) -> str:
    """Store a launch and return the EHR authorization URL to redirect the browser to (RFC 7636 S256)."""
    if not launch or len(launch) > 2000:
        raise LaunchFailed("the EHR sent no launch parameter", field="launch")
    try:
        discovery = ehr.iss.rstrip("/") + "/.well-known/smart-configuration"
        response = http.get(discovery, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise EhrUnavailable(f"the EHR at {ehr.iss} cannot be reached: {type(error).__name__}") from None
    config = _json(response, "smart-configuration")
    authorize = _url(config.get("authorization_endpoint"), "authorization_endpoint")
    token_endpoint = _url(config.get("token_endpoint"), "token_endpoint")
    methods = config.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise EhrUnavailable("the EHR does not support PKCE with S256, which vertebro requires")
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43 to 128)
    now = utc_now()
    repository = SmartRepository(uow.session)
    repository.forget_expired_launches(now)
    repository.add_launch(
        SmartLaunch(
            id=credentials.token_digest(state),
            iss=ehr.iss,
            token_endpoint=token_endpoint,
            code_verifier=verifier,
            created_at=now,
            expires_at=now + LAUNCH_LIFETIME,
        )
    )
    uow.audit.append(
        actor=_ehr_actor(ehr.iss), action="smart_launch_started", entity_type="smart_launch", entity_id=None
    )
    query = {
        "response_type": "code",
        "client_id": ehr.client_id,
        "redirect_uri": redirect_uri,
        "launch": launch,
        "scope": APP_SCOPE,
        "state": state,
        "aud": ehr.iss,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    }
    return f"{authorize}{'&' if '?' in authorize else '?'}{urlencode(query)}"


def _patient_identifier(patient: dict[str, Any], identifier_system: str) -> str:
    values = {
        i.get("value")
        for i in patient.get("identifier") or []
        if isinstance(i, dict) and i.get("system") == identifier_system and isinstance(i.get("value"), str)
    }
    if len(values) != 1:
        found = "none" if not values else "several"
        raise LaunchFailed(
            f"the EHR's Patient/{patient.get('id')} has {found} identifier of system {identifier_system}: "
            "vertebro matches patients by that identifier only"
        )
    return str(values.pop())


def complete_launch(
    uow: UnitOfWork, http: httpx.Client, ehrs: tuple[SmartEhr, ...], code: str, state: str, redirect_uri: str
) -> str:
    """Exchange the EHR's code (with the PKCE verifier), read the launch patient's identifier; return the one-use
    link secret that opens the chart (its SHA-256 is stored)."""
    now = utc_now()
    launch = SmartRepository(uow.session).launch(credentials.token_digest(state))
    if launch is None or launch.code_verifier is None or launch.expires_at < now:
        raise LaunchFailed("this launch has expired or was already completed: launch vertebro again from the EHR")
    verifier, launch.code_verifier = launch.code_verifier, None  # one exchange per launch, whatever happens
    ehr = ehr_of(ehrs, launch.iss)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": ehr.client_id,
        "code_verifier": verifier,
    }
    try:
        response = http.post(launch.token_endpoint, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise EhrUnavailable(f"the EHR's token endpoint cannot be reached: {type(error).__name__}") from None
    body = _json(response, "token response")
    if response.status_code != 200:
        raise LaunchFailed(f"the EHR refused the authorization code: {body.get('error', response.status_code)}")
    access_token, patient_id = body.get("access_token"), body.get("patient")
    if not isinstance(access_token, str) or not access_token:
        raise EhrUnavailable("the EHR's token response has no access_token")
    if not isinstance(patient_id, str) or not patient_id:
        raise LaunchFailed("the EHR launched vertebro without a patient: open vertebro from a patient's record")
    try:
        read = http.get(
            f"{ehr.iss.rstrip('/')}/Patient/{patient_id}",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"},
        )
    except httpx.HTTPError as error:
        raise EhrUnavailable(f"the EHR's Patient cannot be read: {type(error).__name__}") from None
    patient = _json(read, f"Patient/{patient_id}")
    if read.status_code != 200 or patient.get("resourceType") != "Patient" or patient.get("id") != patient_id:
        raise EhrUnavailable(f"the EHR did not return Patient/{patient_id} (HTTP {read.status_code})")
    launch.ehr_patient = patient_id[:128]
    launch.identifier_system = ehr.identifier_system
    launch.identifier_value = _patient_identifier(patient, ehr.identifier_system)[:255]
    link = secrets.token_urlsafe(32)
    launch.open_id = credentials.token_digest(link)
    launch.expires_at = now + LAUNCH_LIFETIME
    uow.audit.append(
        actor=_ehr_actor(ehr.iss),
        action="smart_launch_authorized",
        entity_type="smart_launch",
        entity_id=None,
        detail={"ehr_patient": launch.ehr_patient, "identifier": launch.identifier_value},
    )
    return link


def open_launch(uow: UnitOfWork, link: str, actor: Actor) -> int:
    """Return the vertebro patient of a completed launch for a signed-in member of staff (audited, once).

    The patient is the only one whose identifier and system equal the EHR Patient's; none or several is an error
    (audited: the caller commits before answering it).
    """
    now = utc_now()
    launch = SmartRepository(uow.session).launch_to_open(credentials.token_digest(link))
    if launch is None or launch.opened_at is not None or launch.expires_at < now:
        raise LinkGone("this link from the EHR has been used or has expired: launch vertebro again from the EHR")
    launch.opened_at, launch.opened_by = now, actor.username
    identifier_system, value = launch.identifier_system or "", launch.identifier_value or ""
    query = PatientQuery(identifiers=[[(identifier_system, value)]])
    matches = FhirRepository(uow.session).find_patients(query, own_system=system("identifier-patient"), limit=2)
    detail = {"iss": launch.iss, "ehr_patient": launch.ehr_patient, "identifier": f"{identifier_system}|{value}"}
    if len(matches) != 1:
        uow.audit.append(
            actor=actor.username,
            action="smart_launch_unmatched",
            entity_type="smart_launch",
            entity_id=None,
            detail={**detail, "matches": len(matches)},
            source=actor.source,
        )
        if not matches:
            raise NotFound(
                f"no patient in vertebro has the identifier {value} ({identifier_system}) of the EHR's "
                f"Patient/{launch.ehr_patient}: refer the patient, or check the identifier in both systems"
            )
        raise LaunchFailed(f"several patients in vertebro have the identifier {value} ({identifier_system})")
    patient = matches[0]
    uow.audit.append(
        actor=actor.username,
        action="smart_launch_opened",
        entity_type="patient",
        entity_id=patient.id,
        patient_id=patient.id,
        detail={"role": actor.role.value, **detail},
        source=actor.source,
    )
    return patient.id
