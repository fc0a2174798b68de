"""MLLP client: frame, send, wait for the ACK under hard deadlines, and explain what came back."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field

from pacs_console.core.dicom.diagnosis import diagnose, diagnose_tls
from pacs_console.core.dicom.ops.results import make_evidence
from pacs_console.core.dicom.wire import tls as tls_mod
from pacs_console.core.errors import Diagnosis
from pacs_console.core.hl7.ack import AckInfo, message_summary, normalise_segments, parse_ack

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
DEFAULT_PORT = 2575
MAX_REPLY = 4 * 1024 * 1024  # an ACK is small; a runaway peer must not fill memory


def frame(text: str, encoding: str = "utf-8") -> bytes:
    return START + text.encode(encoding) + END + CR


def hexdump(data: bytes, limit: int = 512) -> str:
    """Offset, hex and printable columns; the framing bytes are the ones to look at."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset:offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {text}")
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes")
    return "\n".join(lines)


def unframe(data: bytes) -> tuple[bytes, list[str]]:
    """The payload of one MLLP block and what is wrong with its framing (empty list: correct)."""
    problems: list[str] = []
    start = data.find(START)
    if start < 0:
        problems.append("no start byte 0x0B: the peer does not speak MLLP (or answered raw HL7)")
        body = data
    else:
        if start > 0:
            problems.append(f"{start} byte(s) before the start byte 0x0B")
        body = data[start + 1:]
    end = body.find(END)
    if end < 0:
        problems.append("no end byte 0x1C: the reply was cut off or is not MLLP")
    else:
        tail = body[end + 1:]
        if not tail.startswith(CR):
            problems.append("end byte 0x1C is not followed by 0x0D")
        elif len(tail) > 1:
            problems.append(f"{len(tail) - 1} extra byte(s) after 0x1C 0x0D")
        body = body[:end]
    return body, problems


@dataclass
class SendResult:
    """One message sent and its acknowledgement (or why none came)."""

    host: str
    port: int
    message: dict = field(default_factory=dict)
    sent_bytes: int = 0
    reply_bytes: int = 0
    connect_ms: float | None = None
    tls_ms: float | None = None
    ack_ms: float | None = None
    total_ms: float = 0.0
    ack: AckInfo | None = None
    reply_text: str = ""
    framing_problems: list[str] = field(default_factory=list)
    reply_hex: str = ""
    tls: dict | None = None
    diagnosis: Diagnosis | None = None
    parameters: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.ack is not None and self.ack.accepted and self.diagnosis is None

    @property
    def outcome(self) -> str:
        if self.ack is None:
            return "failed"
        if not self.ack.accepted:
            return "failed"
        return "warning" if self.diagnosis is not None else "ok"

    @property
    def label(self) -> str:
        return f"HL7 {self.host}:{self.port}"

    def summary(self) -> str:
        kind = self.message.get("type", "message")
        if self.ack is not None:
            return (f"HL7 {kind} -> {self.ack.code} ({self.ack.meaning.split(':')[0]}) in "
                    f"{self.total_ms:.0f} ms")
        return f"HL7 {kind} failed: {self.diagnosis.what if self.diagnosis else 'no ACK'}"

    def to_dict(self) -> dict:
        return {"host": self.host, "port": self.port, "ok": self.ok, "outcome": self.outcome,
                "message": self.message, "sent_bytes": self.sent_bytes,
                "reply_bytes": self.reply_bytes, "connect_ms": self.connect_ms,
                "tls_ms": self.tls_ms, "ack_ms": self.ack_ms, "total_ms": round(self.total_ms, 3),
                "ack": self.ack.to_dict() if self.ack else None,
                "framing_problems": self.framing_problems, "reply_hex": self.reply_hex,
                "tls": self.tls, "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}

    def evidence(self) -> dict:
        # The reply text may carry patient data: the evidence keeps codes and timings only.
        return make_evidence("hl7-send", self.label, outcome=self.outcome,
                             parameters={**self.parameters, "host": self.host, "port": self.port,
                                         "message_type": self.message.get("type", ""),
                                         "control_id": self.message.get("control_id", "")},
                             metrics={"connect_ms": self.connect_ms, "ack_ms": self.ack_ms,
                                      "ack_code": self.ack.code if self.ack else None,
                                      "errors": [e.line() for e in self.ack.errors]
                                      if self.ack else [],
                                      "framing_problems": self.framing_problems},
                             diagnosis=self.diagnosis, summary=self.summary(),
                             duration_ms=self.total_ms)


def _read_block(sock: socket.socket, deadline: float) -> tuple[bytes, str]:
    """Bytes until 0x1C 0x0D, the peer closing, or the deadline: (data, 'ok'|'closed'|'timeout')."""
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), "timeout"
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return bytes(data), "timeout"
        except OSError:
            return bytes(data), "closed"  # reset by the peer: as good as closed
        if not chunk:
            return bytes(data), "closed"
        data += chunk
        if END + CR in data or len(data) > MAX_REPLY:
            return bytes(data), "ok"


def _no_ack(host: str, port: int, state: str, ack_timeout: float, received: bytes) -> Diagnosis:
    where = f"{host}:{port}"
    evidence = {"ACK timeout": f"{ack_timeout:g} s", "bytes received": str(len(received))}
    if state == "timeout":
        return Diagnosis(
            "hl7-ack-timeout", f"{where} accepted the message but sent no ACK within {ack_timeout:g} s",
            ("the interface engine holds messages until a downstream system answers",
             "the receiver expects another framing or character set and waits for more bytes",
             "the listener is hung or overloaded"),
            ("check the receiver's interface log for this message's control ID",
             "raise --timeout if the receiver is known to be slow",
             "compare the framing with the receiver's specification (0x0B ... 0x1C 0x0D)"),
            evidence)
    return Diagnosis(
        "hl7-closed-without-ack", f"{where} closed the connection without a complete ACK",
        ("the receiver rejected the connection from this IP address",
         "the port is not an MLLP listener (HTTP, DICOM, another protocol)",
         "the receiver needs TLS on this port"),
        ("check the receiver's allowed-sender list", "check the port and whether TLS is required"),
        evidence)


def send(host: str, port: int, text: str, *, connect_timeout: float = 5.0,
         ack_timeout: float = 30.0, tls: tls_mod.TlsConfig | None = None,
         encoding: str = "utf-8") -> SendResult:
    """Send one message; every wait has a hard deadline (python-hl7's client has none)."""
    text = normalise_segments(text)
    result = SendResult(host, port, parameters={"connect_timeout": connect_timeout,
                                                "ack_timeout": ack_timeout, "tls": tls is not None})
    try:
        result.message = message_summary(text)
    except ValueError as exc:
        result.diagnosis = Diagnosis(
            "hl7-invalid-message", f"The message is not valid HL7: {exc}",
            ("a pasted text with lost segment separators", "a file that is not HL7 v2"),
            ("open the file and check it starts with MSH|^~\\&", "retry with --loose"), {})
        return result
    start = time.perf_counter()
    sock = None
    try:
        try:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            result.connect_ms = (time.perf_counter() - start) * 1000
            if tls is not None:
                t0 = time.perf_counter()
                sock = tls_mod.client_context(tls).wrap_socket(
                    sock, server_hostname=tls_mod.server_name(tls, host))
                result.tls_ms = (time.perf_counter() - t0) * 1000
                result.tls = {"protocol": sock.version(), "cipher": (sock.cipher() or ("",))[0]}
        except (OSError, ssl.SSLError) as exc:
            if tls is not None and diagnose_tls.is_tls_error(exc):
                result.diagnosis = diagnose_tls.diagnose_tls_error(
                    exc, host, port, server_name=tls_mod.server_name(tls, host),
                    ca_file=tls.ca_file)
            else:
                result.diagnosis = diagnose.diagnose_socket_error(exc, host, port, connect_timeout)
            return result
        payload = frame(text, encoding)
        sent_at = time.perf_counter()
        try:
            sock.settimeout(ack_timeout)
            sock.sendall(payload)
        except OSError as exc:
            result.diagnosis = _no_ack(host, port, "closed", ack_timeout, b"")
            result.diagnosis.evidence["error"] = str(exc)
            return result
        result.sent_bytes = len(payload)
        reply, state = _read_block(sock, time.monotonic() + ack_timeout)
        result.ack_ms = (time.perf_counter() - sent_at) * 1000
        result.reply_bytes = len(reply)
        _read_reply(result, reply, state, ack_timeout, encoding)
    finally:
        if sock is not None:
            sock.close()
        result.total_ms = (time.perf_counter() - start) * 1000
    return result


def _read_reply(result: SendResult, reply: bytes, state: str, ack_timeout: float,
                encoding: str) -> None:
    if not reply:
        result.diagnosis = _no_ack(result.host, result.port, state, ack_timeout, reply)
        return
    body, problems = unframe(reply)
    result.framing_problems = problems
    if problems:
        result.reply_hex = hexdump(reply)
    result.reply_text = body.decode(encoding, errors="replace")
    try:
        result.ack = parse_ack(result.reply_text)
    except ValueError as exc:
        diag = _no_ack(result.host, result.port, state, ack_timeout, reply) if state != "ok" else None
        result.diagnosis = Diagnosis(
            "hl7-bad-framing" if problems else "hl7-not-an-ack",
            f"The reply from {result.host}:{result.port} is not a readable HL7 ACK: {exc}",
            tuple(problems) or ("the receiver answered with something other than an ACK",),
            ("look at the hex view of the reply", "check the port belongs to the HL7 interface"),
            {"framing": "; ".join(problems) or "correct", "first bytes": reply[:32].hex(" ")}
            | ({"wait": diag.what} if diag else {}))
        return
    if result.ack.control_id and result.ack.control_id != result.message.get("control_id"):
        result.diagnosis = Diagnosis(
            "hl7-ack-mismatch", "The ACK answers another message (MSA-2 differs from MSH-10)",
            ("the receiver answered a previous message late", "a proxy mixed connections"),
            ("send again and compare the control IDs",),
            {"sent MSH-10": result.message.get("control_id", ""),
             "MSA-2": result.ack.control_id})
    elif problems:
        result.diagnosis = Diagnosis(
            "hl7-bad-framing", "The ACK was readable but its MLLP framing is wrong",
            tuple(problems), ("report the framing fault to the receiver's vendor",),
            {"framing": "; ".join(problems)})
    if not result.ack.accepted:
        result.diagnosis = ack_diagnosis(result.ack)


def ack_diagnosis(ack: AckInfo) -> Diagnosis:
    """A negative ACK explained: the code, the receiver's text and each ERR."""
    causes = [e.advice for e in ack.errors if e.advice] or [
        "the receiver rejected the message type, version or processing ID" if ack.code in
        ("AR", "CR") else "the receiver found an error in the message content"]
    evidence = {"MSA-1": f"{ack.code} ({ack.meaning})"}
    if ack.text:
        evidence["MSA-3"] = ack.text
    for index, err in enumerate(ack.errors, 1):
        evidence[f"ERR {index}"] = err.line()
    return Diagnosis(
        f"hl7-nack-{ack.code.lower() or 'unknown'}",
        f"The receiver answered {ack.code}: {ack.meaning}", tuple(causes),
        ("fix the field named in the error and send again",
         "check MSH-3..6 (applications, facilities), MSH-11 and MSH-12 against the interface "
         "specification"), evidence)
