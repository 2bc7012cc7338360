"""Queries of SMART on FHIR: registered clients, issued access tokens (and app sessions), used assertion ids, EHR
launches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vertebro.store.models import (
    FhirExportJob,
    SmartAccessToken,
    SmartAssertionId,
    SmartAuthorizationCode,
    SmartClient,
    SmartLaunch,
    WebSession,
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

    def end_app_sessions(self, client_id: str, now: dt.datetime) -> int:
        """End every access token given to an app (staff API sessions of the app); return how many were live."""
        result = self.session.execute(
            update(WebSession)
            .where(WebSession.smart_client_id == client_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_codes(self, client_id: str) -> None:
        """Delete the authorization codes of a client (used or not)."""
        self.session.execute(delete(SmartAuthorizationCode).where(SmartAuthorizationCode.client_id == client_id))

    def stop_exports(self, requested_by: str, now: dt.datetime, reason: str) -> int:
        """Cancel the queued and running ``$export`` jobs of a requester (a running one stops at its next batch)."""
        result = self.session.execute(
            update(FhirExportJob)
            .where(FhirExportJob.requested_by == requested_by, FhirExportJob.status.in_(("queued", "running")))
            .values(status="cancelled", error=reason, finished_at=now, updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def live_tokens(self, now: dt.datetime, seen_since: dt.datetime) -> dict[str, int]:
        """Return, by client id, how many access tokens given to clients and apps are live now (an app's token:
        not ended, not expired, used since ``seen_since``, the idle limit)."""
        counts: dict[str, int] = {}
        system = select(SmartAccessToken.client_id, func.count()).where(SmartAccessToken.expires_at >= now)
        apps = select(WebSession.smart_client_id, func.count()).where(
            WebSession.smart_client_id.is_not(None),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at >= now,
            WebSession.last_seen_at >= seen_since,
        )
        for query in (system.group_by(SmartAccessToken.client_id), apps.group_by(WebSession.smart_client_id)):
            for client_id, count in self.session.execute(query):
                counts[str(client_id)] = counts.get(str(client_id), 0) + int(count)
        return counts

    def app_origins(self) -> set[str]:
        """Return the web origins of every active app (the origins that may call /fhir and /auth/token)."""
        rows = self.session.scalars(
            select(SmartClient.allowed_origins).where(SmartClient.kind == "app", SmartClient.active.is_(True))
        )
        return {str(origin) for origins in rows for origin in origins or []}

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
