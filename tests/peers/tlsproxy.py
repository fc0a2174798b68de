"""A front for a peer, as a hospital puts one in front of a server: a TLS-terminating reverse
proxy (HTTPS in front of Orthanc's plain REST port, as nginx or stunnel would be) or a plain TCP
relay (DICOM TLS passed through to Orthanc). Listens on one loopback address and an
OS-assigned port; the peer itself listens on another address nobody is pointed at."""

from __future__ import annotations

import socket
import ssl
import threading

from tests.loopback import LoopbackListener


class TcpFront(LoopbackListener):
    """Accepts on ``(host, 0)`` and relays every connection to ``target``; with ``cert``
    (cert.pem, key.pem) the client side is TLS and the target side plain (TLS termination)."""

    def __init__(self, host: str, target: tuple[str, int],
                 cert: tuple[str, str] | None = None) -> None:
        self.host, self.target = host, target
        self.context: ssl.SSLContext | None = None
        if cert is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.minimum_version = ssl.TLSVersion.TLSv1_2
            self.context.load_cert_chain(*cert)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(host=host)

    def start(self) -> TcpFront:
        """Already accepting (since construction); kept so a front reads ``TcpFront(...).start()``."""
        return self

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = None
        try:
            conn.settimeout(10)
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            conn.settimeout(None)
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except (OSError, ssl.SSLError):
            conn.close()
            if upstream is not None:
                upstream.close()
            return
        with self._lock:
            self._open.update((conn, upstream))
        threading.Thread(target=self._pump, args=(upstream, conn), daemon=True).start()
        self._pump(conn, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
            with self._lock:
                self._open.discard(s)

    def stop(self) -> None:
        self.close()
        with self._lock:
            for s in list(self._open):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._open.clear()
