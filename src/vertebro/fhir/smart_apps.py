"""Apps that a member of staff authorizes (SMART App Launch 2.x, standalone launch, authorization code + PKCE).

An administrator registers the app (``vertebro fhir register-app``): its exact redirect URIs, the ``user/``
scopes it may ask for, and a public JWKS when it is a confidential app (``private_key_jwt``); without one it is a
public app, protected by PKCE alone. The app sends the browser to ``/auth/authorize`` with ``response_type=code``,
``client_id``, ``redirect_uri``, ``scope``, ``state``, ``aud`` (vertebro's FHIR base) and an S256
``code_challenge``; a signed-in member of clinical staff sees what the app asks for and approves or denies. The
code (one minute, one exchange, stored as its SHA-256) is exchanged at ``/auth/token`` with the verifier (and the
client assertion of a confidential app) for a token that acts as that member of staff within the granted scopes:
a staff API session (``web_sessions``, 1 hour, idle and role rules of staff sessions), so every /fhir check,
role and audit applies unchanged. ``patient/`` scopes and launch context are not offered (no patient picker yet).

The session records the app (``smart_client_id``): revoking the app ends every token it was given, and each /fhir
request checks that the app is still active (decision 0039). No refresh token is issued. A browser-based app may
call /fhir and ``/auth/token`` from its registered web origins only (CORS, :mod:`vertebro.web.smart.cors`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from vertebro.errors import InvalidInput, Problems
from vertebro.fhir.scopes import Scope, parse_scopes
from vertebro.fhir.smart import (
    ASSERTION_TYPE,
    IssuedToken,
    TokenError,
    accept_assertion,
    claimed_client_id,
    client_actor,
    new_client_id,
    public_key_set,
)
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.pathway.machine import Role
from vertebro.store import credentials
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartAuthorizationCode, SmartClient, User, WebSession

CODE_LIFETIME = dt.timedelta(minutes=1)
APP_TOKEN_LIFETIME = dt.timedelta(hours=1)
IGNORED_SCOPES = frozenset({"openid", "fhirUser", "profile", "offline_access", "online_access"})
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
CLINICAL = frozenset({Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD})
LOCAL_HOSTS = ("localhost", "127.0.0.1")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _redirect_uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    local = parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return f"{uri!r} must be an https URL (http only for localhost)"
    if not parts.netloc or parts.fragment:
        return f"{uri!r} must be an absolute URL without a fragment"
    return None


def web_origin(url: str) -> str | None:
    """Return the origin of a URL as browsers send it (``scheme://host[:port]``, lower case, no default port), or
    None when it has none (RFC 6454)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else "")


def _origin(text: str) -> str:
    """Return a registered origin in the form browsers send; InvalidInput naming the problem."""
    parts = urlsplit(text.strip())
    origin = web_origin(text)
    extra = parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/")
    if origin is None or extra:
        raise InvalidInput(f"{text!r} is not a web origin: give scheme://host[:port] only", field="origins")
    if parts.scheme.lower() != "https" and parts.hostname not in LOCAL_HOSTS:
        raise InvalidInput(f"{text!r} must be an https origin (http only for localhost)", field="origins")
    return origin


def app_origins(origins: list[str] | None, redirect_uris: list[str]) -> list[str]:
    """Return the web origins of an app: the ones given (checked), else those of its redirect URIs."""
    if origins:
        return sorted({_origin(o) for o in origins})
    return sorted({o for uri in redirect_uris if (o := web_origin(uri)) is not None})


def _redirect_uris(redirect_uris: list[str]) -> list[str]:
    """Return an app's redirect URIs when each is an absolute https URL (http on localhost) with no fragment."""
    if not redirect_uris:
        raise InvalidInput("give at least one redirect URI", field="redirect_uris")
    for uri in redirect_uris:
        problem = _redirect_uri_problem(uri)
        if problem is not None:
            raise InvalidInput(problem, field="redirect_uris")
    return list(redirect_uris)


def _user_scopes(scope: str) -> tuple[Scope, ...]:
    """Return an app's scopes: ``user/`` ones only (no patient picker yet)."""
    scopes = parse_scopes(scope)
    other = [s.text for s in scopes if s.context != "user"]
    if other:
        refused = " ".join(other)
        raise InvalidInput(f"an app gets user/ scopes only (no patient picker yet), not {refused}", field="scope")
    return scopes


def register_app(
    uow: UnitOfWork,
    *,
    client_id: str,
    name: str,
    redirect_uris: list[str],
    scope: str,
    jwks: Any,
    actor: str,
    origins: list[str] | None = None,
    source: str | None = None,
) -> SmartClient:
    """Register an app staff may authorize: exact redirect URIs, allowed ``user/`` scopes, a JWKS if confidential,
    and the web origins a browser-based app runs on (CORS; by default the origins of its redirect URIs).

    Every problem is reported at once (:class:`vertebro.errors.InvalidFields`, by field: ``client_id``,
    ``redirect_uris``, ``scope``, ``jwks``, ``origins``), and nothing is stored unless all are right.
    """
    problems = Problems()
    checked_id = problems.check(new_client_id, client_id)
    checked_uris = problems.check(_redirect_uris, redirect_uris)
    scopes = problems.check(_user_scopes, scope)
    if jwks is not None:
        problems.check(public_key_set, jwks)
    allowed_origins = problems.check(app_origins, origins, redirect_uris)
    repository = SmartRepository(uow.session)
    if checked_id is not None and repository.client(checked_id) is not None:
        problems.add("client_id", f"client {checked_id!r} is already registered")
    problems.raise_any()
    if checked_id is None or checked_uris is None or scopes is None or allowed_origins is None:
        raise AssertionError("checked above")  # pragma: no cover - raise_any has raised
    client_id = checked_id
    app = repository.add_client(
        SmartClient(
            client_id=client_id,
            kind="app",
            name=name.strip() or client_id,
            jwks=jwks,
            redirect_uris=checked_uris,
            allowed_origins=allowed_origins,
            scope=" ".join(s.text for s in scopes),
            role=None,
            active=True,
            created_by=actor,
        )
    )
    uow.audit.append(
        actor=actor,
        action="smart_app_registered",
        entity_type="smart_client",
        entity_id=app.id,
        detail={
            "client_id": client_id,
            "scope": app.scope,
            "confidential": jwks is not None,
            "origins": allowed_origins,
        },
        source=source,
    )
    return app


def allowed_origin(uow: UnitOfWork, origin: str) -> bool:
    """Whether a browser's ``Origin`` is one registered with an active app (the only origins given CORS headers).

    Compared exactly: browsers send the origin serialized as :func:`web_origin` stores it; ``null`` never matches.
    """
    return origin in SmartRepository(uow.session).app_origins()


def app_still_allowed(uow: UnitOfWork, web_session: WebSession, source: str | None) -> bool:
    """Whether a session may still be used: always for a member of staff's own; for an app's token, only while the
    app is active. The token of an app revoked since (a revocation racing with the token's issue) is ended here,
    on its first use, and the refusal audited."""
    if web_session.smart_client_id is None:
        return True
    app = SmartRepository(uow.session).client(web_session.smart_client_id)
    if app is not None and app.active:
        return True
    web_session.revoked_at = utc_now()
    uow.audit.append(
        actor=client_actor(web_session.smart_client_id),
        action="smart_token_refused",
        entity_type="smart_client",
        entity_id=app.id if app is not None else None,
        detail={"error": "invalid_token", "reason": "the app was revoked: its token ended"},
        source=source,
    )
    return False


class AuthorizationError(Exception):
    """An authorization request refused after its redirect URI was checked: answered by redirecting to the app."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        super().__init__(description)
        query = {"error": error, "error_description": description, **({"state": state} if state else {})}
        self.location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class Authorization:
    """A checked authorization request, waiting for the member of staff's decision."""

    app: SmartClient
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str

    def scopes(self) -> tuple[Scope, ...]:
        """The scopes that would be granted."""
        return parse_scopes(self.scope)


def checked_authorization(uow: UnitOfWork, params: Mapping[str, str], fhir_base: str) -> Authorization:
    """Check an authorization request. Before the redirect URI is known good, InvalidInput (an error page, never a
    redirect to an unchecked URI); after, AuthorizationError (a redirect back to the app with ``error``)."""
    client_id = params.get("client_id", "")
    app = SmartRepository(uow.session).client(client_id)
    if app is None or app.kind != "app" or not app.active:
        raise InvalidInput(f"{client_id!r} is not an app registered with vertebro", field="client_id")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in (app.redirect_uris or []):
        raise InvalidInput("redirect_uri is not one registered for this app", field="redirect_uri")
    state = params.get("state") or None

    def refuse(error: str, description: str) -> AuthorizationError:
        return AuthorizationError(redirect_uri, error, description, state)

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "response_type must be code")
    if state is None or len(state) > 500:
        raise refuse("invalid_request", "state is required (at most 500 characters)")
    if params.get("code_challenge_method") != "S256" or not CHALLENGE.match(params.get("code_challenge", "")):
        raise refuse("invalid_request", "PKCE is required: code_challenge_method=S256 and a 43-character challenge")
    if params.get("aud", "").rstrip("/") != fhir_base:
        raise refuse("invalid_request", f"aud must be vertebro's FHIR base URL {fhir_base}")
    words = [w for w in params.get("scope", "").split() if w not in IGNORED_SCOPES]
    if not words:
        raise refuse("invalid_scope", f"ask for resource scopes (this app may have: {app.scope})")
    if any(w == "launch" or w.startswith("launch/") for w in words):
        raise refuse("invalid_scope", "vertebro gives no launch context to apps: ask for user/ scopes only")
    try:
        asked = parse_scopes(" ".join(words))
    except InvalidInput as error:
        raise refuse("invalid_scope", error.message) from None
    allowed = parse_scopes(app.scope)
    for scope in asked:
        if scope.context != "user" or not any(a.covers(scope) for a in allowed):
            raise refuse("invalid_scope", f"{scope.text} is not granted to this app (it may have: {app.scope})")
    return Authorization(app, redirect_uri, " ".join(s.text for s in asked), state, params["code_challenge"])


def approved(uow: UnitOfWork, authorization: Authorization, user: User, source: str | None) -> str:
    """Return the redirect to the app with a new code for this member of staff (audited)."""
    code = credentials.new_token()
    now = utc_now()
    SmartRepository(uow.session).add_code(
        SmartAuthorizationCode(
            id=credentials.token_digest(code),
            client_id=authorization.app.client_id,
            user_id=user.id,
            redirect_uri=authorization.redirect_uri,
            code_challenge=authorization.code_challenge,
            scope=authorization.scope,
            expires_at=now + CODE_LIFETIME,
        ),
        now,
    )
    uow.audit.append(
        actor=user.username,
        action="smart_app_authorized",
        entity_type="smart_client",
        entity_id=authorization.app.id,
        detail={"client_id": authorization.app.client_id, "scope": authorization.scope},
        source=source,
    )
    query = urlencode({"code": code, "state": authorization.state})
    uri = authorization.redirect_uri
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def denied(uow: UnitOfWork, authorization: Authorization, user: User, source: str | None) -> str:
    """Return the redirect to the app saying the member of staff refused (audited)."""
    uow.audit.append(
        actor=user.username,
        action="smart_app_denied",
        entity_type="smart_client",
        entity_id=authorization.app.id,
        detail={"client_id": authorization.app.client_id},
        source=source,
    )
    return AuthorizationError(
        authorization.redirect_uri, "access_denied", "the member of staff did not allow it", authorization.state
    ).location


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def issue_app_token(uow: UnitOfWork, form: Mapping[str, str | None], token_url: str, source: str | None) -> IssuedToken:
    """Exchange an authorization code (PKCE; a confidential app also signs a client assertion) for a token acting
    as the member of staff who approved, within the approved scopes. TokenError otherwise."""
    now = utc_now()
    repository = SmartRepository(uow.session)
    assertion = form.get("client_assertion")
    client_id = form.get("client_id") or (claimed_client_id(assertion) if assertion else "")
    app = repository.client(client_id or "")
    if app is None or app.kind != "app" or not app.active:
        raise TokenError("invalid_client", "the app is not registered (or not active)", 401)
    if app.jwks is not None:  # confidential: private_key_jwt
        if not assertion or form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError("invalid_client", "this confidential app must authenticate with a client assertion", 401)
        accept_assertion(repository, assertion, app, token_url, now)
    code = repository.code(credentials.token_digest(form.get("code") or ""))
    if code is None or code.client_id != app.client_id or code.used_at is not None or code.expires_at < now:
        raise TokenError("invalid_grant", "the code is unknown, expired, already used or not this app's")
    code.used_at = now  # one exchange, whatever follows
    if form.get("redirect_uri") != code.redirect_uri:
        raise TokenError("invalid_grant", "redirect_uri differs from the authorization request's")
    if _challenge(form.get("code_verifier") or "") != code.code_challenge:
        raise TokenError("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
    user = uow.users.get(code.user_id)
    if user is None or not user.active or Role(user.role) not in CLINICAL:
        raise TokenError("invalid_grant", "the member of staff who approved can no longer read patient data")
    token = credentials.new_token()
    web_session = WebSession(
        id=credentials.token_digest(token),
        user_id=user.id,
        csrf_token=credentials.new_token(),
        mfa_passed=True,
        expires_at=now + APP_TOKEN_LIFETIME,
        last_seen_at=now,
        ip=source,
        scope=code.scope,
        smart_client_id=app.client_id,  # revoking the app ends this token (fhir.smart.revoke_client)
    )
    uow.web_sessions.add(web_session)
    expires_in = int(APP_TOKEN_LIFETIME.total_seconds())
    uow.audit.append(
        actor=client_actor(app.client_id),
        action="smart_token_issued",
        entity_type="smart_client",
        entity_id=app.id,
        detail={
            "scope": code.scope,
            "expires_in": expires_in,
            "grant_type": "authorization_code",
            "user": user.username,
        },
        source=source,
    )
    return IssuedToken(token, code.scope, expires_in)
