"""TLS on the DICOM port (optional): dcmtk's ``findscu`` queries the worklist over TLS with certificates made here;
with a CA configured a client without a certificate signed by it is refused; a plain connection to the TLS port fails
cleanly (the client gets an error, the server logs it and keeps serving); incomplete settings are refused by name."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError
from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pynetdicom.transport import ThreadedAssociationServer
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.dicom.conftest import MODALITY, Booked, free_port
from tests.integration.dicom.test_worklist import findscu
from vertebro.dicom import server
from vertebro.dicom.settings import DicomSettings


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path  # signed by another CA
    stranger_key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _certificate(
    common: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(issuer[0] if issuer else _name(common))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False).add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA with a server and a client certificate, and a client certificate of another CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key = _certificate("Vertebro test CA", None, None)
    ca_path, _ = _write(folder, "ca", ca_cert, ca_key)
    issuer = (ca_cert.subject, ca_key)
    server_cert, server_key = _write(
        folder, "server", *_certificate("VERTEBRO", issuer, ExtendedKeyUsageOID.SERVER_AUTH)
    )
    client_cert, client_key = _write(folder, "client", *_certificate(MODALITY, issuer, ExtendedKeyUsageOID.CLIENT_AUTH))
    other_cert, other_key = _certificate("Another CA", None, None)
    stranger = _certificate(MODALITY, (other_cert.subject, other_key), ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger_cert, stranger_key = _write(folder, "stranger", *stranger)
    return Pki(ca_path, server_cert, server_key, client_cert, client_key, stranger_cert, stranger_key)


def _serving(session_factory: sessionmaker[Session], settings: DicomSettings) -> Iterator[DicomSettings]:
    running = server.start(session_factory, settings)
    assert isinstance(running, ThreadedAssociationServer)
    try:
        yield settings
    finally:
        running.shutdown()


def _settings(pki: Pki, *, ca: bool) -> DicomSettings:
    return DicomSettings(
        host="127.0.0.1",
        port=free_port(),
        peers=MODALITY,
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        tls_ca=str(pki.ca) if ca else "",
    )


@pytest.fixture
def tls_scp(session_factory: sessionmaker[Session], pki: Pki) -> Iterator[DicomSettings]:
    yield from _serving(session_factory, _settings(pki, ca=False))


@pytest.fixture
def mutual_scp(session_factory: sessionmaker[Session], pki: Pki) -> Iterator[DicomSettings]:
    yield from _serving(session_factory, _settings(pki, ca=True))


def _tls_findscu(settings: DicomSettings, folder: Path, pki: Pki, cert: Path, key: Path) -> tuple[int, int, str]:
    """findscu over TLS (dcmtk's +tls with our client key and certificate, the test CA to check the server)."""
    tls = ["-d", "+tls", str(key), str(cert), "-pw", "+cf", str(pki.ca)]  # -d: the TLS error in a failure's output
    responses, run = findscu(settings, folder, "PatientID=MRN-TLS-*", extra=tls)
    return run.returncode, len(responses), run.stdout + run.stderr


def test_findscu_queries_the_worklist_over_tls(
    tls_scp: DicomSettings, book: Callable[..., Booked], pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    book("MRN-TLS-1")
    code, found, output = _tls_findscu(tls_scp, tmp_path / "tls", pki, pki.client_cert, pki.client_key)
    assert code == 0, output
    assert found == 1
    # a plain (non-TLS) query of the TLS port fails cleanly: an error for the client, a log line, the port still up
    with caplog.at_level(logging.WARNING, logger="vertebro.dicom"):
        plain, run = findscu(tls_scp, tmp_path / "plain", "PatientID=MRN-TLS-*")
    assert run.returncode != 0
    assert plain == []
    # the line is written by the server's thread, which may finish after findscu has exited
    deadline = time.monotonic() + 10
    while not any("TLS handshake with 127.0.0.1" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.05)
    code, found, output = _tls_findscu(tls_scp, tmp_path / "again", pki, pki.client_cert, pki.client_key)
    assert (code, found) == (0, 1), output


def test_with_a_ca_only_clients_with_its_certificates_get_in(
    mutual_scp: DicomSettings, book: Callable[..., Booked], pki: Pki, tmp_path: Path
) -> None:
    book("MRN-TLS-2")
    code, found, output = _tls_findscu(mutual_scp, tmp_path / "ours", pki, pki.client_cert, pki.client_key)
    assert (code, found) == (0, 1), output
    code, found, output = _tls_findscu(mutual_scp, tmp_path / "theirs", pki, pki.stranger_cert, pki.stranger_key)
    assert code != 0, output
    assert found == 0
    # pynetdicom as a TLS client: with our client certificate it gets in, without any it never does
    assert _echo(mutual_scp, pki, with_certificate=True)
    assert not _echo(mutual_scp, pki, with_certificate=False)


def _echo(settings: DicomSettings, pki: Pki, *, with_certificate: bool) -> bool:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca))
    if with_certificate:
        context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    ae = AE(ae_title=MODALITY)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.network_timeout = 5
    assoc = ae.associate(settings.host, settings.port, ae_title=settings.ae_title, tls_args=(context, "localhost"))
    if not assoc.is_established:
        return False
    status = assoc.send_c_echo()
    assoc.release()
    return bool(status and status.Status == 0)


def test_incomplete_tls_settings_are_refused_by_name(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="VERTEBRO_DICOM_TLS_KEY is required"):
        DicomSettings(peers=MODALITY, tls_cert=str(pki.server_cert))
    with pytest.raises(ValidationError, match="VERTEBRO_DICOM_TLS_CERT is required"):
        DicomSettings(peers=MODALITY, tls_key=str(pki.server_key))
    with pytest.raises(ValidationError, match="VERTEBRO_DICOM_TLS_CA needs"):
        DicomSettings(peers=MODALITY, tls_ca=str(pki.ca))
    missing = DicomSettings(peers=MODALITY, tls_cert=str(tmp_path / "none.crt"), tls_key=str(pki.server_key))
    with pytest.raises(ValueError, match="VERTEBRO_DICOM_TLS_CERT / VERTEBRO_DICOM_TLS_KEY: cannot load"):
        server.tls_context(missing)
    bad_ca = _settings(pki, ca=False).model_copy(update={"tls_ca": str(tmp_path / "none.pem")})
    with pytest.raises(ValueError, match="VERTEBRO_DICOM_TLS_CA: cannot load"):
        server.tls_context(bad_ca)
    assert server.tls_context(DicomSettings(peers=MODALITY)) is None
