"""A tiny EHR for the tests: a SMART authorization server and FHIR Patient endpoint that launches vertebro.

It stands for a system we do not own (an EHR), so the tests may fake it: it checks what SMART App Launch 2.x
asks of an app (response_type=code, the registered client id and redirect URI, the launch it issued, ``aud`` equal
to its FHIR base, PKCE with S256, the code once, the verifier matching the challenge) and answers like one
(``patient`` in the token response, the Patient read with the token). Served by uvicorn on a thread.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from tests.e2e.serving import free_port

MRN = "http://hospital.example.org/mrn"


@dataclass
class FakeEhr:
    """The EHR's state: its patients, the launches it issued, codes and tokens; what it was asked."""

    base: str
    redirect_uri: str
    client_id: str = "vertebro-app"
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    launches: dict[str, str] = field(default_factory=dict)  # launch id -> patient id
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> patient id
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def iss(self) -> str:
        """The EHR's FHIR base URL (what a launch sends as ``iss``)."""
        return f"{self.base}/fhir"

    def add_patient(self, patient_id: str, mrn: str | None, *, name: str = "Test Patient") -> None:
        """Give the EHR a Patient with an MRN of system :data:`MRN` (and an identifier of another system)."""
        identifiers = [{"system": "urn:oid:2.16.840.1.113883.4.1", "value": f"SSN-{patient_id}"}]
        if mrn is not None:
            identifiers.append({"system": MRN, "value": mrn})
        self.patients[patient_id] = {
            "resourceType": "Patient",
            "id": patient_id,
            "identifier": identifiers,
            "name": [{"text": name}],
        }

    def launch_url(self, vertebro: str, patient_id: str) -> str:
        """The URL the EHR opens to launch vertebro for a patient (a new launch id each time)."""
        launch = secrets.token_hex(8)
        self.launches[launch] = patient_id
        return f"{vertebro}/smart/launch?{urlencode({'iss': self.iss, 'launch': launch})}"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def ehr_app(ehr: FakeEhr) -> FastAPI:
    """The EHR's HTTP interface."""
    app = FastAPI()

    @app.get("/fhir/.well-known/smart-configuration")
    def configuration() -> dict[str, Any]:
        return {
            "authorization_endpoint": f"{ehr.base}/authorize",
            "token_endpoint": f"{ehr.base}/token",
            "token_endpoint_auth_methods_supported": ["none"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": ["launch-ehr", "client-public", "context-ehr-patient", "permission-v1"],
        }

    @app.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        query = dict(request.query_params)
        ehr.authorize_requests.append(query)
        problems = [
            query.get("response_type") != "code",
            query.get("client_id") != ehr.client_id,
            query.get("redirect_uri") != ehr.redirect_uri,
            query.get("launch") not in ehr.launches,
            query.get("aud") != ehr.iss,
            query.get("code_challenge_method") != "S256",
            len(query.get("code_challenge", "")) != 43,
            "launch" not in query.get("scope", "").split(),
        ]
        target = query.get("redirect_uri", ehr.redirect_uri)
        if any(problems):
            return RedirectResponse(
                f"{target}?{urlencode({'error': 'invalid_request', 'state': query.get('state', '')})}"
            )
        code = secrets.token_urlsafe(16)
        ehr.codes[code] = {
            "patient": ehr.launches.pop(query["launch"]),
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
        }
        return RedirectResponse(f"{target}?{urlencode({'code': code, 'state': query['state']})}", status_code=302)

    @app.post("/token")
    def token(
        grant_type: str = Form(""),
        code: str = Form(""),
        redirect_uri: str = Form(""),
        client_id: str = Form(""),
        code_verifier: str = Form(""),
    ) -> JSONResponse:
        ehr.token_requests.append({"grant_type": grant_type, "client_id": client_id, "redirect_uri": redirect_uri})
        issued = ehr.codes.pop(code, None)
        if (
            issued is None
            or grant_type != "authorization_code"
            or client_id != ehr.client_id
            or redirect_uri != issued["redirect_uri"]
            or _challenge(code_verifier) != issued["challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = secrets.token_urlsafe(16)
        ehr.tokens[access] = issued["patient"]
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "launch patient/Patient.read",
            "patient": issued["patient"],
        }
        return JSONResponse(body)

    @app.get("/fhir/Patient/{patient_id}")
    def patient(patient_id: str, authorization: str = Header("")) -> JSONResponse:
        granted = ehr.tokens.get(authorization.removeprefix("Bearer "))
        if granted != patient_id or patient_id not in ehr.patients:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=403)
        return JSONResponse(ehr.patients[patient_id], media_type="application/fhir+json")

    @app.get("/ehr/patients/{patient_id}", response_class=HTMLResponse)
    def chart(patient_id: str, vertebro: str) -> str:
        """The EHR's page of a patient, with the button that launches vertebro (a link to its launch URL)."""
        return (
            f"<!doctype html><title>EHR</title><h1>EHR: {patient_id}</h1>"
            f'<a href="{ehr.launch_url(vertebro, patient_id)}">Open in vertebro</a>'
        )

    return app


@contextmanager
def serve_ehr(vertebro: str, host: str = "127.0.0.1") -> Iterator[FakeEhr]:
    """Run the fake EHR on a free port until the block ends; it redirects back to ``vertebro``'s callback.

    ``host`` is the name the EHR is reached by (``localhost`` makes it another site than ``127.0.0.1`` for a browser).
    """
    port = free_port()
    ehr = FakeEhr(base=f"http://{host}:{port}", redirect_uri=f"{vertebro}/smart/callback")
    server = uvicorn.Server(uvicorn.Config(ehr_app(ehr), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the fake EHR did not start"
    try:
        yield ehr
    finally:
        server.should_exit = True
        thread.join(timeout=10)
