"""The DICOM services' settings, read from ``VERTEBRO_DICOM_*`` environment variables.

``VERTEBRO_DICOM_AE_TITLE`` is vertebro's own AE title, ``VERTEBRO_DICOM_PORT`` the one port of the three services,
``VERTEBRO_DICOM_PEERS`` the AE titles allowed to associate (comma-separated; nobody else is accepted),
``VERTEBRO_DICOM_STATIONS`` maps rooms to the station AE titles of their modalities (``Room 1=CARM1,Room 2=CT1``;
an unmapped room's station is its name in capitals without spaces) and ``VERTEBRO_DICOM_MODALITIES`` their
modality (``Room 2=CT``; default RF, fluoroscopy).

TLS is optional: ``VERTEBRO_DICOM_TLS_CERT`` and ``VERTEBRO_DICOM_TLS_KEY`` (PEM files) make the one port speak TLS
only; with ``VERTEBRO_DICOM_TLS_CA`` (PEM bundle) every modality must also present a certificate signed by it.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vertebro.clinical.clock import DEFAULT_TIME_ZONE, zone_of

MODALITIES = ("RF", "XA", "CT")


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"expected 'room=value' pairs separated by commas, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


class DicomSettings(BaseSettings):
    """Where and as whom the DICOM services listen, and whom they accept."""

    model_config = SettingsConfigDict(env_prefix="VERTEBRO_DICOM_", extra="ignore", frozen=True, populate_by_name=True)

    ae_title: str = "VERTEBRO"
    host: str = "127.0.0.1"
    port: int = 11112
    peers: str = ""  # comma-separated AE titles allowed to associate; empty: nobody
    stations: str = ""  # room=AE title pairs
    modalities: str = ""  # room=RF|XA|CT pairs
    tls_cert: str = ""  # PEM certificate (chain) of our AE; with tls_key: the port speaks TLS only
    tls_key: str = ""  # PEM private key of tls_cert
    tls_ca: str = ""  # PEM bundle: client certificates required and checked against it
    # the clinic's zone (VERTEBRO_TIMEZONE, as the app's): DICOM dates and times are local times without an offset
    time_zone: str = Field(default=DEFAULT_TIME_ZONE, validation_alias="VERTEBRO_TIMEZONE")

    @field_validator("ae_title")
    @classmethod
    def _ae_title(cls, value: str) -> str:
        value = value.strip()
        if not 0 < len(value) <= 16 or "\\" in value:
            raise ValueError("an AE title has 1 to 16 characters and no backslash")
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        zone_of(value)  # ValueError naming the unknown zone
        return value

    @field_validator("stations", "modalities")
    @classmethod
    def _room_pairs(cls, value: str) -> str:
        _pairs(value)
        return value

    @model_validator(mode="after")
    def _tls_complete(self) -> DicomSettings:
        if bool(self.tls_cert) != bool(self.tls_key):
            missing = "VERTEBRO_DICOM_TLS_KEY" if self.tls_cert else "VERTEBRO_DICOM_TLS_CERT"
            raise ValueError(f"{missing} is required: TLS needs both a certificate and its private key")
        if self.tls_ca and not self.tls_cert:
            raise ValueError("VERTEBRO_DICOM_TLS_CA needs VERTEBRO_DICOM_TLS_CERT and VERTEBRO_DICOM_TLS_KEY")
        return self

    @property
    def tls(self) -> bool:
        """True when the port speaks TLS."""
        return bool(self.tls_cert)

    def allowed_peers(self) -> frozenset[str]:
        """The calling AE titles accepted (exactly as configured, spaces trimmed)."""
        return frozenset(p.strip() for p in self.peers.split(",") if p.strip())

    def station_of(self, room: str) -> str | None:
        """The configured station AE title of a room, or None."""
        return _pairs(self.stations).get(room)

    def modality_of(self, room: str) -> str:
        """The modality of a room's scheduled steps: RF (fluoroscopy) unless configured."""
        value = _pairs(self.modalities).get(room, "RF").upper()
        return value if value in MODALITIES else "RF"
