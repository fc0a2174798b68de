"""An MLLP listener that answers ACKs and puts each received message on a queue for display."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field

from pacs_console.core.hl7.ack import build_ack, message_summary
from pacs_console.core.hl7.mllp import CR, END, START, frame, hexdump, unframe
from pacs_console.core.hl7.templates import mask_phi

log = logging.getLogger(__name__)
# How the listener answers: an ACK code, or 'none' to accept and never answer (tests a
# sender's ACK timeout the way a hung interface engine does).
ANSWERS = ("AA", "AE", "AR", "CA", "CE", "CR", "none")
MAX_MESSAGE = 4 * 1024 * 1024  # an ORM or ORU with an embedded PDF fits; a runaway sender does not


@dataclass(frozen=True)
class Hl7Received:
    """One message as the GUI or CLI shows it; ``text`` is masked when the listener masks PHI."""

    received_at: dt.datetime
    peer: str
    message_type: str
    control_id: str
    text: str
    ack_code: str
    framing_problems: tuple[str, ...] = ()
    raw_hex: str = ""
    size: int = 0

    def to_dict(self) -> dict:
        return {"received_at": self.received_at.isoformat(), "peer": self.peer,
                "message_type": self.message_type, "control_id": self.control_id,
                "text": self.text, "ack_code": self.ack_code,
                "framing_problems": list(self.framing_problems), "raw_hex": self.raw_hex,
                "size": self.size}


@dataclass
class ListenerOptions:
    answer: str = "AA"
    mask_phi: bool = True
    application: str = "PACSCONSOLE"
    idle_timeout: float = 300.0  # an idle sender connection is closed after this
    ack_delay: float = 0.0
    error_text: str = ""
    max_message: int = MAX_MESSAGE  # bytes; a larger message gets AR and the connection closes
    extra: dict = field(default_factory=dict)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(self.server.options.idle_timeout)
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        if self.server.ssl_context is not None:
            # Handshake on the connection's own thread: a silent client blocks only itself.
            try:
                sock = self.server.ssl_context.wrap_socket(sock, server_side=True)
            except OSError as exc:
                log.warning("HL7 TLS handshake with %s failed: %s", peer, exc)
                return
        buffer = bytearray()
        while not self.server.stopping.is_set():
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, OSError):
                return
            if not chunk:
                if buffer.strip():
                    self.server.accept_safely(bytes(buffer), peer, sock)
                return
            scan_from = max(0, len(buffer) - 1)  # only new bytes are searched: linear
            buffer += chunk
            # One connection may carry many messages (interface engines keep it open).
            while (cut := buffer.find(END + CR, scan_from)) >= 0:
                block, buffer = bytes(buffer[:cut + 2]), buffer[cut + 2:]
                scan_from = 0
                if not self.server.accept_safely(block, peer, sock):
                    return
            if len(buffer) > self.server.options.max_message:
                self.server.refuse_oversized(bytes(buffer[:4096]), len(buffer), peer, sock)
                return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, options: ListenerOptions, notify, ssl_context) -> None:
        self.options, self.notify, self.ssl_context = options, notify, ssl_context
        self.stopping = threading.Event()
        self.count = 0
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def accept_safely(self, block: bytes, peer: str, sock: socket.socket) -> bool:
        """``accept_block`` inside the per-message boundary: any failure is logged, answered
        AE when possible, and ends only this connection (False)."""
        if len(block) > self.options.max_message:
            self.refuse_oversized(block[:4096], len(block), peer, sock)
            return False
        try:
            self.accept_block(block, peer, sock)
            return True
        except Exception:  # noqa: BLE001 - one bad message never stops the listener
            log.exception("HL7 message from %s could not be handled", peer)
            return False

    def refuse_oversized(self, head: bytes, size: int, peer: str, sock: socket.socket) -> None:
        """A message over ``max_message``: a negative ACK (AR), recorded, connection closed."""
        limit = self.options.max_message
        text = unframe(head)[0].decode("utf-8", errors="replace")
        problem = f"message larger than {limit} bytes ({size}+ received): refused unread"
        try:
            info = message_summary(text)
        except ValueError:
            info = {"type": "", "control_id": ""}
        record = Hl7Received(dt.datetime.now(dt.UTC), peer, info["type"], info["control_id"],
                             "", "AR", (problem,), hexdump(head[:256]), size)
        with self._lock:
            self.count += 1
        log.warning("HL7 from %s: %s", peer, problem)
        if self.notify is not None:
            self.notify.put(record)
        try:
            sock.sendall(frame(build_ack(text, "AR", f"message larger than {limit} bytes",
                                         error_code="104", application=self.options.application)))
        except OSError:
            pass

    def accept_block(self, block: bytes, peer: str, sock: socket.socket) -> None:
        body, problems = unframe(block)
        text = body.decode("utf-8", errors="replace")
        opts = self.options
        try:
            info = message_summary(text)
            ack_code = opts.answer
        except ValueError:
            info = {"type": "", "control_id": ""}
            ack_code = "AR" if opts.answer != "none" else "none"
        record = Hl7Received(dt.datetime.now(dt.UTC), peer, info["type"], info["control_id"],
                             mask_phi(text) if opts.mask_phi else text, ack_code,
                             tuple(problems), hexdump(block) if problems else "", len(block))
        with self._lock:
            self.count += 1
        # Type and control ID only: the message itself may name a patient.
        log.info("HL7 %s %s from %s, answered %s", info["type"], info["control_id"], peer, ack_code)
        if self.notify is not None:
            self.notify.put(record)
        if ack_code == "none":
            return
        if opts.ack_delay:
            time.sleep(opts.ack_delay)
        try:
            sock.sendall(frame(build_ack(text, ack_code, opts.error_text,
                                         application=opts.application)))
        except OSError:
            pass  # the sender gave up waiting; nothing to answer


class Hl7Listener:
    """``Hl7Listener(port, notify=queue).start()``; ``stop()`` closes it. Port 0 picks one."""

    def __init__(self, port: int = 2575, *, host: str = "0.0.0.0",
                 options: ListenerOptions | None = None,
                 notify: queue.Queue | queue.SimpleQueue | None = None,
                 cert_file: str = "", key_file: str = "") -> None:
        self.host, self.port = host, port
        self.options = options or ListenerOptions()
        if self.options.answer not in ANSWERS:
            raise ValueError(f"answer {self.options.answer!r} not one of {', '.join(ANSWERS)}")
        self.notify = notify
        self.cert_file, self.key_file = cert_file, key_file
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def count(self) -> int:
        return self._server.count if self._server else 0

    def start(self) -> Hl7Listener:
        context = None
        if self.cert_file:
            from pacs_console.core.dicom.wire.tls import server_context

            context = server_context(self.cert_file, self.key_file)
        self._server = _Server((self.host, self.port), self.options, self.notify, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name=f"hl7-listener-{self.port}")
        self._thread.start()
        log.info("HL7 listener on %s:%s answering %s", self.host, self.port, self.options.answer)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stopping.set()
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)


__all__ = ["ANSWERS", "Hl7Listener", "Hl7Received", "ListenerOptions", "START"]
