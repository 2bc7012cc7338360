"""The JWT an EHR sends to a CDS Service (CDS Hooks 2.0 "Trusting CDS Clients"), checked against a JWKS file.

The token must be signed by a key of the configured JWKS (``VERTEBRO_CDS_JWKS``; picked by ``kid`` when the
token names one), with an asymmetric algorithm (RS/ES/PS 256-512), and carry ``iss`` (one of
``VERTEBRO_CDS_ISSUERS`` when that list is set), ``aud`` equal to the URL of the CDS Service called, ``exp``,
``iat`` and ``jti``. A ``jti`` is accepted once per process until its token expires (replay protection is
per process: with several workers a replay to another worker is not caught).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jwt

from vertebro.store.staff_service import NotAuthenticated

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
LEEWAY_SECONDS = 30


class BadToken(NotAuthenticated):
    """The CDS Client's JWT is missing or cannot be trusted (401), with the reason."""


@cache
def _key_set(path: Path, modified: float) -> jwt.PyJWKSet:
    """Return the JWKS of a file (cached per path and modification time, so a replaced file is re-read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return jwt.PyJWKSet.from_dict(data)
    except (OSError, ValueError, jwt.PyJWTError) as error:
        raise BadToken(f"the configured CDS JWKS {path} cannot be used: {error}") from None


def key_set(path: Path) -> jwt.PyJWKSet:
    """Return the JWKS stored at ``path``."""
    try:
        modified = path.stat().st_mtime
    except OSError as error:
        raise BadToken(f"the configured CDS JWKS {path} cannot be read: {error.strerror}") from None
    return _key_set(path, modified)


class ReplayGuard:
    """Remembers the ``jti`` of accepted tokens until they expire (in this process only)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def accept(self, jti: str, expires: float) -> bool:
        """Return True the first time a ``jti`` is seen (before it expires), False on a replay."""
        now = time.time()
        with self._lock:
            for old in [k for k, until in self._seen.items() if until + LEEWAY_SECONDS < now]:
                del self._seen[old]
            if jti in self._seen:
                return False
            self._seen[jti] = expires
            return True


def verify(token: str, *, jwks: Path, audience: str, issuers: Iterable[str], replay: ReplayGuard) -> dict[str, Any]:
    """Return the claims of a CDS Client's JWT; raise :class:`BadToken` (401) saying what is wrong."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise BadToken(f"the bearer token is not a JWT: {error}") from None
    if header.get("alg") not in ALGORITHMS:
        raise BadToken(f"the JWT algorithm {header.get('alg')!r} is not accepted (use one of {', '.join(ALGORITHMS)})")
    keys = key_set(jwks).keys
    kid = header.get("kid")
    candidates = [k for k in keys if k.key_id == kid] if kid is not None else keys
    if not candidates:
        raise BadToken(f"no key with kid {kid!r} in the configured JWKS")
    claims: dict[str, Any] | None = None
    last: Exception | None = None
    for key in candidates:
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(ALGORITHMS),
                audience=audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
            break
        except jwt.InvalidSignatureError as error:
            last = error
        except jwt.PyJWTError as error:
            raise BadToken(f"the JWT was refused: {error}") from None
    if claims is None:
        raise BadToken(f"the JWT was refused: {last}")
    allowed = list(issuers)
    if allowed and claims["iss"] not in allowed:
        raise BadToken(f"the JWT issuer {claims['iss']!r} is not trusted")
    if not replay.accept(str(claims["jti"]), float(claims["exp"])):
        raise BadToken(f"the JWT jti {claims['jti']!r} was already used")
    return claims
