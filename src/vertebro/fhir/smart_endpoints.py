"""SMART on FHIR routes of vertebro the authorization server: discovery and the token endpoint.

``GET /.well-known/smart-configuration`` (and the same under ``/fhir``, the FHIR base URL, where SMART clients
look) describes what vertebro supports (SMART App Launch 2.x, "Conformance"); ``POST /auth/token`` issues access
tokens to Backend Services clients (:mod:`vertebro.fhir.smart`). These are OAuth endpoints, not vertebro's API:
they answer OAuth's own JSON (RFC 6749 5.1, 5.2), and are left out of ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from vertebro.fhir.auth import UoW
from vertebro.fhir.smart import ALGORITHMS, TokenError, issue_client_token

router = APIRouter(tags=["SMART on FHIR"])
TOKEN_PATH = "/auth/token"
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
)


def server_url(request: Request) -> str:
    """Return vertebro's base URL as the caller reached it (behind a trusted proxy: the forwarded one)."""
    return str(request.base_url).rstrip("/")


def token_url(request: Request) -> str:
    """Return the token endpoint's URL: what a client assertion's ``aud`` must be."""
    return server_url(request) + TOKEN_PATH


def smart_configuration(base: str) -> dict[str, Any]:
    """Return the SMART configuration document of a server at ``base`` (SMART App Launch 2.x, section 2.0.6).

    Lists only what vertebro supports: Backend Services (client credentials with an asymmetric client
    assertion) and SMART v1 and v2 scope syntax. vertebro does not (yet) authorize apps interactively, so there
    is no authorization endpoint and no launch capability; vertebro is itself a SMART app an EHR can launch
    (``/smart/launch``, :mod:`vertebro.web.smart`).
    """
    return {
        "token_endpoint": base + TOKEN_PATH,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": [],  # no authorization endpoint (yet): no response type
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
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
) -> JSONResponse:
    """Issue an access token to a Backend Services client (``client_credentials`` with a JWT assertion)."""
    source = request.client.host if request.client else None
    try:
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
