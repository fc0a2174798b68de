"""A small loopback lab for discovery tests and benchmarks: real peers, one address each."""

from __future__ import annotations

import http.server
import socket
import threading
from dataclasses import dataclass, field

from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS
from tests.httpd import ReplyHandler
from tests.peers.dcmtk import DcmqrscpPeer, StorescpPeer
from tests.peers.net import addr
from tests.peers.orthanc import OrthancPeer
from tests.peers.plugin import KNOWN_PEERS

VERIFICATION = "1.2.840.10008.1.1"
# The sweep's own default ports (the lab's addresses are this session's, so no collision):
# Orthanc's DICOM and web ports, and the port DCMTK peers are commonly found on.
ORTHANC_PORT = DICOM_PORTS[2]
ORTHANC_WEB_PORT = WEB_PORTS[0]
DCMTK_PORT = DICOM_PORTS[1]


class QuietHandler(ReplyHandler):
    """A plain web server: a page at /, 404 elsewhere, nothing DICOM about it."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path == "/":
            self.reply(b"<html>intranet</html>", "text/html")
        else:
            self.reply(b"not found", "text/html", status=404)


def http_server(host: str, port: int) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((host, port), QuietHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def silent_listener(host: str, port: int) -> socket.socket:
    """Accepts TCP (the kernel completes the handshake) and never reads or answers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    return sock


def pynetdicom_scp(ae_title: str, host: str, port: int, *, check_called: bool,
                   version: str | None = None):
    ae = make_ae(ae_title, supported=[VERIFICATION])
    ae.require_called_aet = check_called
    if version:
        ae.implementation_version_name = version
    return ae.serve((host, port))


@dataclass
class Lab:
    """Every kind of listener a sweep must classify, each on its own address of the session net."""

    base: int = 41  # addresses base .. base+6
    with_silent: bool = True  # benchmarks leave it out: it measures timeouts, not speed
    peers: list = field(default_factory=list)
    servers: list = field(default_factory=list)
    sockets: list = field(default_factory=list)

    def addr(self, offset: int) -> str:
        return addr(self.base + offset)

    @property
    def targets(self) -> str:
        return f"{self.addr(0)}-{self.base + 6}"

    def start(self) -> Lab:
        try:
            self.orthanc = OrthancPeer("ORTHANC", self.addr(0), ORTHANC_PORT, ORTHANC_WEB_PORT,
                                       modalities=KNOWN_PEERS)
            self.dcmqrscp = DcmqrscpPeer("DCMQRSCP", self.addr(1), DCMTK_PORT, hosts=KNOWN_PEERS)
            self.storescp = StorescpPeer("STORESCP", self.addr(2), DCMTK_PORT)
            for peer in (self.orthanc, self.dcmqrscp, self.storescp):
                peer.start()
                self.peers.append(peer)
            # pynetdicom: one SCP checking the called AE (a title from the dictionary), one not
            self.servers.append(pynetdicom_scp("CT_SCANNER", self.addr(3), 2345, check_called=True))
            self.servers.append(pynetdicom_scp("OPENSCP", self.addr(4), 2761, check_called=False))
            self.web = [http_server(self.addr(5), DCMTK_PORT), http_server(self.addr(5), 8080)]
            if self.with_silent:
                self.sockets.append(silent_listener(self.addr(6), DCMTK_PORT))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()
        for server in self.servers:
            server.shutdown()
        for web in getattr(self, "web", []):
            web.shutdown()
            web.server_close()
        for sock in self.sockets:
            sock.close()
        self.peers, self.servers, self.sockets, self.web = [], [], [], []
