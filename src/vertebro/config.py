"""Runtime settings, read from ``VERTEBRO_*`` environment variables.

``VERTEBRO_DATABASE_URL`` selects the database (default: an SQLite file ``var/vertebro.db``
relative to the working directory; its folder is created when the engine is opened).
``VERTEBRO_DEFAULT_PROFILE`` and ``VERTEBRO_DOAC_PROTOCOL`` set the clinic policy choices.
``VERTEBRO_CDS_JWKS`` (a JWKS file) and ``VERTEBRO_CDS_ISSUERS`` (a JSON list) authenticate CDS Hooks callers.
``VERTEBRO_EXPORT_DIR`` is where FHIR ``$export`` jobs write their files (default ``var/exports``).
``VERTEBRO_REGISTRY_SALT`` is the secret key of the de-identified registry export (pseudonyms, date shifts).
``VERTEBRO_TRUSTED_PROXIES`` lists the reverse proxies whose forwarded client address and scheme are believed.
``VERTEBRO_CLINIC_NAME``, ``_PHONE``, ``_SITE``, ``_ADDRESS``, ``_HOURS`` and ``_OUT_OF_HOURS`` are how patients
reach the team (defaults: a demo clinic with numbers reserved for drama; decision 0026); once the admin saves the
clinic settings page, the stored values replace these and ``VERTEBRO_TIMEZONE`` (decision 0035).
``VERTEBRO_CLINIC_TEAM_EMAIL`` is where the team is told that a patient's message waits (decision 0038; unset:
no such e-mail), a clinic setting like the others.
``VERTEBRO_TIMEZONE`` is the clinic's time zone (default Europe/London): hold, fasting and restart times are in it.
``VERTEBRO_JOBS`` chooses where background jobs run (``auto``: a ``vertebro worker`` on PostgreSQL, the server
process on SQLite); ``VERTEBRO_METRICS_TOKEN`` lets a Prometheus server read ``/metrics``.
``VERTEBRO_SMART_EHRS`` (a JSON list of ``{"iss", "client_id", "identifier_system"}``) are the EHRs that may
launch vertebro as a SMART app (decision 0030).
``VERTEBRO_MAX_BODY_BYTES``, ``VERTEBRO_MAX_FHIR_BODY_BYTES`` and ``VERTEBRO_MAX_JSON_DEPTH`` limit request bodies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vertebro.clinical.clinic import (
    DEMO_ADDRESS,
    DEMO_HOURS,
    DEMO_NAME,
    DEMO_OUT_OF_HOURS,
    DEMO_PHONE,
    DEMO_SITE,
    Clinic,
    plausible_email,
)
from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of
from vertebro.clinical.policy import ClinicPolicy, DoacProtocol, IndicationProfileId

DEFAULT_DATABASE_URL = "sqlite:///var/vertebro.db"


class SmartEhr(BaseModel):
    """An EHR allowed to launch vertebro as a SMART app (EHR launch; decision 0030).

    ``iss`` is the EHR's FHIR base URL exactly as its launch sends it; ``client_id`` is vertebro's client id
    registered at that EHR (a public client: PKCE S256, no secret); ``identifier_system`` is the system of the
    EHR Patient identifier that vertebro's patients carry (the MRN): the launched patient is matched by it alone.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    iss: str = Field(min_length=8, max_length=500, pattern=r"^https?://")
    client_id: str = Field(min_length=1, max_length=200)
    identifier_system: str = Field(min_length=1, max_length=255)


class Settings(BaseSettings):
    """Process-wide settings; unknown ``VERTEBRO_*`` variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="VERTEBRO_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    default_profile: IndicationProfileId = "acr"
    doac_protocol: DoacProtocol = "asra"
    secure_cookies: bool = True
    db_pool_size: int = 3  # per server worker: also how many requests it runs at once (decision 0013)
    db_max_overflow: int = 0
    rooms: tuple[str, ...] = ("Room 1", "Room 2")
    recovery_bays: int = 4  # staffed monitoring bays (the scheduler's recovery area)
    cds_jwks: Path | None = None  # JWKS (JSON file) of the EHRs allowed to call /cds-services; None: no JWT needed
    cds_issuers: tuple[str, ...] = ()  # when set, the only JWT issuers /cds-services accepts
    cds_allowed_origins: tuple[str, ...] = ()  # browser EHR origins that may call /cds-services (CORS, a JSON list)
    demo_mode: bool = False  # the portal shows activation links on screen; /outbox shows what would be sent
    portal_url: str = "http://127.0.0.1:8000"  # the address patients reach the portal at (links in messages)
    questionnaire_dir: Path | None = None  # licensed ODI/RDQ item files (odi.yaml, rdq.yaml); see decision 0009
    # Who patients reach and where they go (decision 0026): every patient page, message and document shows these.
    clinic_name: str = DEMO_NAME
    clinic_phone: str | None = DEMO_PHONE
    clinic_site: str = DEMO_SITE
    clinic_address: str = DEMO_ADDRESS
    clinic_hours: str = DEMO_HOURS
    clinic_out_of_hours: str | None = DEMO_OUT_OF_HOURS
    clinic_team_email: str | None = None  # told "a patient message is waiting" (no name, no content); decision 0038
    smtp_host: str | None = None  # the outbox sends e-mail through this server; unset: messages wait in the queue
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "vertebro@localhost"
    export_dir: Path = Path("var/exports")  # FHIR $export files, one folder per job
    registry_salt: str | None = None  # secret key of the registry export's pseudonyms and date shifts
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses or CIDRs);
    # empty: none, the client address is the connection's (decision 0020).
    trusted_proxies: str = ""
    timezone: str = DEFAULT_TIME_ZONE  # the clinic's time zone: every hold, fasting and restart time is in it

    @field_validator("clinic_team_email")
    @classmethod
    def _team_address(cls, value: str | None) -> str | None:
        if value and not plausible_email(value.strip()):
            raise ValueError(f"{value!r} is not an e-mail address such as team@hospital.example")
        return value.strip() if value else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)  # raises ValueError naming the unknown zone
        return value

    jobs: Literal["auto", "in-process", "worker"] = "auto"  # auto: a `vertebro worker` on PostgreSQL (decision 0022)
    worker_heartbeat_seconds: float = 10.0  # how often a worker says it is alive
    worker_stalled_after_seconds: float = 30.0  # a worker silent this long is dead: its running jobs are retried
    metrics_token: str | None = None  # bearer token for /metrics (besides admins and this machine); decision 0022
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # a request body larger is refused (413); decision 0021
    max_fhir_body_bytes: int = Field(default=16_777_216, ge=1024)  # the same for POST /fhir (transaction, batch)
    max_json_depth: int = Field(default=64, ge=8, le=512)  # JSON nested deeper is refused (400) before parsing
    smart_ehrs: tuple[SmartEhr, ...] = ()  # EHRs that may launch vertebro (SMART EHR launch), a JSON list

    def policy(self) -> ClinicPolicy:
        """Return the clinic policy with the configured choices and default thresholds."""
        return ClinicPolicy(
            default_profile=self.default_profile,
            doac_protocol=self.doac_protocol,
            time_zone=self.timezone,
            clinic=self.clinic(),
        )

    def clinic(self) -> Clinic:
        """Return the clinic as patients reach it (contact details, site, time zone)."""
        return Clinic(
            name=self.clinic_name,
            phone=self.clinic_phone,
            site=self.clinic_site,
            address=self.clinic_address,
            opening_hours=self.clinic_hours,
            out_of_hours=self.clinic_out_of_hours,
            time_zone=self.timezone,
            portal_url=self.portal_url,
            team_email=self.clinic_team_email or None,
            sender=self.smtp_from,
        )
