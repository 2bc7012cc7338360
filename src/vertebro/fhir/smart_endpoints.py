"""SMART on FHIR routes of vertebro the authorization server: discovery and the token endpoint (the staff page
that authorizes apps, ``/auth/authorize``, is in :mod:`vertebro.web.smart.endpoints`).

``GET /.well-known/smart-configuration`` (and the same under ``/fhir``, the FHIR base URL, where SMART clients
look) describes what vertebro supports (SMART App Launch 2.x, "Conformance"); ``POST /auth/token`` issues access
tokens to Backend Services clients (:mod:`vertebro.fhir.smart`) and to authorized apps
(:mod:`vertebro.fhir.smart_apps`). These are OAuth endpoints, not vertebro's API:
they answer OAuth's own JSON (RFC 6749 5.1, 5.2), and are left out of ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from vertebro.fhir.auth import UoW
from vertebro.fhir.smart import ALGORITHMS, TokenError, issue_client_token
from vertebro.fhir.smart_apps import issue_app_token

router = APIRouter(tags=["SMART on FHIR"])
TOKEN_PATH = "/auth/token"
AUTHORIZE_PATH = "/auth/authorize"  # a staff page: vertebro.web.smart.endpoints
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPES_SUPPORTED = (
    "system/*.read",
    "system/*.rs",
    "system/*.write",
    "system/*.cud",
    "system/*.*",
    "system/*.cruds",
    "system/Patient.read",
    "system/Patient.rs",
    "user/*.read",
    "user/*.rs",
    "user/*.write",
    "user/*.cruds",
)


def server_url(request: Request) -> str:
    """Return vertebro's base URL as the caller reached it (behind a trusted proxy: the forwarded one)."""
    return str(request.base_url).rstrip("/")


def token_url(request: Request) -> str:
    """Return the token endpoint's URL: what a client assertion's ``aud`` must be."""
    return server_url(request) + TOKEN_PATH


def smart_configuration(base: str) -> dict[str, Any]:
    """Return the SMART configuration document of a server at ``base`` (SMART App Launch 2.x, section 2.0.6).

    Lists what vertebro supports: Backend Services (client credentials with an asymmetric client assertion), apps
    that a signed-in member of staff authorizes (standalone launch, authorization code with PKCE S256, public or
    confidential-asymmetric, ``user/`` scopes), and SMART v1 and v2 scope syntax. No launch context is given to
    apps (no ``context-*`` capability); vertebro is itself a SMART app an EHR can launch (``/smart/launch``).
    """
    return {
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone",
            "client-public",
            "client-confidential-asymmetric",
            "permission-user",
            "permission-v1",
            "permission-v2",
        ],
    }


@router.get("/.well-known/smart-configuration", include_in_schema=False)
@router.get("/fhir/.well-known/smart-configuration", include_in_schema=False)
def well_known(request: Request) -> JSONResponse:
    """The SMART configuration (open to everyone, as discovery must be)."""
    return JSONResponse(smart_configuration(server_url(request)))


@router.post(TOKEN_PATH, include_in_schema=False, name="smart_token")
def token(
    request: Request,
    uow: UoW,
    grant_type: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    client_assertion_type: Annotated[str | None, Form()] = None,
    client_assertion: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Issue an access token: to a Backend Services client (``client_credentials`` with a JWT assertion) or to an
    app a member of staff authorized (``authorization_code`` with PKCE)."""
    source = request.client.host if request.client else None
    try:
        if grant_type == "authorization_code":
            form = {
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": code_verifier,
                "client_assertion_type": client_assertion_type,
                "client_assertion": client_assertion,
            }
            issued = issue_app_token(uow, form, token_url(request), source)
        else:
            issued = issue_client_token(
                uow,
                grant_type=grant_type,
                assertion_type=client_assertion_type,
                assertion=client_assertion,
                scope=scope,
                token_url=token_url(request),
                source=source,
            )
    except TokenError as error:
        uow.commit()  # the refusal's audit entry (and a spent jti) stay
        return JSONResponse(error.body(), status_code=error.status, headers=NO_STORE)
    uow.commit()
    body = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    return JSONResponse(body, headers=NO_STORE)
