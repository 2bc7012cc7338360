"""A SMART Backend Services client for the tests: its keys (made here, never stored) and signed assertions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class BackendClient:
    """A system client with an EC P-384 key (ES384) and an RSA key (RS384)."""

    client_id: str = "bulk-loader"
    ec: ECKey = field(default_factory=lambda: ECKey.generate_key("P-384", parameters={"kid": "ec-1"}))
    rsa: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}))

    @property
    def jwks(self) -> dict[str, Any]:
        """The public JWKS the client registers."""
        return {"keys": [self.ec.as_dict(private=False), self.rsa.as_dict(private=False)]}

    def claims(self, token_url: str, **changes: Any) -> dict[str, Any]:
        """Valid claims for ``token_url``, with ``changes`` (a value None removes the claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": token_url,
            "exp": now + 240,
            "jti": secrets.token_hex(16),
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def assertion(self, token_url: str, *, alg: str = "ES384", kid: str | None = None, **changes: Any) -> str:
        """A client assertion signed with the client's own key for ``alg`` (ES384 or RS384)."""
        key = self.ec if alg.startswith("ES") else self.rsa
        header = {"alg": alg, "kid": kid or key.kid, "typ": "JWT"}
        return jwt.encode(header, self.claims(token_url, **changes), key, algorithms=[alg])

    def unsigned(self, token_url: str) -> str:
        """An assertion with ``alg: none`` and no signature."""
        header = _b64(json.dumps({"alg": "none", "kid": "ec-1"}).encode())
        return f"{header}.{_b64(json.dumps(self.claims(token_url)).encode())}."

    def hs256_with_public_key(self, token_url: str) -> str:
        """An HS256 assertion whose HMAC secret is the client's public RSA key (the algorithm confusion attack)."""
        header = _b64(json.dumps({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(self.claims(token_url)).encode())
        secret = self.rsa.as_pem(private=False)
        signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def token_form(self, token_url: str, scope: str = "system/*.read", **assertion: Any) -> dict[str, str]:
        """The form body of a client-credentials token request."""
        return {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(token_url, **assertion),
        }
