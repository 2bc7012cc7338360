"""Credentials: argon2id password hashes, TOTP second factor, session and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id, library defaults (m=65536, t=3, p=4)
_DUMMY_HASH = _HASHER.hash("a password nobody has")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
TOTP_PERIOD_S = 30


def password_problem(password: str) -> str | None:
    """Return why a new password is not acceptable (ASVS 6.2: length, not composition), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"use at most {MAX_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Return whether the password matches; spends the same time when there is no user."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    """Return a new base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """Return the otpauth:// URI an authenticator app reads (as a QR code or text)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="vertebro")


def totp_now(secret: str) -> str:
    """Return the current TOTP code (for the demo and tests)."""
    return pyotp.TOTP(secret).now()


def totp_step(secret: str, code: str, last_step: int | None, at: float | None = None) -> int | None:
    """Return the time step a valid, not yet used code belongs to, or None.

    Accepts the current step and one on either side (clock drift); a step at or before ``last_step``
    is refused, so each code works once (ASVS 6.5.1).
    """
    code = code.strip().replace(" ", "")
    if not (code.isdecimal() and len(code) == 6):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    current = int(now // TOTP_PERIOD_S)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD_S), code) and (last_step is None or step > last_step):
            return step
    return None


def new_token() -> str:
    """Return a new random session (or CSRF) token."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a session token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
