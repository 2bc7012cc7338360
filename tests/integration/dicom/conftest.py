"""A booked procedure in the test database and the DICOM services listening on a free local port."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pynetdicom.ae
import pytest
from pynetdicom.transport import ThreadedAssociationServer
from sqlalchemy.orm import Session, sessionmaker

from vertebro.clinical.facts import Case
from vertebro.dicom import matching, server
from vertebro.dicom.settings import DicomSettings
from vertebro.dicom.transport import PollingAssociationSocket
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking
from vertebro.store.service import RecordedCase

MODALITY = "CARM1"
STRANGER = "STRANGER"
# a booking 09:00 local time on 1 December 2026 in Room 1
BOOKED_AT = dt.datetime(2026, 12, 1, 9, 0).astimezone()


@pytest.fixture(autouse=True)
def modality_sockets_read_with_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pynetdicom client that plays the modality here runs in the test process, which may hold more than a
    thousand descriptors late in a long run; pynetdicom's own socket asks ``select`` and fails there (a real
    modality is its own process). The client side uses the server's polling socket (vertebro.dicom.transport)."""
    monkeypatch.setattr(pynetdicom.ae, "AssociationSocket", PollingAssociationSocket)


@dataclass(frozen=True)
class Booked:
    case_id: int
    patient_id: int
    booking_id: int
    identifier: str
    accession: str


@pytest.fixture
def book(
    session_factory: sessionmaker[Session],
    make_case: Callable[..., Case],
    record: Callable[..., RecordedCase],
) -> Callable[..., Booked]:
    """Return ``book(identifier, name=..., starts_at=..., room=..., levels=...)``: a recorded case with a booking."""

    def run(
        identifier: str = "MRN-0001",
        *,
        name: str = "Ada Example",
        starts_at: dt.datetime = BOOKED_AT,
        room: str = "Room 1",
        levels: tuple[str, ...] = ("T12", "L1"),
        status: str = "booked",
    ) -> Booked:
        with UnitOfWork(session_factory) as uow:
            recorded = record(uow, make_case(identifier, name=name, levels=levels))
            booking = Booking(
                case_id=recorded.case_id,
                room=room,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=90),
                status=status,
                booked_by="c.coordinator",
            )
            uow.session.add(booking)
            uow.session.flush()
            patient_id = recorded.patient_id
            booking_id = booking.id
            uow.commit()
        return Booked(recorded.case_id, patient_id, booking_id, identifier, matching.accession_number(booking_id))

    return run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def settings() -> DicomSettings:
    return DicomSettings(ae_title="VERTEBRO", host="127.0.0.1", port=free_port(), peers=f"{MODALITY},CT1")


@pytest.fixture
def scp(session_factory: sessionmaker[Session], settings: DicomSettings) -> Iterator[DicomSettings]:
    """The DICOM services listening on a free port, stopped after the test."""
    running = server.start(session_factory, settings)
    assert isinstance(running, ThreadedAssociationServer)
    try:
        yield settings
    finally:
        running.shutdown()
