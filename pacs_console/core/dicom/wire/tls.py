"""DICOM over TLS: client configuration, SSL contexts (requestor and acceptor) and a timed
handshake for diagnosis."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from pacs_console.core.models import Plain

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:  # ssl loads only for a TLS node (a plain echo or find never needs it)
    import ssl


@dataclass(frozen=True)
class TlsConfig(Plain):
    """TLS for one node: a CA to trust, an optional client certificate and key, a host name."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""  # the name the certificate must carry; the node's host when empty
    verify: bool = True


def client_context(cfg: TlsConfig) -> ssl.SSLContext:
    """An SSL context for a requestor: TLS 1.2+, the node's CA (or the system store)."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                         cafile=cfg.ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not cfg.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cfg.cert_file:
        context.load_cert_chain(cfg.cert_file, cfg.key_file or None)
    return context


def server_context(cert_file: str, key_file: str = "", ca_file: str = "") -> ssl.SSLContext:
    """An SSL context for the console as an acceptor (a listener the modality calls): TLS 1.2+,
    the console's certificate and key; with ``ca_file``, a caller must present a certificate
    signed by that CA (mutual TLS). OSError/ssl.SSLError when a file cannot be used."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file or None)
    context.verify_mode = ssl.CERT_REQUIRED if ca_file else ssl.CERT_NONE
    return context


def server_name(cfg: TlsConfig, host: str) -> str:
    return cfg.server_name or host


@dataclass(frozen=True)
class Handshake(Plain):
    """What a successful TLS handshake showed: timings, protocol, cipher, peer certificate."""

    connect_ms: float
    handshake_ms: float
    protocol: str
    cipher: str
    peer_subject: str
    peer_issuer: str
    not_after: str


def _name(parts) -> str:
    return ", ".join(f"{k}={v}" for rdn in parts or () for k, v in rdn)


def handshake(cfg: TlsConfig, host: str, port: int, timeout: float) -> Handshake:
    """Connect and run the TLS handshake only; raises OSError/ssl.SSLError for diagnosis."""
    context = client_context(cfg)
    start = time.perf_counter()
    raw = socket.create_connection((host, port), timeout=timeout)
    connect_ms = (time.perf_counter() - start) * 1000
    try:
        t0 = time.perf_counter()
        with context.wrap_socket(raw, server_hostname=server_name(cfg, host)) as tls:
            handshake_ms = (time.perf_counter() - t0) * 1000
            cert = tls.getpeercert() or {}
            cipher = tls.cipher()
            return Handshake(connect_ms, handshake_ms, tls.version() or "",
                             cipher[0] if cipher else "", _name(cert.get("subject")),
                             _name(cert.get("issuer")), str(cert.get("notAfter", "")))
    finally:
        raw.close()
