"""Queries on staff users, their sessions and sign-in attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from vertebro.store.models import LoginAttempt, User, WebSession


class UserRepository:
    """Queries on ``users``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        """Return the user with this id, or None."""
        return self.session.get(User, user_id)

    def get_by_username(self, username: str) -> User | None:
        """Return the user with this username, or None."""
        return self.session.scalars(select(User).where(User.username == username)).one_or_none()

    def add(self, user: User) -> User:
        """Insert a user and flush to assign its id."""
        self.session.add(user)
        self.session.flush()
        return user

    def all(self) -> list[User]:
        """Return every user, by username."""
        return list(self.session.scalars(select(User).order_by(User.username)))


class WebSessionRepository:
    """Queries on ``web_sessions``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, web_session: WebSession) -> WebSession:
        """Insert a session."""
        self.session.add(web_session)
        self.session.flush()
        return web_session

    def get_with_user(self, digest: str) -> WebSession | None:
        """Return the session stored under this token digest, with its user loaded."""
        statement = select(WebSession).where(WebSession.id == digest).options(joinedload(WebSession.user))
        return self.session.scalars(statement).one_or_none()

    def revoke_all(self, user_id: int, at: dt.datetime) -> None:
        """Revoke every live session of a user."""
        self.session.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class LoginAttemptRepository:
    """Queries on ``login_attempts``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, attempt: LoginAttempt) -> None:
        """Record an attempt."""
        self.session.add(attempt)

    def failures_since(self, *, username: str | None = None, ip: str | None = None, since: dt.datetime) -> int:
        """Return the number of failed attempts for a username or an address since a time."""
        statement = (
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.success.is_(False), LoginAttempt.occurred_at >= since)
        )
        if username is not None:
            statement = statement.where(LoginAttempt.username == username)
        if ip is not None:
            statement = statement.where(LoginAttempt.ip == ip)
        return int(self.session.scalar(statement) or 0)
