"""The DICOM listener's transport: pynetdicom's, reading readiness with ``poll`` instead of ``select``.

pynetdicom (3.0.4) asks ``select.select`` whether an association's socket has data. ``select`` refuses file
descriptors above 1023 (FD_SETSIZE): in a process holding more than about a thousand open files or connections
(a busy server's database pool, log files, other associations) every new association's socket gets such a number,
``select`` raises, pynetdicom reads that as "connection closed" and aborts the association right after the peer's
A-ASSOCIATE-RQ. A modality would see every worklist query and dose report fail. ``poll`` has no such limit.
"""

from __future__ import annotations

import select
import ssl

from pynetdicom.association import Association
from pynetdicom.transport import AssociationSocket, RequestHandler


class PollingAssociationSocket(AssociationSocket):
    """An association socket whose readiness is read with ``poll`` (no limit on the descriptor's number)."""

    @property
    def ready(self) -> bool:
        """Return True if data can be read (or the peer closed, which the next read reports), as pynetdicom's."""
        if self.socket is None or self._is_connected is False:
            return False
        if isinstance(self.socket, ssl.SSLSocket) and self.socket.pending():
            return True  # decrypted data already buffered: the socket itself may show nothing to read
        poller = select.poll()
        try:
            poller.register(self.socket, select.POLLIN | select.POLLPRI)
            events = poller.poll(0)
        except (OSError, ValueError):
            self.event_queue.put("Evt17")  # transport connection closed, as pynetdicom does on a failed select
            return False
        return bool(events)


class PollingRequestHandler(RequestHandler):
    """pynetdicom's request handler, with each association on a :class:`PollingAssociationSocket`."""

    def _create_association(self) -> Association:
        assoc = super()._create_association()
        sock = assoc.dul.socket
        if sock is not None and type(sock) is AssociationSocket:
            # the socket pynetdicom made for this request: same state, only its readiness check differs
            sock.__class__ = PollingAssociationSocket
        return assoc
