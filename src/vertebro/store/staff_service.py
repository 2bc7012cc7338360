"""Staff accounts and sign-in: password then TOTP, sessions with idle and absolute limits, rate limits.

Every attempt, success or failure, is written to the audit log (ASVS 16.3.1). Services never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from vertebro.errors import InvalidInput, NotFound, VertebroError
from vertebro.pathway.machine import Role
from vertebro.store import credentials
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import LoginAttempt, User, WebSession

IDLE_TIMEOUT = dt.timedelta(minutes=15)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
MFA_WINDOW = dt.timedelta(minutes=5)
RATE_WINDOW = dt.timedelta(minutes=15)
SEEN_RESOLUTION = dt.timedelta(minutes=1)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20


class NotAuthenticated(VertebroError):
    """No valid session, or the sign-in failed (401)."""

    status_code: ClassVar[int] = 401


class Forbidden(VertebroError):
    """Signed in, but the role may not do this (403)."""

    status_code: ClassVar[int] = 403


class TooManyAttempts(VertebroError):
    """Too many failed sign-ins recently (429)."""

    status_code: ClassVar[int] = 429


@dataclass(frozen=True, slots=True)
class NewUser:
    """A created account and its TOTP secret (shown once, for the authenticator app)."""

    user: User
    totp_secret: str


def create_user(uow: UnitOfWork, *, username: str, display_name: str, role: Role, password: str, actor: str) -> NewUser:
    """Create a staff account with an argon2id password hash and a new TOTP secret."""
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").isalnum():
        raise InvalidInput("use letters, digits, dots or hyphens (at most 64)", field="username")
    problem = credentials.password_problem(password)
    if problem is not None:
        raise InvalidInput(problem, field="password")
    if uow.users.get_by_username(username) is not None:
        raise InvalidInput("this username is taken", field="username")
    secret = credentials.new_totp_secret()
    user = uow.users.add(
        User(
            username=username,
            display_name=display_name.strip() or username,
            role=role.value,
            password_hash=credentials.hash_password(password),
            totp_secret=secret,
        )
    )
    uow.audit.append(actor=actor, action="create", entity_type="user", entity_id=user.id, detail={"role": role.value})
    return NewUser(user, secret)


def change_role(uow: UnitOfWork, *, username: str, role: Role, actor: str) -> User:
    """Give a staff account another role and end every session it has (a privilege change needs a new sign-in).

    An account cannot change its own role (the last admin would otherwise lock everyone out). Audited with
    the old and the new role.
    """
    user = uow.users.get_by_username(username.strip().lower())
    if user is None:
        raise NotFound(f"there is no staff account {username!r}", field="username")
    if user.username == actor:
        raise Forbidden("another admin must change your own role", field="username")
    previous = user.role
    user.role = role.value
    uow.web_sessions.revoke_all(user.id, utc_now())
    uow.audit.append(
        actor=actor,
        action="role_changed",
        entity_type="user",
        entity_id=user.id,
        detail={"from": previous, "to": role.value, "sessions": "ended"},
    )
    return user


def check_rate(uow: UnitOfWork, username: str, ip: str | None, now: dt.datetime) -> None:
    """Raise TooManyAttempts after 5 failures for a sign-in name or 20 from an address in 15 minutes."""
    since = now - RATE_WINDOW
    if uow.login_attempts.failures_since(username=username, since=since) >= MAX_FAILURES_PER_USERNAME:
        raise TooManyAttempts("too many failed sign-ins for this account: wait 15 minutes", field="username")
    if ip and uow.login_attempts.failures_since(ip=ip, since=since) >= MAX_FAILURES_PER_ADDRESS:
        raise TooManyAttempts("too many failed sign-ins from this address: wait 15 minutes")


def _record(uow: UnitOfWork, username: str, ip: str | None, success: bool, action: str, user: User | None) -> None:
    uow.login_attempts.add(LoginAttempt(username=username, ip=ip, success=success))
    uow.audit.append(
        actor=username or "(empty)",
        action=action,
        entity_type="user",
        entity_id=None if user is None else user.id,
        source=ip,
    )


def begin_sign_in(uow: UnitOfWork, *, username: str, password: str, ip: str | None) -> str:
    """Check the password and open a session awaiting the TOTP code; return the session token.

    The message for a wrong username and a wrong password is the same (ASVS 16.5.1).
    """
    now = utc_now()
    username = username.strip().lower()[:64]
    check_rate(uow, username, ip, now)
    user = uow.users.get_by_username(username)
    ok = credentials.password_matches(None if user is None else user.password_hash, password)
    if user is None or not ok or not user.active:
        _record(uow, username, ip, False, "login_failed", user)
        raise NotAuthenticated("the username or password is not right", field="password")
    token = credentials.new_token()
    uow.web_sessions.add(
        WebSession(
            id=credentials.token_digest(token),
            user_id=user.id,
            csrf_token=credentials.new_token(),
            mfa_passed=False,
            expires_at=now + MFA_WINDOW,
            ip=ip,
        )
    )
    _record(uow, username, ip, True, "password_ok", user)
    return token


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A completed sign-in: the new session and its token (the pending token is spent)."""

    session: WebSession
    token: str


def complete_sign_in(uow: UnitOfWork, *, token: str, code: str, ip: str | None) -> SignedIn:
    """Check the TOTP code for a session awaiting it; on success open the signed-in session under a new token.

    The token that passed the password step ends here: the signed-in session gets a fresh token (and CSRF
    token), so a token seen before the second factor (ASVS 7.2.4: a new session token on authentication)
    never becomes a signed-in session.
    """
    now = utc_now()
    pending = uow.web_sessions.get_with_user(credentials.token_digest(token))
    if pending is None or pending.mfa_passed or pending.revoked_at is not None or pending.expires_at < now:
        raise NotAuthenticated("the sign-in has expired: start again", field="code")
    user = pending.user
    check_rate(uow, user.username, ip, now)
    step = None if user.totp_secret is None else credentials.totp_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        _record(uow, user.username, ip, False, "totp_failed", user)
        raise NotAuthenticated("the code is not right (or was already used): try the next one", field="code")
    user.totp_last_step = step
    pending.revoked_at = now
    new_token = credentials.new_token()
    web_session = uow.web_sessions.add(
        WebSession(
            id=credentials.token_digest(new_token),
            user_id=user.id,
            csrf_token=credentials.new_token(),
            mfa_passed=True,
            expires_at=now + ABSOLUTE_TIMEOUT,
            last_seen_at=now,
            ip=ip,
        )
    )
    web_session.user = user
    _record(uow, user.username, ip, True, "login", user)
    return SignedIn(web_session, new_token)


def signed_in(uow: UnitOfWork, token: str | None) -> WebSession | None:
    """Return the live, fully signed-in session for a token and mark it seen; None when there is none.

    A session idle for more than 15 minutes, older than 12 hours or revoked is refused (automatic
    log-off, HIPAA 164.312(a)(2)(iii)).
    """
    if not token:
        return None
    now = utc_now()
    web_session = uow.web_sessions.get_with_user(credentials.token_digest(token))
    if web_session is None or not web_session.mfa_passed or web_session.revoked_at is not None:
        return None
    if web_session.expires_at < now or web_session.last_seen_at + IDLE_TIMEOUT < now or not web_session.user.active:
        web_session.revoked_at = now
        uow.audit.append(
            actor=web_session.user.username, action="logout_timeout", entity_type="user", entity_id=web_session.user_id
        )
        return None
    if now - web_session.last_seen_at > SEEN_RESOLUTION:
        web_session.last_seen_at = now  # written at most once a minute: no lock contention per request
    return web_session


def sign_out(uow: UnitOfWork, web_session: WebSession) -> None:
    """End a session."""
    web_session.revoked_at = utc_now()
    uow.audit.append(
        actor=web_session.user.username, action="logout", entity_type="user", entity_id=web_session.user_id
    )
