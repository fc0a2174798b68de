"""The relay: listen for the modality, forward each association to the PACS byte for byte.

Two pump threads per association copy whatever arrives to the other side unchanged (chunks of
at most ``CHUNK`` bytes, so nothing bigger than one chunk and one PDU is ever held), feeding the
same bytes to the association's decoder and the session trace just before passing them on. Concurrency is bounded by
``max_associations`` (a further modality gets A-ASSOCIATE-RJ "local limit exceeded") and the
bytes per second of all associations together by ``rate``.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pacs_console.core.dicom.diagnosis import diagnose, diagnose_tls
from pacs_console.core.dicom.wire import pdu, tls
from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary
from pacs_console.core.streams import answer_and_close

CHUNK = 256 << 10


@dataclass
class RelayConfig:
    listen_host: str
    listen_port: int
    upstream_host: str
    upstream_port: int
    max_associations: int = 16
    rate: int = 0  # bytes per second over all associations; 0 = unlimited
    connect_timeout: float = 10.0
    idle_timeout: float = 600.0  # a silent association is cut after this long
    upstream_tls: tls.TlsConfig | None = None  # DICOM over TLS to the PACS
    listen_tls: tls.TlsConfig | None = None  # DICOM over TLS from the modality: the console's
    # cert_file/key_file, and ca_file to require modality certificates signed by that CA.
    # The relay decrypts, decodes and forwards the same PDU bytes (re-encrypted if upstream_tls).


def parse_target(text: str) -> tuple[str, int] | str:
    """(host, port) from HOST:PORT or [IPv6]:PORT, or why it is not one."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit():
        return f"{text!r} is not HOST:PORT"
    if not 1 <= int(port) <= 65535:
        return f"port {port} is outside 1-65535"
    return host, int(port)


def tls_to_pacs(enabled: bool, ca_file: str = "", cert_file: str = "", key_file: str = "",
                server_name: str = "") -> tls.TlsConfig | None:
    """``RelayConfig.upstream_tls`` as the CLI (--tls, --ca-file, --tls-cert, --tls-key,
    --server-name) and the Relay tab ask for it: TLS when enabled or a CA or client certificate
    is given, else None. The files are loaded now, so a missing or unreadable PEM raises
    OSError/ValueError (ssl.SSLError is an OSError) here, not once per association."""
    if not (enabled or ca_file or cert_file):
        return None
    secure = tls.TlsConfig(ca_file=ca_file, cert_file=cert_file, key_file=key_file,
                           server_name=server_name)
    tls.client_context(secure)
    return secure


class _Bucket:
    """A token bucket shared by every pump: ``take(n)`` sleeps until n bytes may pass."""

    def __init__(self, rate: int) -> None:
        self.rate, self.level, self.last = rate, float(rate), time.monotonic()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        if self.rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            self.level = min(float(self.rate), self.level + (now - self.last) * self.rate) - n
            self.last = now
            wait = -self.level / self.rate if self.level < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


class Relay:
    """``on_event(assoc_id, conversation)`` on every chunk decoded and once at the end (for
    live views, e.g. ``live.LiveFeed``) and
    ``on_end(assoc_id, summary)`` as each association ends; ``trace`` (a TraceWriter) gets
    every byte. Callbacks run on pump threads and must be quick; their failures are ignored."""

    def __init__(self, config: RelayConfig, *, trace=None,
                 on_end: Callable[[int, dict], None] | None = None,
                 on_event: Callable[[int, Conversation], None] | None = None) -> None:
        self.config, self.trace = config, trace
        self.on_end, self.on_event = on_end, on_event
        self.bucket = _Bucket(config.rate)
        self.slots = threading.BoundedSemaphore(max(1, config.max_associations))
        self.listener: socket.socket | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.live: dict[int, tuple[socket.socket, socket.socket | None]] = {}
        self.next_id = 0
        self.ended: list[dict] = []
        self.refused = 0
        self.thread: threading.Thread | None = None
        side = config.listen_tls
        self.listen_context = (None if side is None else  # a bad PEM raises here, not per call
                               tls.server_context(side.cert_file, side.key_file, side.ca_file))

    @property
    def address(self) -> tuple[str, int]:
        assert self.listener is not None, "relay not started"
        host, port = self.listener.getsockname()[:2]
        return host, port

    def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.config.listen_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.listen_host, self.config.listen_port))
            sock.listen(32)
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.5)
        self.listener = sock
        self.thread = threading.Thread(target=self._accept_loop, daemon=True, name="relay-accept")
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.listener is not None:
            self.listener.close()
        with self.lock:
            sockets = [s for pair in self.live.values() for s in pair if s is not None]
        for sock in sockets:
            shut(sock)
        if self.thread is not None:
            self.thread.join(timeout=5)
        deadline = time.monotonic() + 5
        while self.live and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- associations -------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                client, address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.slots.acquire(blocking=False):
                self.refused += 1
                threading.Thread(target=self._refuse, args=(client,), daemon=True).start()
                continue
            with self.lock:
                self.next_id += 1
                assoc_id = self.next_id
                self.live[assoc_id] = (client, None)
            threading.Thread(target=self._serve, args=(assoc_id, client, address), daemon=True,
                             name=f"relay-{assoc_id}").start()

    def _serve(self, assoc_id: int, client: socket.socket, address) -> None:
        cfg = self.config
        conv = Conversation(f"{address[0]}:{address[1]}", f"{cfg.upstream_host}:{cfg.upstream_port}")
        try:
            if self.listen_context is not None:
                client = self._accept_tls(assoc_id, client, conv)
                if client is None:
                    return
            try:
                upstream = socket.create_connection((cfg.upstream_host, cfg.upstream_port),
                                                    timeout=cfg.connect_timeout)
            except OSError as exc:
                conv.problems.append(diagnose.diagnose_socket_error(
                    exc, cfg.upstream_host, cfg.upstream_port, cfg.connect_timeout))
                conv.result = "PACS unreachable"
                shut(client)
                return
            if cfg.upstream_tls is not None:
                upstream = self._secure(upstream, conv)
                if upstream is None:
                    shut(client)
                    return
            with self.lock:
                self.live[assoc_id] = (client, upstream)
            for sock in (client, upstream):
                sock.settimeout(cfg.idle_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.trace is not None:
                self.trace.open(assoc_id, conv.client, conv.server)
            lock = threading.Lock()
            back = threading.Thread(target=self._pump, args=(assoc_id, upstream, client, AC, conv, lock),
                                    daemon=True, name=f"relay-{assoc_id}-back")
            back.start()
            self._pump(assoc_id, client, upstream, RQ, conv, lock)
            back.join()
            shut(client)
            shut(upstream)
        finally:
            self._finish(assoc_id, conv)

    def _secure(self, upstream: socket.socket, conv: Conversation):
        """The TLS handshake with the PACS; None (and the diagnosis kept) when it fails."""
        cfg, config = self.config, self.config.upstream_tls
        name = tls.server_name(config, cfg.upstream_host)
        try:
            secure = tls.client_context(config).wrap_socket(upstream, server_hostname=name)
            cipher = secure.cipher()
            conv.tls_event("PACS", secure.version() or "", cipher[0] if cipher else "")
            return secure
        except (OSError, ValueError) as exc:
            shut(upstream)
            conv.problems.append(diagnose_tls.diagnose_tls_error(
                exc, cfg.upstream_host, cfg.upstream_port, server_name=name,
                ca_file=config.ca_file, trust_action="give the PACS's CA certificate with --ca-file")
                if diagnose_tls.is_tls_error(exc) else diagnose.diagnose_socket_error(
                    exc, cfg.upstream_host, cfg.upstream_port, cfg.connect_timeout))
            conv.result = "PACS TLS failed"
            return None

    def _accept_tls(self, assoc_id: int, client: socket.socket, conv: Conversation):
        """The modality's TLS handshake, bounded by the connect timeout (a caller that never
        finishes it holds one slot that long); None, and the diagnosis kept, when it fails."""
        try:
            secure = self.listen_context.wrap_socket(client, server_side=True,
                                                     do_handshake_on_connect=False)
        except OSError as exc:
            conv.problems.append(diagnose_tls.diagnose_tls_accept_error(exc, conv.client))
            conv.result = "modality TLS failed"
            shut(client)
            return None
        with self.lock:
            self.live[assoc_id] = (secure, None)  # stop() can cut a handshake short
        try:
            secure.settimeout(self.config.connect_timeout)
            secure.do_handshake()
        except (OSError, ValueError) as exc:
            ca = self.config.listen_tls.ca_file if self.config.listen_tls else ""
            conv.problems.append(diagnose_tls.diagnose_tls_accept_error(exc, conv.client,
                                                                        ca_file=ca))
            conv.result = "modality TLS failed"
            shut(secure)
            return None
        cipher = secure.cipher()
        conv.tls_event("modality", secure.version() or "", cipher[0] if cipher else "")
        return secure

    def _refuse(self, client: socket.socket) -> None:
        """Over the limit: read the A-ASSOCIATE-RQ header, answer 'local limit exceeded', close
        (over TLS when the modality's side is TLS)."""
        try:
            client.settimeout(5)
            if self.listen_context is not None:
                client = self.listen_context.wrap_socket(client, server_side=True)
            client.recv(pdu.HEADER)
        except (OSError, ValueError):
            shut(client)
            return
        # The rest of the request is drained before the close, so the answer is not lost to a
        # reset (closing with unread input resets the connection).
        answer_and_close(client, pdu.associate_rj(2, 3, 2))

    def _pump(self, assoc_id: int, src: socket.socket, dst: socket.socket, direction: str,
              conv: Conversation, lock: threading.Lock) -> None:
        try:
            while True:
                data = src.recv(CHUNK)
                if not data:
                    break
                self.bucket.take(len(data))
                with lock:  # decoded and traced before it is passed on: an answer can never
                    conv.feed(direction, data)  # be decoded before the request it answers
                    if self.trace is not None:
                        self.trace.data(assoc_id, direction, data)
                dst.sendall(data)
                if self.on_event is not None:
                    _quietly(self.on_event, assoc_id, conv)
        except OSError:
            shut(dst)  # a reset or timeout on one side ends both
            shut(src)
            return
        if isinstance(dst, ssl.SSLSocket) or isinstance(src, ssl.SSLSocket):
            shut(dst)  # TLS has no half-close: the side that ended has had its answer
            return
        try:
            dst.shutdown(socket.SHUT_WR)  # pass the half-close on, as TCP would
        except OSError:
            pass

    def _finish(self, assoc_id: int, conv: Conversation) -> None:
        conv.close()
        if self.on_event is not None:  # the close, and anything decoded last
            _quietly(self.on_event, assoc_id, conv)
        report = summary(conv)
        report["id"] = assoc_id
        with self.lock:
            self.live.pop(assoc_id, None)
            self.ended.append(report)
        self.slots.release()
        if self.trace is not None:
            _quietly(self.trace.close, assoc_id, report)
        if self.on_end is not None:
            _quietly(self.on_end, assoc_id, report)


def shut(sock: socket.socket) -> None:
    """Shut both directions and close, whatever state the peer left the socket in."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _quietly(callback, *args) -> None:
    try:
        callback(*args)
    except Exception:  # noqa: BLE001, S110 - a view's failure must not stop the traffic
        pass
