"""Queries of SMART on FHIR: registered clients, issued access tokens, used assertion ids, EHR launches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vertebro.store.models import (
    SmartAccessToken,
    SmartAssertionId,
    SmartAuthorizationCode,
    SmartClient,
    SmartLaunch,
)


class SmartRepository:
    """Every query of the SMART tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def client(self, client_id: str) -> SmartClient | None:
        """Return the registered client with this id, or None."""
        return self.session.scalars(select(SmartClient).where(SmartClient.client_id == client_id)).one_or_none()

    def clients(self) -> list[SmartClient]:
        """Return every registered client, by client id."""
        return list(self.session.scalars(select(SmartClient).order_by(SmartClient.client_id)))

    def add_client(self, client: SmartClient) -> SmartClient:
        """Store a new client (flushed, so a duplicate client id fails here)."""
        self.session.add(client)
        self.session.flush()
        return client

    def remember_assertion(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        """Store a used assertion id; False when this client already used it (a replay).

        The primary key (client id, jti) decides, so two requests racing with the same assertion cannot both win.
        """
        try:
            with self.session.begin_nested():
                self.session.add(SmartAssertionId(client_id=client_id, jti=jti, expires_at=expires_at))
                self.session.flush()
        except IntegrityError:
            return False
        return True

    def forget_expired(self, now: dt.datetime) -> None:
        """Delete assertion ids and access tokens past their expiry (nothing can use them any more)."""
        self.session.execute(delete(SmartAssertionId).where(SmartAssertionId.expires_at < now))
        self.session.execute(delete(SmartAccessToken).where(SmartAccessToken.expires_at < now))

    def add_code(self, code: SmartAuthorizationCode, now: dt.datetime) -> None:
        """Store an authorization code, and delete the codes past their expiry (used or not)."""
        self.session.execute(delete(SmartAuthorizationCode).where(SmartAuthorizationCode.expires_at < now))
        self.session.add(code)

    def code(self, digest: str) -> SmartAuthorizationCode | None:
        """Return the authorization code stored under ``digest``, or None."""
        return self.session.get(SmartAuthorizationCode, digest)

    def add_token(self, token: SmartAccessToken) -> None:
        """Store an issued access token (its digest)."""
        self.session.add(token)

    def delete_tokens(self, client_id: str) -> int:
        """Delete every access token of a client; return how many there were."""
        result = self.session.execute(delete(SmartAccessToken).where(SmartAccessToken.client_id == client_id))
        return int(getattr(result, "rowcount", 0) or 0)

    def token(self, digest: str) -> tuple[SmartAccessToken, SmartClient] | None:
        """Return the access token stored under ``digest`` with its client, or None."""
        row = self.session.execute(
            select(SmartAccessToken, SmartClient)
            .join(SmartClient, SmartClient.client_id == SmartAccessToken.client_id)
            .where(SmartAccessToken.id == digest)
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    def add_launch(self, launch: SmartLaunch) -> None:
        """Store an EHR launch waiting for its callback."""
        self.session.add(launch)

    def launch(self, state_digest: str) -> SmartLaunch | None:
        """Return the EHR launch whose ``state`` has this digest, or None."""
        return self.session.get(SmartLaunch, state_digest)

    def launch_to_open(self, open_digest: str) -> SmartLaunch | None:
        """Return the completed EHR launch whose one-use link has this digest, or None."""
        return self.session.scalars(select(SmartLaunch).where(SmartLaunch.open_id == open_digest)).one_or_none()

    def forget_expired_launches(self, now: dt.datetime) -> None:
        """Delete EHR launches past their expiry."""
        self.session.execute(delete(SmartLaunch).where(SmartLaunch.expires_at < now))
