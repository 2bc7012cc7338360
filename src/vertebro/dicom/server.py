"""The DICOM listener: Modality Worklist (C-FIND), MPPS (N-CREATE/N-SET), dose reports (C-STORE), C-ECHO.

One pynetdicom application entity on one port. Only the configured peers may associate (others are rejected at
association and logged). Each request runs in its own unit of work: committed when it succeeds, rolled back
when it is refused, so a refused request changes nothing already stored.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Iterator
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    EnhancedXRayRadiationDoseSRStorage,
    ModalityPerformedProcedureStep,
    ModalityWorklistInformationFind,
    Verification,
    XRayRadiationDoseSRStorage,
)
from pynetdicom.transport import ThreadedAssociationServer
from sqlalchemy.orm import Session, sessionmaker

from vertebro.dicom import service
from vertebro.dicom.settings import DicomSettings
from vertebro.dicom.transport import PollingRequestHandler
from vertebro.store.db import UnitOfWork

log = logging.getLogger("vertebro.dicom")

SUCCESS = 0x0000
PENDING = 0xFF00
NOT_AUTHORIZED = 0x0124


def _peer(event: Any) -> tuple[str, str]:
    requestor = event.assoc.requestor
    return str(requestor.ae_title).strip(), f"dicom:{requestor.address}:{requestor.port}"


class DicomServices:
    """The handlers of the four services, bound to a session factory and the settings."""

    def __init__(self, session_factory: sessionmaker[Session], settings: DicomSettings) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.peers = settings.allowed_peers()

    def _allowed(self, calling_ae: str) -> bool:
        if calling_ae in self.peers:
            return True
        log.warning("refused a request from AE title %r: not a configured peer", calling_ae)
        return False

    def on_requested(self, event: Any) -> None:
        """Log every association request that the calling AE title check will reject."""
        _, source = _peer(event)
        primitive = event.assoc.requestor.primitive
        calling_ae = str(getattr(primitive, "calling_ae_title", "") or "").strip()
        if calling_ae not in self.peers:
            log.warning("association from %s rejected: AE title %r is not a configured peer", source, calling_ae)

    def on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        """C-FIND on the Modality Worklist: one pending response per matching scheduled procedure step."""
        calling_ae, source = _peer(event)
        if not self._allowed(calling_ae):
            yield NOT_AUTHORIZED, None
            return
        with UnitOfWork(self.session_factory) as uow:
            try:
                items = service.worklist(
                    uow, event.identifier, calling_ae=calling_ae, settings=self.settings, source=source
                )
                uow.commit()
            except service.Refusal as refusal:
                uow.rollback()
                log.warning("worklist query from %s refused (0x%04X): %s", calling_ae, refusal.status, refusal.reason)
                yield refusal.status, None
                return
            except Exception:
                uow.rollback()
                log.exception("worklist query from %s failed", calling_ae)
                yield service.UNABLE_TO_PROCESS, None
                return
        for item in items:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield PENDING, item
        yield SUCCESS, None

    def _run(self, event: Any, what: str, action: Any, failure: int) -> tuple[int, Any]:
        calling_ae, source = _peer(event)
        if not self._allowed(calling_ae):
            return NOT_AUTHORIZED, None
        with UnitOfWork(self.session_factory) as uow:
            try:
                result = action(uow, calling_ae, source)
                uow.commit()
            except service.Refusal as refusal:
                uow.rollback()
                log.warning("%s from %s refused (0x%04X): %s", what, calling_ae, refusal.status, refusal.reason)
                return refusal.status, None
            except Exception:
                uow.rollback()
                log.exception("%s from %s failed", what, calling_ae)
                return failure, None
        return SUCCESS, result

    def on_n_create(self, event: Any) -> tuple[int, Dataset | None]:
        """MPPS N-CREATE: the modality started a scheduled step."""
        uid = str(event.request.AffectedSOPInstanceUID or "")
        attributes: Dataset = event.attribute_list

        def act(uow: UnitOfWork, calling_ae: str, source: str) -> Dataset:
            service.create_step(
                uow,
                attributes,
                sop_instance_uid=uid,
                calling_ae=calling_ae,
                source=source,
                zone_name=self.settings.time_zone,
            )
            return attributes

        status, result = self._run(event, f"MPPS N-CREATE {uid}", act, service.PROCESSING_FAILURE)
        return status, result

    def on_n_set(self, event: Any) -> tuple[int, Dataset | None]:
        """MPPS N-SET: times, dose, completed or discontinued."""
        uid = str(event.request.RequestedSOPInstanceUID or "")
        modification: Dataset = event.modification_list

        def act(uow: UnitOfWork, calling_ae: str, source: str) -> Dataset:
            service.update_step(
                uow, uid, modification, calling_ae=calling_ae, source=source, zone_name=self.settings.time_zone
            )
            return modification

        status, result = self._run(event, f"MPPS N-SET {uid}", act, service.PROCESSING_FAILURE)
        return status, result

    def on_store(self, event: Any) -> int:
        """C-STORE of a Radiation Dose SR."""
        try:
            dataset = event.dataset
            dataset.file_meta = event.file_meta
        except Exception as error:  # an undecodable dataset
            log.warning("dose report could not be decoded: %s", error)
            return service.UNABLE_TO_PROCESS

        def act(uow: UnitOfWork, calling_ae: str, source: str) -> None:
            service.store_dose_report(uow, dataset, calling_ae=calling_ae, source=source)

        status, _ = self._run(event, "dose report", act, service.UNABLE_TO_PROCESS)
        return status

    def on_echo(self, event: Any) -> int:
        """C-ECHO: the connection works."""
        return SUCCESS


def application_entity(settings: DicomSettings) -> AE:
    """The application entity: our AE title, the supported services, only the configured peers."""
    ae = AE(ae_title=settings.ae_title)
    for context in (
        Verification,
        ModalityWorklistInformationFind,
        ModalityPerformedProcedureStep,
        XRayRadiationDoseSRStorage,
        EnhancedXRayRadiationDoseSRStorage,
    ):
        ae.add_supported_context(context)
    ae.require_called_aet = True  # only associations addressed to our AE title
    ae.require_calling_aet = sorted(settings.allowed_peers())
    return ae


HANDSHAKE_SECONDS = 10.0


class _ServerTls(ssl.SSLContext):
    """The server's TLS context: a handshake that fails (a plain DICOM client, no or a foreign client certificate)
    closes that connection with a log line naming the caller, and a silent caller cannot hold the port's accept
    loop (pynetdicom shakes hands there) longer than :data:`HANDSHAKE_SECONDS`."""

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        """Shake hands within the time limit; on failure log the caller, close the socket and re-raise."""
        try:
            host, port = sock.getpeername()[:2]
            caller = f"{host}:{port}"
        except OSError:
            caller = "unknown address"
        before = sock.gettimeout()
        sock.settimeout(HANDSHAKE_SECONDS)
        try:
            wrapped = super().wrap_socket(sock, *args, **kwargs)
        except OSError as error:  # ssl.SSLError and timeouts are OSErrors
            log.warning("TLS handshake with %s refused: %s", caller, error)
            sock.close()
            raise
        wrapped.settimeout(before)
        return wrapped


def tls_context(settings: DicomSettings) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2 or later), or None without a certificate. With a CA bundle every client
    must present a certificate signed by it. An unreadable file is refused with the setting's name."""
    if not settings.tls:
        return None
    context = _ServerTls(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=settings.tls_cert, keyfile=settings.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(
            f"VERTEBRO_DICOM_TLS_CERT / VERTEBRO_DICOM_TLS_KEY: cannot load the certificate and key: {error}"
        ) from error
    if settings.tls_ca:
        try:
            context.load_verify_locations(cafile=settings.tls_ca)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"VERTEBRO_DICOM_TLS_CA: cannot load the CA bundle: {error}") from error
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def start(
    session_factory: sessionmaker[Session], settings: DicomSettings, *, block: bool = False
) -> ThreadedAssociationServer | None:
    """Start listening on the configured host and port; returns the server (stop it with ``shutdown()``) unless
    ``block``. Refuses to start with no configured peer (nobody could associate)."""
    if not settings.allowed_peers():
        raise ValueError("no DICOM peer is configured: set VERTEBRO_DICOM_PEERS to the modalities' AE titles")
    services = DicomServices(session_factory, settings)
    handlers: list[Any] = [
        (evt.EVT_REQUESTED, services.on_requested),
        (evt.EVT_C_FIND, services.on_find),
        (evt.EVT_N_CREATE, services.on_n_create),
        (evt.EVT_N_SET, services.on_n_set),
        (evt.EVT_C_STORE, services.on_store),
        (evt.EVT_C_ECHO, services.on_echo),
    ]
    ae = application_entity(settings)
    context = tls_context(settings)
    security = "TLS, client certificates required" if settings.tls_ca else "TLS" if context else "no TLS"
    log.info("DICOM services %s listening on %s:%d (%s)", settings.ae_title, settings.host, settings.port, security)
    server: ThreadedAssociationServer = ae.make_server(
        (settings.host, settings.port),
        ssl_context=context,
        evt_handlers=handlers,
        server_class=ThreadedAssociationServer,
        request_handler=PollingRequestHandler,  # no select(): any descriptor number (transport.py)
    )
    if block:
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return None
    ae._servers.append(server)  # as pynetdicom's start_server does: its shutdown() removes it from there
    threading.Thread(target=server.serve_forever, name=f"dicom-{settings.port}", daemon=True).start()
    return server
