"""SMART Backend Services (SMART App Launch 2.x, "Backend Services"): system clients and their access tokens.

A system client (a registry, a data warehouse, an EHR's bulk loader) is registered by an administrator with its
public JWKS (``vertebro fhir register-client``), the ``system/`` scopes it may be given and the staff role its
requests act in. It asks ``POST /auth/token`` for an access token with ``grant_type=client_credentials`` and a
client assertion: a JWT signed with one of its keys (RS384 or ES384, named by ``kid``) whose ``iss`` and ``sub``
are its client id, ``aud`` is the token endpoint's URL, ``exp`` at most five minutes ahead, and ``jti`` never used
before by that client (kept until the assertion expires). The token (five minutes, stored as its SHA-256 only)
carries the granted scopes, which the /fhir routes enforce like the scopes of a staff token (``fhir.scopes``).

The signature is checked by ``joserfc`` (a kept library) with the algorithms restricted to RS384 and ES384, so
``alg: none`` and a symmetric ``HS256`` signed with the public key are refused. Errors follow RFC 6749 5.2:
``invalid_client`` (401) for anything wrong with the client or its assertion, ``invalid_scope``,
``invalid_request`` and ``unsupported_grant_type`` (400). Every issuance and refusal is audited with the client
id as actor; tokens, assertions and keys are never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from vertebro.errors import InvalidInput, NotFound, Problems
from vertebro.fhir.scopes import Scope, parse_scopes
from vertebro.fhir.smart_repository import SmartRepository
from vertebro.pathway.machine import Role
from vertebro.store import credentials
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import SmartAccessToken, SmartClient
from vertebro.store.staff_service import IDLE_TIMEOUT

ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = dt.timedelta(minutes=5)
LEEWAY = dt.timedelta(seconds=30)  # clock skew allowed between the client and vertebro
TOKEN_LIFETIME = dt.timedelta(minutes=5)
ACTOR_PREFIX = "client:"  # audit actor of a client; staff usernames cannot contain ':'
CLIENT_ROLES = (Role.COORDINATOR, Role.NURSE, Role.RADIOLOGIST, Role.SERVICE_LEAD)


class TokenError(Exception):
    """An OAuth 2.0 error response (RFC 6749 5.2): ``error`` code, a description and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error body."""
        return {"error": self.error, "error_description": self.description}


def _invalid_client(description: str) -> TokenError:
    return TokenError("invalid_client", description, 401)


def client_actor(client_id: str) -> str:
    """Return the audit actor of a SMART client (``client:<client id>``)."""
    return ACTOR_PREFIX + client_id


def public_key_set(jwks: Any) -> KeySet:
    """Return the public keys of a JWKS document; InvalidInput naming the problem (private keys are refused)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise InvalidInput('the JWKS must be a JSON object {"keys": [...]} with at least one key', field="jwks")
    for index, key in enumerate(jwks["keys"]):
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise InvalidInput(f"keys[{index}] is not an RSA or EC public key", field="jwks")
        if "d" in key:
            raise InvalidInput(f"keys[{index}] holds a private key: register the public key only", field="jwks")
        if not key.get("kid"):
            raise InvalidInput(f"keys[{index}] has no kid (assertions name their key by kid)", field="jwks")
    try:
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidInput(f"the JWKS cannot be read: {error}", field="jwks") from None


def new_client_id(text: str) -> str:
    """Return the id of a client or app to register (trimmed; one namespace for both); InvalidInput unless it is
    1 to 128 letters, digits or -._~ (RFC 3986 unreserved characters)."""
    client_id = text.strip()
    if not client_id or len(client_id) > 128 or not all(c.isalnum() or c in "-._~" for c in client_id):
        raise InvalidInput("use 1 to 128 letters, digits or -._~", field="client_id")
    return client_id


def _scopes(text: str, field: str) -> tuple[Scope, ...]:
    scopes = parse_scopes(text)
    other = [s.text for s in scopes if s.context != "system"]
    if other:
        raise InvalidInput(f"a system client gets system/ scopes only, not {' '.join(other)}", field=field)
    return scopes


def _client_role(role: Role) -> Role:
    if role not in CLIENT_ROLES:
        raise InvalidInput(f"a client acts in a clinical role, not {role.value}", field="role")
    return role


def register_client(
    uow: UnitOfWork,
    *,
    client_id: str,
    name: str,
    jwks: Any,
    scope: str,
    role: Role,
    actor: str,
    source: str | None = None,
) -> SmartClient:
    """Register a Backend Services client with its public JWKS, allowed ``system/`` scopes and role (audited).

    Every problem is reported at once (:class:`vertebro.errors.InvalidFields`, by field: ``client_id``, ``role``,
    ``jwks``, ``scope``), and nothing is stored unless all are right.
    """
    problems = Problems()
    checked_id = problems.check(new_client_id, client_id)
    problems.check(_client_role, role)
    problems.check(public_key_set, jwks)
    scopes = problems.check(_scopes, scope, "scope")
    repository = SmartRepository(uow.session)
    if checked_id is not None and repository.client(checked_id) is not None:
        problems.add("client_id", f"client {checked_id!r} is already registered")
    problems.raise_any()
    if checked_id is None or scopes is None:
        raise AssertionError("checked above")  # pragma: no cover - raise_any has raised
    client_id = checked_id
    client = repository.add_client(
        SmartClient(
            client_id=client_id,
            kind="system",
            name=name.strip() or client_id,
            jwks=jwks,
            scope=" ".join(s.text for s in scopes),
            role=role.value,
            active=True,
            created_by=actor,
        )
    )
    uow.audit.append(
        actor=actor,
        action="smart_client_registered",
        entity_type="smart_client",
        entity_id=client.id,
        detail={"client_id": client_id, "scope": client.scope, "role": role.value, "keys": len(jwks["keys"])},
        source=source,
    )
    return client


def revoke_client(uow: UnitOfWork, *, client_id: str, actor: str, source: str | None = None) -> SmartClient:
    """Revoke a system client or an app (a key lost, a contract ended), audited: every token it was given ends at
    once (a client's access tokens are deleted, an app's staff API sessions ended), its unused codes are deleted,
    its queued or running ``$export`` jobs are cancelled, and it gets no new code or token. Revoking it again ends
    whatever was issued in between (and is audited again)."""
    repository = SmartRepository(uow.session)
    client = repository.client(client_id.strip())
    if client is None:
        raise NotFound(f"there is no registered client {client_id!r}", field="client_id")
    now = utc_now()
    was_active = client.active
    client.active = False
    if client.revoked_at is None:  # the first revocation is the one the admin page shows
        client.revoked_at, client.revoked_by = now, actor
    ended = repository.delete_tokens(client.client_id) + repository.end_app_sessions(client.client_id, now)
    repository.delete_codes(client.client_id)
    stopped = repository.stop_exports(client_actor(client.client_id), now, "the client was revoked")
    uow.audit.append(
        actor=actor,
        action="smart_client_revoked",
        entity_type="smart_client",
        entity_id=client.id,
        detail={
            "client_id": client.client_id,
            "kind": client.kind,
            "was_active": was_active,
            "tokens_ended": ended,
            "exports_cancelled": stopped,
        },
        source=source,
    )
    return client


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A registered client or app as an administrator sees it, with how many of its tokens are live now."""

    client: SmartClient
    live_tokens: int

    @property
    def kind(self) -> str:
        """What it is, in words."""
        if self.client.kind == "system":
            return "system client (Backend Services)"
        return "confidential app" if self.client.jwks is not None else "public app"


def registered_clients(uow: UnitOfWork, *, actor: str, source: str | None) -> list[RegisteredClient]:
    """Return every registered client and app with its live tokens, for an administrator (the reading audited)."""
    repository = SmartRepository(uow.session)
    now = utc_now()
    live = repository.live_tokens(now, now - IDLE_TIMEOUT)
    clients = repository.clients()
    uow.audit.append(
        actor=actor,
        action="read",
        entity_type="smart_clients",
        entity_id=None,
        detail={"rows": len(clients)},
        source=source,
    )
    return [RegisteredClient(c, live.get(c.client_id, 0) if c.active else 0) for c in clients]


@dataclass(frozen=True, slots=True)
class Assertion:
    """The checked claims of a client assertion that the token endpoint still needs."""

    client_id: str
    jti: str
    expires_at: dt.datetime


def claimed_client_id(assertion: str) -> str:
    """Return the ``iss`` of an assertion before its signature is checked (to find the client's keys)."""
    try:
        claims = json.loads(extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise _invalid_client("client_assertion is not a signed JWT (JWS compact serialization)") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise _invalid_client("the client assertion has no iss (the client id)")
    return issuer


def checked_assertion(assertion: str, jwks: Any, client_id: str, token_url: str, now: dt.datetime) -> Assertion:
    """Return the claims of a client assertion signed by a key of ``jwks``; TokenError ``invalid_client`` if not.

    SMART Backend Services: ``iss`` = ``sub`` = the client id, ``aud`` = the token endpoint URL, ``exp`` in the
    future and no more than five minutes ahead, a ``jti``; signed with RS384 or ES384 by the key named by ``kid``.
    """
    try:
        header = extract_compact(assertion.encode()).protected
    except (JoseError, ValueError, UnicodeDecodeError):
        raise _invalid_client("client_assertion is not a signed JWT (JWS compact serialization)") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _invalid_client(f"the assertion's alg {alg!r} is refused: sign with {' or '.join(ALGORITHMS)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _invalid_client("the assertion's header has no kid naming the signing key")
    try:
        keys = public_key_set(jwks)
    except InvalidInput:
        raise _invalid_client("the client's registered JWKS cannot be used") from None
    if all(key.kid != kid for key in keys.keys):
        raise _invalid_client(f"no registered key of the client has kid {kid!r}")
    try:
        claims = jwt.decode(assertion, keys, algorithms=list(ALGORITHMS)).claims
    except (JoseError, ValueError):
        raise _invalid_client("the assertion's signature does not verify with the client's key") from None
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise _invalid_client("the assertion's iss and sub must both be the client id")
    audience = claims.get("aud")
    if audience != token_url and not (isinstance(audience, list) and token_url in audience):
        raise _invalid_client(f"the assertion's aud must be the token endpoint {token_url}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _invalid_client("the assertion has no numeric exp")
    expires_at = dt.datetime.fromtimestamp(exp, dt.UTC)
    if expires_at < now - LEEWAY:
        raise _invalid_client("the assertion has expired")
    if expires_at > now + MAX_ASSERTION_LIFETIME + LEEWAY:
        raise _invalid_client("the assertion's exp is more than five minutes ahead")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and dt.datetime.fromtimestamp(nbf, dt.UTC) > now + LEEWAY:
        raise _invalid_client("the assertion is not valid yet (nbf)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _invalid_client("the assertion has no jti (1 to 255 characters)")
    return Assertion(client_id, jti, expires_at)


def accept_assertion(
    repository: SmartRepository, assertion: str, client: SmartClient, token_url: str, now: dt.datetime
) -> None:
    """Accept a client assertion once: signed by the client's key with the right claims (:func:`checked_assertion`)
    and a ``jti`` the client has not used before (remembered until the assertion expires); TokenError
    ``invalid_client`` otherwise. The one authentication of system clients and of confidential apps."""
    checked = checked_assertion(assertion, client.jwks, client.client_id, token_url, now)
    repository.forget_expired(now)
    if not repository.remember_assertion(client.client_id, checked.jti, checked.expires_at + LEEWAY):
        raise _invalid_client("the assertion's jti was already used (a replayed assertion)")


def granted_scope(requested: str | None, allowed: str) -> str:
    """Return the scopes to grant: every requested scope must be a ``system/`` scope the client may have.

    Raises TokenError ``invalid_scope`` naming the first scope that is not allowed.
    """
    if not requested or not requested.split():
        raise TokenError("invalid_scope", f"scope is required (the client may ask for: {allowed})")
    try:
        scopes = _scopes(requested, "scope")
    except InvalidInput as error:
        raise TokenError("invalid_scope", error.message) from None
    registered = parse_scopes(allowed)
    for scope in scopes:
        if not any(r.covers(scope) for r in registered):
            raise TokenError("invalid_scope", f"{scope.text} is not granted to this client (it may ask for: {allowed})")
    return " ".join(s.text for s in scopes)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token just issued (the token itself is shown once, here)."""

    access_token: str
    scope: str
    expires_in: int


def issue_client_token(
    uow: UnitOfWork,
    *,
    grant_type: str | None,
    assertion_type: str | None,
    assertion: str | None,
    scope: str | None,
    token_url: str,
    source: str | None,
) -> IssuedToken:
    """Check a client-credentials token request and issue an access token (audited); TokenError otherwise.

    A refusal after the client is known is audited under the client's actor; the caller commits in both cases.
    """
    if grant_type != "client_credentials":
        raise TokenError(
            "unsupported_grant_type",
            "grant_type must be client_credentials or authorization_code (vertebro issues no refresh tokens)",
        )
    if assertion_type != ASSERTION_TYPE:
        raise TokenError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    if not assertion:
        raise TokenError("invalid_request", "client_assertion is required")
    now = utc_now()
    repository = SmartRepository(uow.session)
    client_id = claimed_client_id(assertion)
    client = repository.client(client_id)
    if client is None or not client.active or client.kind != "system":
        raise _invalid_client("the client is not registered (or not active) as a system client")
    try:
        accept_assertion(repository, assertion, client, token_url, now)
        granted = granted_scope(scope, client.scope)
    except TokenError as error:
        uow.audit.append(
            actor=client_actor(client.client_id),
            action="smart_token_refused",
            entity_type="smart_client",
            entity_id=client.id,
            detail={"error": error.error, "reason": error.description},
            source=source,
        )
        raise
    token = credentials.new_token()
    repository.add_token(
        SmartAccessToken(
            id=credentials.token_digest(token),
            client_id=client.client_id,
            scope=granted,
            issued_at=now,
            expires_at=now + TOKEN_LIFETIME,
            source=source,
        )
    )
    expires_in = int(TOKEN_LIFETIME.total_seconds())
    uow.audit.append(
        actor=client_actor(client.client_id),
        action="smart_token_issued",
        entity_type="smart_client",
        entity_id=client.id,
        detail={"scope": granted, "expires_in": expires_in, "grant_type": "client_credentials"},
        source=source,
    )
    return IssuedToken(token, granted, expires_in)


@dataclass(frozen=True, slots=True)
class ClientSession:
    """A live client access token: who (client id and role) and which scopes."""

    client_id: str
    role: Role
    scope: str


def client_session(uow: UnitOfWork, token: str | None) -> ClientSession | None:
    """Return the live client access token for a bearer token, or None (unknown, expired, client inactive)."""
    if not token:
        return None
    found = SmartRepository(uow.session).token(credentials.token_digest(token))
    if found is None:
        return None
    access, client = found
    if access.expires_at < utc_now() or not client.active or client.role is None:
        return None
    return ClientSession(client.client_id, Role(client.role), access.scope)
